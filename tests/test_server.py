"""The web app over real HTTP: runs, SSE with Last-Event-ID, approvals, threads, the
bearer token, the body limit, and what the CLI's serve refuses."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from graph_agents import Agent, ConfigurationError, Step, create_network, create_workflow, tool_from
from graph_agents.cli import load_target, main
from graph_agents.server import create_app, is_loopback, serve
from graph_agents.testing import ScriptedModel, ToolCall

from .test_streaming import HANDOFF_SEQUENCE, handoff_network
from .web import running, sse

ROOT = Path(__file__).resolve().parents[1]


async def pay(amount: int, to: str) -> str:
    """Pay someone.

    Args:
        amount: Euros.
        to: The payee.
    """
    return f"Paid {amount} EUR to {to}."


def payment_network(tmp_path: Path, memory: Any = None) -> Any:
    from graph_agents import SqliteStateStore

    model = ScriptedModel(
        responder=lambda messages: (
            ToolCall("pay", {"amount": 500, "to": "Eve"})
            if messages[-1].type == "human"
            else f"Result: {messages[-1].content}"
        )
    )
    return create_network(
        agents=[
            Agent(
                "Banker",
                "Pay.",
                model=model,
                tools=[tool_from(pay, requires_approval=True)],
                memory=memory,
            )
        ],
        state_store=SqliteStateStore(tmp_path / "server.sqlite"),
    )


@pytest.fixture
def handoff_server() -> Iterator[tuple[httpx.Client, str]]:
    with running(create_app(handoff_network())) as base, httpx.Client(base_url=base) as client:
        yield client, base


def test_a_run_streams_its_events_over_sse_with_their_index_as_id(
    handoff_server: tuple[httpx.Client, str],
) -> None:
    client, _ = handoff_server
    started = client.post("/runs", json={"query": "Museums in Oslo?"})
    assert started.status_code == 202
    run = started.json()
    assert set(run) >= {"run_id", "thread_id", "events_url", "status"}
    events = sse(client, run["events_url"])
    assert [(e["type"], e["agent"]) for _, e in events] == HANDOFF_SEQUENCE
    assert [index for index, _ in events] == list(range(len(events)))
    assert {e["run_id"] for _, e in events} == {run["run_id"]}
    status = client.get(f"/runs/{run['run_id']}").json()
    assert status["status"] == "completed"
    assert status["result"]["output"] == "Visit the Munch museum."
    # A late reader gets the whole run again, then the stream ends.
    assert [e for _, e in sse(client, run["events_url"])] == [e for _, e in events]


def test_last_event_id_resumes_after_the_last_event_seen(
    handoff_server: tuple[httpx.Client, str],
) -> None:
    client, _ = handoff_server
    run = client.post("/runs", json={"query": "Museums in Oslo?"}).json()
    everything = sse(client, run["events_url"])
    first = sse(client, run["events_url"], until="handoff")
    assert first == everything[: len(first)]
    rest = sse(client, run["events_url"], headers={"Last-Event-ID": str(first[-1][0])})
    assert first + rest == everything
    assert rest[0][0] == first[-1][0] + 1
    bad = client.get(run["events_url"], headers={"Last-Event-ID": "seven"})
    assert bad.status_code == 400
    assert "'seven' is not an event index" in bad.json()["detail"]


def test_the_same_run_id_twice_is_one_run(handoff_server: tuple[httpx.Client, str]) -> None:
    client, _ = handoff_server
    first = client.post("/runs", json={"query": "Museums in Oslo?", "run_id": "r-1"})
    again = client.post("/runs", json={"query": "Museums in Oslo?", "run_id": "r-1"})
    assert (first.status_code, again.status_code) == (202, 200)
    assert first.json()["thread_id"] == again.json()["thread_id"]


def test_bad_requests_get_clear_errors(handoff_server: tuple[httpx.Client, str]) -> None:
    client, _ = handoff_server
    missing = client.post("/runs", json={"inputs": {"x": 1}})
    assert missing.status_code == 400
    assert 'send {"query": "..."}' in missing.json()["detail"]
    assert client.post("/runs", json={"query": "   "}).status_code == 400
    assert client.post("/runs", json={"query": "hi", "colour": "red"}).status_code == 422
    unknown = client.get("/runs/nope/events")
    assert unknown.status_code == 404
    assert "No run 'nope'" in unknown.json()["detail"]
    assert client.get("/threads/never-ran").status_code == 404
    run = client.post("/runs", json={"query": "Museums in Oslo?"}).json()
    sse(client, run["events_url"])
    not_waiting = client.post(f"/runs/{run['run_id']}/approve", json={"approve": True})
    assert not_waiting.status_code == 400
    assert "not waiting for an approval" in not_waiting.json()["detail"]


def test_an_approval_over_http_continues_the_same_event_stream(tmp_path: Path) -> None:
    with (
        running(create_app(payment_network(tmp_path))) as base,
        httpx.Client(base_url=base) as client,
    ):
        run = client.post("/runs", json={"query": "Pay Eve"}).json()
        paused = sse(client, run["events_url"], until="run.completed")
        assert [e["type"] for _, e in paused][-2:] == ["approval.requested", "run.completed"]
        request = paused[-2][1]["data"]
        status = client.get(f"/runs/{run['run_id']}").json()
        assert status["status"] == "interrupted"
        assert [p["id"] for p in status["pending"]] == [request["id"]]
        wrong = client.post(
            f"/runs/{run['run_id']}/approve", json={"decisions": {"apr_nope": True}}
        )
        assert wrong.status_code == 400
        assert request["id"] in wrong.json()["detail"]
        answered = client.post(
            f"/runs/{run['run_id']}/approve",
            json={"decisions": {request["id"]: {"approve": True, "feedback": "ok"}}},
        )
        assert answered.status_code == 202
        rest = sse(client, run["events_url"], headers={"Last-Event-ID": str(paused[-1][0])})
        types = [e["type"] for _, e in rest]
        assert types[0] == "run.started"
        assert types[-1] == "run.completed"
        assert ("tool.completed", "Their feedback: ok.\nPaid 500 EUR to Eve.") in [
            (e["type"], e["data"].get("result")) for _, e in rest
        ]
        assert rest[-1][1]["data"]["output"] == "Result: Their feedback: ok.\nPaid 500 EUR to Eve."
        assert client.get(f"/runs/{run['run_id']}").json()["status"] == "completed"
        thread = client.get(f"/threads/{run['thread_id']}").json()
        assert thread["output"] == rest[-1][1]["data"]["output"]
        assert thread["stop_reason"] == "completed"
        assert [m["type"] for m in thread["messages"]] == ["human", "ai", "tool", "ai"]
        assert len(thread["history"]) >= 4


def test_a_workflow_takes_inputs() -> None:
    workflow = create_workflow(
        "shout",
        [Agent("Writer", "Write.", model=ScriptedModel(responder=lambda m: "a quiet line"))],
        steps=[Step.agent("writer", "Write about {topic}"), Step.transform(str.upper)],
    )
    with running(create_app(workflow)) as base, httpx.Client(base_url=base) as client:
        assert client.get("/info").json() == {"name": "shout", "kind": "workflow"}
        assert client.post("/runs", json={"query": "x"}).status_code == 400
        missing = client.post("/runs", json={"inputs": {}})
        assert missing.status_code == 400
        assert "needs the input(s) ['topic']" in missing.json()["detail"]
        run = client.post("/runs", json={"inputs": {"topic": "moths"}}).json()
        events = [e for _, e in sse(client, run["events_url"])]
        assert events[-1]["data"]["output"] == "A QUIET LINE"
        assert [e["data"]["step"] for e in events if e["type"] == "step.started"] == [
            "s1_writer",
            "s2_transform",
        ]


def test_the_bearer_token_guards_every_route_but_the_page() -> None:
    app = create_app(handoff_network(), token="s3cret-token")
    with running(app) as base, httpx.Client(base_url=base) as client:
        assert client.get("/").status_code == 200
        assert client.get("/app.js").status_code == 200
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "s3cret-token"}):
            refused = client.post("/runs", json={"query": "hi"}, headers=headers)
            assert refused.status_code == 401
            assert refused.headers["www-authenticate"] == "Bearer"
        assert client.get("/info").status_code == 401
        assert client.get("/openapi.json").status_code == 404
        good = {"Authorization": "Bearer s3cret-token"}
        run = client.post("/runs", json={"query": "Museums in Oslo?"}, headers=good).json()
        assert client.get(run["events_url"]).status_code == 401
        assert sse(client, run["events_url"], headers=good)[-1][1]["type"] == "run.completed"
        assert client.post("/ag-ui", json={}, headers={}).status_code == 401


def test_request_bodies_over_the_limit_are_refused() -> None:
    app = create_app(handoff_network(), max_body_bytes=1000)
    with running(app) as base, httpx.Client(base_url=base) as client:
        big = client.post("/runs", json={"query": "x" * 2000})
        assert big.status_code == 413
        assert "larger than this server accepts (1000 bytes)" in big.json()["detail"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
            yield b'{"query": "'
            for _ in range(10):
                yield b"y" * 200
            yield b'"}'

        streamed = client.post(
            "/runs", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert streamed.status_code == 413
        assert client.post("/runs", json={"query": "Museums in Oslo?"}).status_code == 202
    for bad in (0, -5, "1000", True):
        with pytest.raises(ConfigurationError, match=rf"max_body_bytes={bad!r} must be"):
            create_app(handoff_network(), max_body_bytes=bad)  # type: ignore[arg-type]


def test_the_page_is_static_and_locked_down(handoff_server: tuple[httpx.Client, str]) -> None:
    client, _ = handoff_server
    page = client.get("/")
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "http" not in page.text.replace('"http', "")  # no CDN: nothing loaded from elsewhere
    script = client.get("/app.js").text
    assert "innerHTML" not in script
    schema = client.get("/schema/events").json()
    assert [branch["title"] for branch in schema["oneOf"]][:3] == [
        "run.started",
        "route.decided",
        "agent.started",
    ]


def test_serving_beyond_loopback_needs_a_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GRAPH_AGENTS_SERVER_TOKEN", raising=False)
    assert is_loopback("127.0.0.1")
    assert is_loopback("localhost")
    assert is_loopback("::1")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.168.1.4")
    assert not is_loopback("example.com")
    with pytest.raises(
        ConfigurationError, match=r"'0\.0\.0\.0' exposes the server .* needs a bearer"
    ):
        serve(handoff_network(), host="0.0.0.0", port=0)
    for port, why in [
        (99999, "must be at most 65535"),
        (-1, "must be at least 0"),
        ("80", "must be a whole"),
    ]:
        with pytest.raises(ConfigurationError, match=rf"serve: port={port!r} {why}"):
            serve(handoff_network(), port=port)  # type: ignore[arg-type]


def test_the_cli_loads_a_target_from_a_file_or_a_module(capsys: pytest.CaptureFixture[str]) -> None:
    target = load_target(str(ROOT / "examples" / "ui_streaming" / "app.py") + ":network")
    assert target.name == "concierge"
    with pytest.raises(ConfigurationError, match="has no attribute 'nope'"):
        load_target("graph_agents.testing:nope")
    with pytest.raises(ConfigurationError, match="not a Network or Workflow"):
        load_target("graph_agents.testing:ScriptedModel")
    with pytest.raises(ConfigurationError, match="does not name a target"):
        load_target("app.py")
    assert main(["serve", "app.py"]) == 2
    assert "does not name a target" in capsys.readouterr().err
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
    assert main(["serve", "graph_agents.testing:nope", "--host", "0.0.0.0"]) == 2


def test_the_cli_serves_the_example(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    from .web import free_port

    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "graph_agents.cli",
            "serve",
            "examples/ui_streaming/app.py:network",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                info = httpx.get(f"http://127.0.0.1:{port}/info", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert info.json() == {"name": "concierge", "kind": "network"}
    finally:
        process.terminate()
        process.wait(20)


def test_an_event_round_trips_as_sse_json(handoff_server: tuple[httpx.Client, str]) -> None:
    import jsonschema

    from graph_agents.events import event_json_schema

    client, _ = handoff_server
    run = client.post("/runs", json={"query": "Museums in Oslo?"}).json()
    validator = jsonschema.Draft202012Validator(event_json_schema())
    for _, event in sse(client, run["events_url"]):
        validator.validate(event)
        assert json.loads(json.dumps(event)) == event


def test_a_second_run_on_a_busy_thread_is_a_conflict() -> None:
    from graph_agents.testing import ScriptedResponse

    slow = ScriptedModel(responder=lambda m: ScriptedResponse(text="done", delay=1.0))
    network = create_network(agents=[Agent("A", "a", model=slow)])
    with running(create_app(network)) as base, httpx.Client(base_url=base) as client:
        first = client.post("/runs", json={"query": "one", "thread_id": "busy"})
        assert first.status_code == 202
        second = client.post("/runs", json={"query": "two", "thread_id": "busy"})
        assert second.status_code == 409
        assert "Thread 'busy' already has a run in progress" in second.json()["detail"]
        events = sse(client, first.json()["events_url"])
        assert events[-1][1]["data"]["output"] == "done"


def test_a_last_event_id_past_the_end_of_a_finished_run_ends_the_stream(
    handoff_server: tuple[httpx.Client, str],
) -> None:
    client, _ = handoff_server
    run = client.post("/runs", json={"query": "Museums in Oslo?"}).json()
    everything = sse(client, run["events_url"])
    last = everything[-1][0]
    assert sse(client, run["events_url"], headers={"Last-Event-ID": str(last)}) == []
    assert sse(client, run["events_url"], headers={"Last-Event-ID": str(last + 50)}) == []


def test_stopping_the_server_cancels_its_runs_and_leaves_them_resumable(tmp_path: Path) -> None:
    import asyncio

    from graph_agents import SqliteStateStore
    from graph_agents.testing import ScriptedResponse

    calls = 0

    def respond(messages: list[Any]) -> Any:
        nonlocal calls
        calls += 1
        if messages[-1].type == "human":
            return ToolCall("pay", {"amount": 5, "to": "Ann"})
        return ScriptedResponse(text="paid", delay=60.0 if calls == 2 else 0.0)

    def network() -> Any:
        return create_network(
            agents=[Agent("A", "a", model=ScriptedModel(responder=respond), tools=[pay])],
            state_store=SqliteStateStore(tmp_path / "stop.sqlite"),
        )

    app = create_app(network())
    with running(app) as base, httpx.Client(base_url=base) as client:
        run = client.post("/runs", json={"query": "go", "thread_id": "stop-1"}).json()
        sse(client, run["events_url"], until="tool.completed")
        status = client.get(f"/runs/{run['run_id']}").json()
        assert status["status"] == "running"
    # The server stopped at once: the run waiting on its 60 s model call was cancelled.
    resumed = asyncio.run(network().resume("stop-1"))
    assert resumed.output == "paid"
    assert [m.type for m in resumed.messages] == ["human", "ai", "tool", "ai"]


def test_ids_longer_than_200_characters_are_refused(
    handoff_server: tuple[httpx.Client, str],
) -> None:
    client, _ = handoff_server
    assert client.post("/runs", json={"query": "x", "thread_id": "t" * 201}).status_code == 422
    assert client.post("/runs", json={"query": "x", "run_id": "r" * 201}).status_code == 422
    fits = client.post("/runs", json={"query": "Museums in Oslo?", "thread_id": "t" * 200})
    assert fits.status_code == 202


def test_user_id_reaches_user_scoped_memory_through_a_run_and_its_approval(
    tmp_path: Path,
) -> None:
    from graph_agents.memory import MemoryManager, VectorMemoryStore
    from graph_agents.testing import HashEmbeddings

    memory = MemoryManager(VectorMemoryStore("served", embeddings=HashEmbeddings()), scope="user")
    network = payment_network(tmp_path, memory=memory)
    with running(create_app(network)) as base, httpx.Client(base_url=base) as client:
        refused = client.post("/runs", json={"query": "Pay Eve"})
        assert refused.status_code == 400
        assert "has scope='user'; pass user_id" in refused.json()["detail"]
        run = client.post("/runs", json={"query": "Pay Eve", "user_id": "ann"}).json()
        paused = sse(client, run["events_url"], until="run.completed")
        request = paused[-2][1]["data"]
        answered = client.post(
            f"/runs/{run['run_id']}/approve", json={"decisions": {request["id"]: True}}
        )
        assert answered.status_code == 202
        rest = sse(client, run["events_url"], headers={"Last-Event-ID": str(paused[-1][0])})
        assert rest[-1][1]["type"] == "run.completed"
        assert client.post("/runs", json={"query": "x", "user_id": ""}).status_code == 422
    [stored] = asyncio.run(memory.all(user_id="ann"))
    assert stored.text == "User: Pay Eve\nBanker: Result: Paid 500 EUR to Eve."
