"""The `graph-agents` command in subprocesses: the demo's error paths, `graph` and
`--version`, with exact exit codes and one-line errors."""

from __future__ import annotations

import os
import signal
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
    for command in ("demo", "serve", "graph", "run", "resume", "threads"):
        shown = cli(command, "--help", cwd=tmp_path)
        assert shown.returncode == 0
        assert shown.stdout.startswith(f"usage: graph-agents {command}")


SHOP = """
from langchain_core.messages import ToolMessage

from graph_agents import Agent, create_network, tool_from
from graph_agents.state import SqliteStateStore
from graph_agents.testing import ScriptedModel, ScriptedResponse, ToolCall


async def pay(amount: int) -> str:
    \"\"\"Pay someone.

    Args:
        amount: Euros.
    \"\"\"
    return f"paid {amount}"


def clerk(messages):
    last = messages[-1]
    if isinstance(last, ToolMessage):
        return ScriptedResponse(text=f"Done: {last.text}.")
    if "slowly" in last.text:
        return ScriptedResponse(text="one two three four five six seven eight", token_delay=0.5)
    return ToolCall("pay", {"amount": 5})


network = create_network(
    [Agent("Clerk", "c", tools=[tool_from(pay, requires_approval=True)],
           model=ScriptedModel(responder=clerk))],
    state_store=SqliteStateStore("shop.sqlite"),
    name="shop",
)
"""


def test_run_resume_and_threads_against_sqlite(tmp_path: Path) -> None:
    (tmp_path / "shop.py").write_text(SHOP)
    started = cli("run", "shop.py:network", "pay 5", cwd=tmp_path)
    assert started.returncode == 3, started.stderr
    lines = started.stdout.splitlines()
    assert lines[0] == "Clerk"
    assert "  ?? approval needed: pay" in lines
    [hint] = [line for line in lines if line.startswith("answer it:")]
    thread = hint.split()[5]
    assert hint == (
        f"answer it: graph-agents resume shop.py:network {thread} --approve "
        "(or --reject --feedback '...')"
    )
    listed = cli("threads", "list", "shop.py:network", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    [row] = listed.stdout.splitlines()
    assert row.startswith(f"{thread}  ")
    assert row.endswith("  interrupted  Clerk")
    shown = cli("threads", "show", "shop.py:network", thread, cwd=tmp_path)
    assert shown.returncode == 0
    assert "stop reason: interrupted" in shown.stdout
    assert "waiting:     apr_" in shown.stdout
    unanswered = cli("resume", "shop.py:network", thread, cwd=tmp_path)
    assert unanswered.returncode == 2
    assert unanswered.stderr.startswith(f"graph-agents resume: Thread {thread!r} waits for")
    approved = cli("resume", "shop.py:network", thread, "--approve", cwd=tmp_path)
    assert approved.returncode == 0, approved.stderr
    assert "  -> pay({'amount': 5})" in approved.stdout
    assert "output: Done: paid 5." in approved.stdout
    history = cli("threads", "history", "shop.py:network", thread, "--limit", "2", cwd=tmp_path)
    assert history.returncode == 0
    assert len(history.stdout.splitlines()) == 2
    other = cli(
        "run",
        "shop.py:network",
        "pay 5",
        "--store",
        f"sqlite:///{tmp_path / 'b.sqlite'}",
        cwd=tmp_path,
    )
    assert other.returncode == 3
    assert (tmp_path / "b.sqlite").exists()
    again = cli("threads", "list", "shop.py:network", cwd=tmp_path)
    assert len(again.stdout.splitlines()) == 1  # the other store's thread is not here


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["run", "shop.py:network"], 2, "graph-agents run: 'shop.py:network' is a network: pass"),
        (
            ["run", "shop.py:network", "x", "--thread", "nope"],
            2,
            "graph-agents run: --thread 'nope': the store has no such thread",
        ),
        (
            ["run", "shop.py:network", "x", "--store", "redis://x"],
            2,
            "graph-agents run: --store 'redis://x': use sqlite:///path",
        ),
        (["resume", "shop.py:network", "nope"], 2, "graph-agents resume: thread 'nope': the "),
        (["threads", "show", "shop.py:network", "nope"], 2, "graph-agents threads: thread 'nope'"),
        (["run", "shop.py:missing", "x"], 2, "graph-agents run: 'shop.py' has no attribute"),
    ],
)
def test_cli_errors(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    (tmp_path / "shop.py").write_text(SHOP)
    done = cli(*args, cwd=tmp_path)
    assert done.returncode == code
    assert done.stderr.startswith(message)
    assert len(done.stderr.strip().splitlines()) == 1


def test_ctrl_c_stops_the_run_and_the_thread_stays_resumable(tmp_path: Path) -> None:
    (tmp_path / "shop.py").write_text(SHOP)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "graph_agents.cli", "run", "shop.py:network", "slowly please"],
        cwd=tmp_path,
        env={**clean, "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first == "Clerk\n"
    assert process.stdout.read(3) == "one"  # the first token is out, seven still to come
    process.send_signal(signal.SIGINT)
    # Read through the same buffered file as readline() above: communicate() reads the
    # pipe underneath it and would miss what that buffer already holds.
    out = process.stdout.read()
    assert process.stderr is not None
    err = process.stderr.read()
    assert process.wait(timeout=60) == 130
    assert "eight" not in out
    assert (
        err.strip()
        .splitlines()[-1]
        .startswith("graph-agents run: interrupted; the thread stays resumable")
    )
    listed = cli("threads", "list", "shop.py:network", cwd=tmp_path)
    [row] = listed.stdout.splitlines()
    thread = row.split()[0]
    assert row.endswith("  unfinished  ")  # stopped inside its first model call
    resumed = cli("resume", "shop.py:network", thread, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "one two three four five six seven eight" in resumed.stdout
