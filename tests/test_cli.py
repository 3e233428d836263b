"""The `graph-agents` command in subprocesses: the demo's error paths, `graph` and
`--version`, with exact exit codes and one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

APP = """
from graph_agents import Agent, create_network
from graph_agents.testing import ScriptedModel

network = create_network(
    [
        Agent("Alpha", "a", model=ScriptedModel(["x"])),
        Agent("Beta", "b", model=ScriptedModel(["y"])),
    ],
    name="pair",
)
"""


def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return subprocess.run(
        [sys.executable, "-m", "graph_agents.cli", *args],
        cwd=cwd,
        env={**clean, "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["demo", ""], "graph-agents demo: the query '' is empty; pass a request"),
        (
            ["demo", "--state", "/proc/nowhere/demo.sqlite"],
            "graph-agents demo: --state '/proc/nowhere/demo.sqlite': cannot create "
            "'/proc/nowhere' (No such file or directory)",
        ),
        (["demo", "--state", "."], "graph-agents demo: --state '.' is a directory"),
        (
            ["demo", "--state", "d.sqlite", "--thread", "does-not-exist"],
            "graph-agents demo: --thread 'does-not-exist': 'd.sqlite' has no such thread; "
            "omit --thread to start a new one.",
        ),
    ],
)
def test_demo_errors_are_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith(message)
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_the_demo_puts_tool_calls_and_text_on_their_own_lines(tmp_path: Path) -> None:
    done = cli("demo", "--state", "d.sqlite", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    call = lines.index("  -> search_web({'query': 'quantum computing'})")
    assert lines[call + 1] == "    Research done."
    assert lines[call - 1] == "[Researcher] "


def test_graph_command(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    text = cli("graph", "app.py:network", cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("flowchart TD\n")
    assert 'agent_Alpha["Alpha"]' in text.stdout
    ascii_art = cli("graph", "app.py:network", "--format", "ascii", cwd=tmp_path)
    assert ascii_art.returncode == 0, ascii_art.stderr
    assert "| Alpha |" in ascii_art.stdout
    png = cli("graph", "app.py:network", "--format", "png", "-o", "team.png", cwd=tmp_path)
    assert png.returncode == 0, png.stderr
    assert png.stdout == "wrote team.png\n"
    assert (tmp_path / "team.png").read_bytes()[:4] == b"\x89PNG"
    page = cli("graph", "app.py:network", "--format", "html", cwd=tmp_path)
    assert page.returncode == 0, page.stderr
    assert page.stdout == "wrote pair.html\n"
    assert "mermaid.initialize" in (tmp_path / "pair.html").read_text()
    wrong = cli("graph", "app.py:network", "--format", "png", "-o", "team.svg", cwd=tmp_path)
    assert wrong.returncode == 2
    assert wrong.stderr == (
        "graph-agents graph: --format png writes a .png file; name the output 'team.png', "
        "or pick the format its suffix says.\n"
    )
    missing = cli("graph", "nowhere.py:network", cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr == (
        "graph-agents graph: 'nowhere.py' is not a file; give the path to your app module.\n"
    )


def test_version_and_help(tmp_path: Path) -> None:
    done = cli("--version", cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.startswith("graph-agents ")
    for command in ("demo", "serve", "graph"):
        shown = cli(command, "--help", cwd=tmp_path)
        assert shown.returncode == 0
        assert shown.stdout.startswith(f"usage: graph-agents {command}")
