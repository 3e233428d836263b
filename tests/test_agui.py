"""POST /ag-ui: every event validates against ag-ui-protocol's models, the mapping's
order, interrupts answered by resume entries, and the AG-UI project's own TypeScript
client (@ag-ui/client's HttpAgent, run by node) driving it unchanged."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from ag_ui.core import Event as AGUIEvent
from pydantic import TypeAdapter

from graph_agents import Agent, SharedState, create_network
from graph_agents.server import create_app
from graph_agents.testing import ScriptedModel, ScriptedResponse, ToolCall

from .test_server import payment_network
from .web import running

CLIENT_DIR = Path(__file__).with_name("agui_client")
EVENTS: TypeAdapter[Any] = TypeAdapter(AGUIEvent)


async def note(topic: str, state: SharedState) -> str:
    """Take a note.

    Args:
        topic: The topic.
    """
    await state.set("topic", topic)
    await state.append("notes", f"about {topic}")
    return f"Noted {topic}."


def research_network() -> Any:
    boss = ScriptedModel(
        responder=lambda messages: (
            ScriptedResponse(
                text="Checking.",
                tool_calls=[
                    ToolCall("note", {"topic": "owls"}, id="n1"),
                    ToolCall("ask_helper", {"task": "owl facts"}, id="d1"),
                ],
            )
            if messages[-1].type == "human"
            else "Owls fly silently."
        )
    )
    helper = ScriptedModel(responder=lambda messages: "They hunt at night.")
    return create_network(
        agents=[
            Agent("Boss", "Lead.", model=boss, tools=[note]),
            Agent("Helper", "Help.", model=helper),
        ]
    )


def run_input(thread: str, run: str, text: str, **extra: Any) -> dict[str, Any]:
    return {
        "threadId": thread,
        "runId": run,
        "messages": [{"id": "u1", "role": "user", "content": text}],
        "state": {},
        "tools": [],
        "context": [],
        "forwardedProps": {},
        **extra,
    }


def agui_events(client: httpx.Client, body: dict[str, Any]) -> list[Any]:
    response = client.post("/ag-ui", json=body, headers={"Accept": "text/event-stream"}, timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    out = []
    for block in response.text.split("\n\n"):
        if block.startswith("data: "):
            out.append(EVENTS.validate_python(json.loads(block[6:])))
    return out


@pytest.fixture
def research_server() -> Iterator[httpx.Client]:
    with running(create_app(research_network())) as base, httpx.Client(base_url=base) as client:
        yield client


def test_every_event_is_an_ag_ui_event_in_protocol_order(research_server: httpx.Client) -> None:
    events = agui_events(research_server, run_input("t-1", "r-1", "Tell me about owls"))
    types = [e.type.value for e in events]
    assert types[:3] == ["RUN_STARTED", "STATE_SNAPSHOT", "STEP_STARTED"]
    assert types[-2:] == ["STATE_SNAPSHOT", "RUN_FINISHED"]
    assert events[0].thread_id == "t-1"
    assert events[0].run_id == "r-1"
    texts: dict[str, str] = {}
    for e in events:
        if e.type.value == "TEXT_MESSAGE_CONTENT":
            texts[e.message_id] = texts.get(e.message_id, "") + e.delta
    assert sorted(texts.values()) == ["Checking.", "Owls fly silently.", "They hunt at night."]
    starts = {e.tool_call_id: e.tool_call_name for e in events if e.type.value == "TOOL_CALL_START"}
    assert starts == {"n1": "note", "d1": "ask_helper"}
    results = {e.tool_call_id: e.content for e in events if e.type.value == "TOOL_CALL_RESULT"}
    assert results == {"n1": "Noted owls.", "d1": "They hunt at night."}
    args = {e.tool_call_id: json.loads(e.delta) for e in events if e.type.value == "TOOL_CALL_ARGS"}
    assert args == {"n1": {"topic": "owls"}, "d1": {"task": "owl facts"}}
    # The delegation is a subagent: its events carry its lane, bracketed by start/finish.
    sub = [e for e in events if getattr(e, "subagent_run_id", None) == "ask:d1"]
    assert sub[0].type.value == "SUBAGENT_STARTED"
    assert sub[0].name == "Helper"
    assert sub[0].parent_tool_call_id == "d1"
    assert sub[-1].type.value == "SUBAGENT_FINISHED"
    assert {e.type.value for e in sub[1:-1]} == {
        "STEP_STARTED",
        "STEP_FINISHED",
        "TEXT_MESSAGE_START",
        "TEXT_MESSAGE_CONTENT",
        "TEXT_MESSAGE_END",
    }
    finished_at = types.index("SUBAGENT_FINISHED")
    assert types[finished_at + 1] == "TOOL_CALL_RESULT"
    deltas = [e.delta for e in events if e.type.value == "STATE_DELTA"]
    assert [[op.model_dump(mode="json") for op in delta] for delta in deltas] == [
        [
            {"op": "add", "path": "/notes", "value": ["about owls"]},
            {"op": "add", "path": "/topic", "value": "owls"},
        ]
    ]
    assert events[-2].snapshot == {"topic": "owls", "notes": ["about owls"]}
    assert events[-1].result == "Owls fly silently."
    assert events[-1].outcome.type == "success"


def test_an_approval_is_an_interrupt_answered_by_a_resume_entry(tmp_path: Path) -> None:
    with (
        running(create_app(payment_network(tmp_path))) as base,
        httpx.Client(base_url=base) as client,
    ):
        paused = agui_events(client, run_input("pay-1", "r-1", "Pay Eve"))
        finished = paused[-1]
        assert finished.type.value == "RUN_FINISHED"
        assert finished.outcome.type == "interrupt"
        [interrupt] = finished.outcome.interrupts
        assert interrupt.reason == "tool_approval"
        assert interrupt.tool_call_id is not None
        assert interrupt.response_schema["required"] == ["approve"]
        refused = agui_events(
            client,
            run_input(
                "pay-1",
                "r-2",
                "Pay Eve",
                resume=[{"interruptId": "apr_unknown", "status": "resolved", "payload": True}],
            ),
        )
        assert [e.type.value for e in refused] == ["RUN_ERROR"]
        assert interrupt.id in refused[0].message
        done = agui_events(
            client,
            run_input(
                "pay-1",
                "r-3",
                "Pay Eve",
                resume=[
                    {
                        "interruptId": interrupt.id,
                        "status": "resolved",
                        "payload": {"approve": True},
                    }
                ],
            ),
        )
        assert done[-1].outcome.type == "success"
        assert done[-1].result == "Result: Paid 500 EUR to Eve."
        results = [e.content for e in done if e.type.value == "TOOL_CALL_RESULT"]
        assert results == ["Paid 500 EUR to Eve."]


def test_a_bad_input_is_a_clear_error(research_server: httpx.Client) -> None:
    assert research_server.post("/ag-ui", json={"threadId": "x"}).status_code == 422
    no_text = agui_events(research_server, {**run_input("t", "r", ""), "messages": []})
    assert [e.type.value for e in no_text] == ["RUN_ERROR"]
    assert "no user message" in no_text[0].message


@pytest.fixture(scope="module")
def agui_client() -> Path:
    """@ag-ui/client from the npm registry, installed once into tests/agui_client."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("node and npm are needed for the AG-UI interop test (Debian: nodejs npm)")
    installed = CLIENT_DIR / "node_modules" / "@ag-ui" / "client" / "package.json"
    if not installed.exists():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=CLIENT_DIR,
            check=True,
            timeout=600,
            capture_output=True,
        )
    return CLIENT_DIR


