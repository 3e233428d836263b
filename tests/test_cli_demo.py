"""`graph-agents demo`, offline and against an OpenAI-compatible endpoint."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from graph_agents.testing import OpenAIStubServer, ScriptedResponse, StubItem, ToolCall


def run_demo(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "graph_agents.cli",
            "demo",
            "--state",
            str(tmp_path / "demo.sqlite"),
        ],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_runs_offline(tmp_path: Path) -> None:
    done = run_demo(tmp_path, {})
    assert done.returncode == 0, done.stderr
    assert "on the offline scripted model" in done.stdout
    assert "agent_path: Researcher -> Writer -> Reviewer" in done.stdout
    assert "output:     Approved: the guide is accurate, short and well structured." in done.stdout
    assert "state keys: ['draft', 'research_history', 'research_results', 'review']" in (
        done.stdout
    )
    assert (tmp_path / "demo.sqlite").exists()
    assert "(memory: stored observation)" in done.stdout
    assert "recalled" not in done.stdout  # nothing to recall on a first run
    again = run_demo(tmp_path, {})
    assert again.returncode == 0, again.stderr
    assert "(memory: recalled 1 from earlier runs)" in again.stdout
    assert (tmp_path / "demo.memory").is_dir()


def test_demo_uses_the_configured_endpoint(tmp_path: Path) -> None:
    def respond(body: dict[str, Any]) -> StubItem:
        system = body["messages"][0]["content"]
        own_results = sum(1 for m in body["messages"] if m["role"] == "tool")
        if system.startswith("You research"):
            step = [
                ToolCall("search_web", {"query": "quantum computing"}),
                ToolCall("transfer_to_writer", {}),
            ][min(own_results, 1)]
            return ScriptedResponse(tool_calls=[step])
        if system.startswith("You write"):
            step = [
                ToolCall("format_markdown", {"title": "Q", "body": "Qubits hold"}),
                ToolCall("transfer_to_reviewer", {}),
            ][min(own_results - 2, 1)]
            return ScriptedResponse(tool_calls=[step])
        if own_results < 5:
            return ScriptedResponse(tool_calls=[ToolCall("fact_check", {})])
        return "Real endpoint says: approved."

    with OpenAIStubServer(responder=respond, api_key="sk-demo") as stub:
        done = run_demo(tmp_path, {"OPENAI_BASE_URL": stub.base_url, "OPENAI_API_KEY": "sk-demo"})
        models = {body["model"] for body in stub.chat_requests}
    assert done.returncode == 0, done.stderr
    assert "on a real model endpoint" in done.stdout
    assert "output:     Real endpoint says: approved." in done.stdout
    assert "agent_path: Researcher -> Writer -> Reviewer" in done.stdout
    assert models == {"gpt-4o-mini"}
