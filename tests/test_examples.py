"""The README quickstart and the examples run as written."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from graph_agents.testing import OpenAIStubServer

ROOT = Path(__file__).resolve().parents[1]


def load(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def test_seed_quickstart_runs_against_the_stub(monkeypatch: pytest.MonkeyPatch) -> None:
    example = load(ROOT / "examples" / "network_example.py")
    with OpenAIStubServer(responder=example.scripted_endpoint) as stub:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        result = await example.main()
        embedding_models = {r.body["model"] for r in stub.requests if r.path.endswith("embeddings")}
        chat_models = {body["model"] for body in stub.chat_requests}
    assert result["agent_path"] == ["Researcher", "Writer", "Reviewer"]
    assert result["output"] == (
        "The guide is accurate and well structured: approved for publication."
    )
    state = result["state"]
    assert state["research_history"] == ["quantum computing"]
    assert state["research_results"].startswith("Quantum computers use qubits")
    assert (
        state["key_points"][0]
        == "Quantum computers use qubits, which hold superpositions of 0 and 1"
    )
    assert state["draft"].startswith("# Quantum computing: a guide\n\nQubits hold superpositions.")
    assert state["fact_check"] == {"supported": 3, "total": 3}
    assert state["suggestions"] == []
    assert embedding_models == {"text-embedding-3-small"}
    assert chat_models == {"gpt-4"}


def run_example(name: str) -> subprocess.CompletedProcess[str]:
    """Run ``examples/<name>`` as a script, offline: no OPENAI_* variables."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name)],
        env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT), "HF_HUB_OFFLINE": "1"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_network_example_runs_offline_as_a_script() -> None:
    done = run_example("network_example.py")
    assert "agent_path: Researcher -> Writer -> Reviewer" in done.stdout
    traced = [line.split(" -> ")[0] for line in done.stdout.splitlines() if "ms" in line]
    assert traced == ["Researcher", "Writer", "Reviewer"]


def test_readme_quickstart_prints_what_it_shows() -> None:
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quickstart\n\n```python\n(.*?)```", readme, re.S)
    assert block is not None
    code = block.group(1)
    expected = [line[2:] for line in code.splitlines() if line.startswith("# ")]
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == expected


def test_routing_example_runs_offline() -> None:
    done = run_example("routing_example.py")
    lines = done.stdout.splitlines()
    assert (
        "'What are your opening hours?'             -> Helpdesk   (no rule matched; fell "
        "back to 'Helpdesk')" in lines
    )
    # adapt(): two plain example lists of two requests; 3 epochs of 2 one-pair-per-agent batches.
    adapted = lines.index("== SemanticRouter after adapt(): 6 training steps on 4 examples")
    assert lines[adapted + 1].startswith("'Why was I billed two times?'              -> Billing")
    assert lines[adapted + 3].startswith("'What are your opening hours?'             -> Helpdesk")
    assert (
        "'urgent: refund me'                        -> Tech       (rule 'urgent' "
        "(priority 10) matched)" in lines
    )
    assert any(
        line.startswith("'Why was I billed two times?'              -> Tech -> Billing")
        for line in lines
    )


async def test_seed_workflow_runs_against_the_stub(monkeypatch: pytest.MonkeyPatch) -> None:
    example = load(ROOT / "examples" / "workflow_example.py")
    with OpenAIStubServer(responder=example.scripted_endpoint) as stub:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        result = await example.main("AI Safety")
        prompts = [body["messages"][-1]["content"] for body in stub.chat_requests]
    assert result.path == [
        "s1_researcher",
        "s2_parallel_1_writer",
        "s2_parallel_2_writer",
        "s3_reviewer",
        "s4_conditional_then_writer",
    ]
    assert result.outputs["s3_reviewer"] == example.Review(
        review_score=7, feedback="Add concrete examples of oversight."
    )
    assert result.state["review_score"] == 7
    assert (
        result.output == "[Revise based on feedback] A clear, well-structured section on AI safety."
    )
    assert prompts[0] == "Research AI Safety"
    assert sorted(p.splitlines()[0] for p in prompts[1:3]) == [
        "Write introduction",
        "Write main content",
    ]
    assert prompts[3].startswith("Review complete document\n\nContext from the previous step:\n")
    assert len(prompts) == 5


def test_workflow_example_runs_offline_as_a_script() -> None:
    done = run_example("workflow_example.py")
    assert done.stdout.splitlines()[0] == (
        "path:   s1_researcher -> s2_parallel_1_writer -> s2_parallel_2_writer -> s3_reviewer "
        "-> s4_conditional_then_writer"
    )


def test_approval_example_runs_offline_as_a_script(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "approval_example.py")],
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "stop_reason: interrupted"
    assert lines[1].startswith("waiting:     apr_")
    assert lines[1].endswith(" Banker: transfer_money {'amount': 500, 'to': 'Eve'}")
    assert lines[2:] == [
        "stop_reason: completed",
        "output:      Done: A human approved this call with changed arguments (amount: 500 -> "
        "450).",
        "Their feedback: 450 is the agreed price.",
        "Sent 450 EUR to Eve (attempt 1).",
        "ledger:      [(450, 'Eve')]",
    ]
    assert (tmp_path / ".graph_agents" / "approval_example.sqlite").exists()


def test_typing_user_script_runs_offline() -> None:
    """tests/typing/user_script.py type-checks in scripts/test.sh; here it must also run."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "typing" / "user_script.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert done.stdout.startswith("Qubits are neat. ['Researcher'] {'history': ['qubits']}\n")


async def test_the_ui_streaming_console_example_streams_lanes_and_approves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sys.path.insert(0, str(ROOT / "examples" / "ui_streaming"))
    try:
        example = load(ROOT / "examples" / "ui_streaming" / "stream_console.py")
        outcome = await example.main(str(tmp_path / "console.sqlite"))
    finally:
        sys.path.remove(str(ROOT / "examples" / "ui_streaming"))
    paused, result, lanes = outcome["paused"], outcome["result"], outcome["lanes"]
    assert paused.stop_reason == "interrupted"
    assert [r.tool for r in paused.interrupts] == ["book_flight"]
    assert result.stop_reason == "completed"
    assert result.output.endswith("is booked (confirmation GA-7731).")
    assert result.agent_path == ["Concierge", "Weather", "Guide"]
    assert result.state == {
        "destination": "Lisbon",
        "bookings": ["TP 1350 to Lisbon, Friday 09:40, 180 EUR"],
    }
    delegated = sorted(text for lane, text in lanes.items() if lane.startswith("ask:"))
    assert delegated == [
        "Start at the Belém Tower, then tram 28 through Alfama.",
        "Sunny, 24 °C on Saturday, a light breeze on Sunday.",
    ]
    assert "waiting for approval: book_flight" in capsys.readouterr().out


def test_the_memory_example_remembers_across_processes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    example = load(ROOT / "examples" / "memory_example.py")
    outcome = example.main(tmp_path / "memory")
    assert outcome["first"] == {
        "output": "Noted: vegetarian meals and window seats, always.",
        "kinds": ["observation"],
    }
    assert outcome["second"]["output"] == (
        "Booked: a window seat to Lisbon, and a vegetarian dinner on board."
    )
    assert outcome["second"]["kinds"] == ["observation", "observation", "reflection"]