def node_run(base: str, thread: str, text: str, answer: str | None = None) -> dict[str, Any]:
    args = ["node", str(CLIENT_DIR / "run_agent.mjs"), f"{base}/ag-ui", thread, text]
    if answer:
        args.append(answer)
    done = subprocess.run(args, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return out


def test_the_ag_ui_typescript_client_gets_text_tool_calls_and_state(agui_client: Path) -> None:
    with running(create_app(research_network())) as base:
        seen = node_run(base, "thread-ts", "Tell me about owls")
    first = seen["first"]
    assert first["errors"] == []
    assert first["types"][0] == "RUN_STARTED"
    assert first["types"][-1] == "RUN_FINISHED"
    assert first["outcome"] == {"type": "success"}
    assert first["result"] == "Owls fly silently."
    assert seen["state"] == {"topic": "owls", "notes": ["about owls"]}
    messages = seen["messages"]
    assistant = [m for m in messages if m["role"] == "assistant"]
    calls = {
        c["id"]: (c["function"]["name"], json.loads(c["function"]["arguments"]))
        for m in assistant
        for c in m.get("toolCalls", [])
    }
    assert calls == {"n1": ("note", {"topic": "owls"}), "d1": ("ask_helper", {"task": "owl facts"})}
    tools = {m["toolCallId"]: m["content"] for m in messages if m["role"] == "tool"}
    assert tools == {"n1": "Noted owls.", "d1": "They hunt at night."}
    texts = sorted(m["content"] for m in assistant if m.get("content"))
    assert texts == ["Checking.", "Owls fly silently.", "They hunt at night."]
    assert ["SUBAGENT_STARTED", "ask:d1"] in first["subagents"]


def test_the_typescript_client_answers_an_interrupt_on_the_same_thread(
    agui_client: Path, tmp_path: Path
) -> None:
    with running(create_app(payment_network(tmp_path))) as base:
        seen = node_run(base, "thread-pay", "Pay Eve", "approve")
    assert seen["first"]["outcome"]["type"] == "interrupt"
    assert seen["first"]["errors"] == []
    second = seen["second"]
    assert second["errors"] == []
    assert second["outcome"] == {"type": "success"}
    assert second["result"] == "Result: Paid 500 EUR to Eve."
    tools = [m["content"] for m in seen["messages"] if m["role"] == "tool"]
    assert tools == ["Paid 500 EUR to Eve."]


def test_a_human_approval_tool_request_is_a_human_approval_interrupt() -> None:
    from graph_agents.tools import human_approval_tool

    model = ScriptedModel(
        responder=lambda messages: (
            ToolCall("human_approval_tool", {"action": "delete 3 branches", "details": "old"})
            if messages[-1].type == "human"
            else "ok"
        )
    )
    network = create_network(agents=[Agent("A", "a", model=model, tools=[human_approval_tool])])
    with running(create_app(network)) as base, httpx.Client(base_url=base) as client:
        paused = agui_events(client, run_input("h-1", "r-1", "Clean up"))
    [interrupt] = paused[-1].outcome.interrupts
    assert interrupt.reason == "human_approval"
    assert interrupt.message == "delete 3 branches: old"


def test_a_run_that_fails_after_it_started_ends_with_one_run_error() -> None:
    def router(state: Any, query: str) -> str:
        raise KeyError("router down")

    network = create_network(agents=[Agent("A", "a", model=ScriptedModel(["x"]))], router=router)
    with running(create_app(network)) as base, httpx.Client(base_url=base) as client:
        events = agui_events(client, run_input("f-1", "r-1", "go"))
    assert [e.type.value for e in events] == ["RUN_STARTED", "STATE_SNAPSHOT", "RUN_ERROR"]
    assert "router down" in events[-1].message


def test_a_workflow_takes_its_inputs_from_forwarded_props() -> None:
    from graph_agents import Step, create_workflow

    workflow = create_workflow(
        "shout",
        [Agent("Writer", "Write.", model=ScriptedModel(responder=lambda m: m[-1].text))],
        steps=[Step.agent("writer", "About {topic}"), Step.transform(str.upper)],
    )
    with running(create_app(workflow)) as base, httpx.Client(base_url=base) as client:
        body = run_input("w-1", "r-1", "ignored", forwardedProps={"inputs": {"topic": "moths"}})
        events = agui_events(client, body)
    assert events[-1].type.value == "RUN_FINISHED"
    assert events[-1].result == "ABOUT MOTHS"
    steps = [e.step_name for e in events if e.type.value == "STEP_STARTED"]
    assert steps == ["s1_writer", "Writer", "s2_transform"]


def test_a_nested_delegation_is_a_subagent_of_its_caller() -> None:
    boss = ScriptedModel(
        responder=lambda m: (
            ToolCall("ask_mid", {"task": "ask leaf"}, id="a")
            if m[-1].type == "human"
            else "boss done"
        )
    )
    mid = ScriptedModel(
        responder=lambda m: (
            ToolCall("ask_leaf", {"task": "leaf work"}, id="b")
            if m[-1].type == "human"
            else "mid done"
        )
    )
    network = create_network(
        agents=[
            Agent("Boss", "b", model=boss),
            Agent("Mid", "m", model=mid),
            Agent("Leaf", "l", model=ScriptedModel(responder=lambda m: "leaf done")),
        ]
    )
    with running(create_app(network)) as base, httpx.Client(base_url=base) as client:
        events = agui_events(client, run_input("n-1", "r-1", "go"))
    started = [
        (e.subagent_run_id, e.name, e.parent_subagent_run_id, e.parent_tool_call_id)
        for e in events
        if e.type.value == "SUBAGENT_STARTED"
    ]
    assert started == [("ask:a", "Mid", None, "a"), ("ask:a/ask:b", "Leaf", "ask:a", "b")]
    finished = [e.subagent_run_id for e in events if e.type.value == "SUBAGENT_FINISHED"]
    assert finished == ["ask:a/ask:b", "ask:a"]
    assert events[-1].result == "boss done"


def test_forwarded_props_user_id_is_the_run_user() -> None:
    from graph_agents.memory import MemoryManager, VectorMemoryStore
    from graph_agents.testing import HashEmbeddings

    store = VectorMemoryStore("agui_user", embeddings=HashEmbeddings())
    memory = MemoryManager(store, scope="user")
    network = create_network(
        agents=[Agent("Helper", "Help.", model=ScriptedModel(["Noted."]), memory=memory)]
    )
    with running(create_app(network)) as base, httpx.Client(base_url=base) as client:
        missing = agui_events(client, run_input("u-1", "r-1", "I like tea"))
        assert missing[-1].type.value == "RUN_ERROR"
        assert "pass user_id" in missing[-1].message
        body = run_input("u-1", "r-2", "I like tea", forwardedProps={"userId": "ann"})
        assert agui_events(client, body)[-1].type.value == "RUN_FINISHED"
        for bad in ("", 5):
            wrong = run_input("u-1", "r-3", "x", forwardedProps={"userId": bad})
            errored = agui_events(client, wrong)[-1]
            assert errored.type.value == "RUN_ERROR"
            assert f"user_id={bad!r}; pass the user's id as a non-empty str" in errored.message
    [stored] = asyncio.run(memory.all(user_id="ann"))
    assert stored.text == "User: I like tea\nHelper: Noted."
