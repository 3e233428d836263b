"""Values are validated where they are given, with messages that name the value and the fix."""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from graph_agents import (
    Agent,
    ConfigurationError,
    OpenAIModelProvider,
    RetryPolicy,
    SqliteStateStore,
    Step,
    create_network,
    create_workflow,
)
from graph_agents.routers import LoadBalancingRouter, SemanticRouter
from graph_agents.testing import ScriptedModel, ToolCall
from graph_agents.tools import tool_from

WHOLE = "must be a whole number of at least 1, "
RANGE = "is out of range: it must be"


def agent(name: str = "A", *replies: Any) -> Agent:
    return Agent(name, model=ScriptedModel(list(replies) or ["ok"]))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "create_network: max_iterations=0 must be at least 1."),
        (-1, "create_network: max_iterations=-1 must be at least 1."),
        (2.5, "create_network: max_iterations=2.5 " + WHOLE + "not a float."),
        (True, "create_network: max_iterations=True " + WHOLE + "not a bool."),
    ],
)
def test_create_network_max_iterations(value: Any, message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        create_network(agents=[agent()], max_iterations=value)
    assert str(caught.value) == message


def test_create_network_delegation_depth() -> None:
    with pytest.raises(ConfigurationError) as caught:
        create_network(agents=[agent()], max_delegation_depth=-1)
    assert str(caught.value) == "create_network: max_delegation_depth=-1 must be at least 0."


@pytest.mark.parametrize("value", [0, -1, 1.5])
async def test_run_stream_and_resume_max_iterations(value: Any) -> None:
    network = create_network(agents=[agent()])
    expected = (
        f"run: max_iterations={value!r} must be at least 1."
        if isinstance(value, int)
        else "run: max_iterations=1.5 must be a whole number of at least 1, not a float."
    )
    with pytest.raises(ConfigurationError) as caught:
        await network.run("hi", max_iterations=value)
    assert str(caught.value) == expected
    with pytest.raises(ConfigurationError) as caught:
        network.stream("hi", max_iterations=value)
    assert str(caught.value) == expected
    with pytest.raises(ConfigurationError) as caught:
        await network.resume("no-such-thread", max_iterations=value)
    assert str(caught.value) == expected


async def test_run_max_iterations_of_one_is_honoured() -> None:
    ping = Agent("Ping", model=ScriptedModel([ToolCall("transfer_to_pong", {})] * 3))
    pong = Agent("Pong", model=ScriptedModel([ToolCall("transfer_to_ping", {})] * 3))
    network = create_network(agents=[ping, pong], max_iterations=5)
    result = await network.run("go", max_iterations=1)
    assert result.stop_reason == "max_iterations"
    assert result.agent_path == ["Ping"]


def test_agent_max_tool_rounds() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Agent("A", max_tool_rounds=0)
    assert str(caught.value) == "Agent 'A': max_tool_rounds=0 must be at least 1."
    with pytest.raises(ConfigurationError, match=r"max_tool_rounds='3' must be a whole number"):
        Agent("A", max_tool_rounds="3")  # type: ignore[arg-type]


def test_workflow_loop_max_iterations() -> None:
    body = Step.agent("A", "Improve it")
    for bad, kind in ((0, None), (2.0, "float")):
        with pytest.raises(ConfigurationError) as caught:
            create_workflow(
                "w", [agent()], [Step.loop(body, until=lambda s: True, max_iterations=bad)]
            )  # type: ignore[arg-type]
        expected = (
            "Step 's1_loop': max_iterations=0 must be at least 1."
            if kind is None
            else f"Step 's1_loop': max_iterations=2.0 {WHOLE}not a float."
        )
        assert str(caught.value) == expected


@pytest.mark.parametrize("value", [5, -1.5, float("nan")])
def test_semantic_threshold_outside_the_score_range(value: float) -> None:
    with pytest.raises(ConfigurationError) as caught:
        SemanticRouter("local", similarity_threshold=value)
    text = str(caught.value)
    assert text.startswith(f"SemanticRouter: similarity_threshold={value!r} ")
    assert text.endswith(
        " Scores are cosine similarities, from -1 to 1; None picks a default suited to the model."
    )
    assert SemanticRouter("local", similarity_threshold=0.7).similarity_threshold == 0.7


def test_load_balancing_values() -> None:
    with pytest.raises(ConfigurationError) as caught:
        LoadBalancingRouter(health_check_interval=-1)
    assert str(caught.value) == (
        "LoadBalancingRouter: health_check_interval=-1 is out of range: it must be at least 0. "
        "It is in seconds; 0 turns the checks off."
    )
    with pytest.raises(ConfigurationError, match=r"health_check_interval=inf must be a finite"):
        LoadBalancingRouter(health_check_interval=float("inf"))
    with pytest.raises(ConfigurationError) as caught:
        LoadBalancingRouter(failure_threshold=0)
    assert str(caught.value) == "LoadBalancingRouter: failure_threshold=0 must be at least 1."


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: RetryPolicy(max_attempts=0), "RetryPolicy: max_attempts=0 must be at least 1."),
        (
            lambda: RetryPolicy(initial_delay=-1),
            f"RetryPolicy: initial_delay=-1 {RANGE} at least 0.",
        ),
        (
            lambda: RetryPolicy(initial_delay=2, max_delay=1),
            f"RetryPolicy: max_delay=1 {RANGE} at least 2.",
        ),
        (lambda: RetryPolicy(backoff=0.5), f"RetryPolicy: backoff=0.5 {RANGE} at least 1."),
        (
            lambda: OpenAIModelProvider(timeout=0),
            f"OpenAIModelProvider: timeout=0 {RANGE} greater than 0.",
        ),
    ],
)
def test_retry_and_timeout_settings(make: Callable[[], object], message: str) -> None:
    with pytest.raises(ConfigurationError) as caught:
        make()
    assert str(caught.value) == message


def test_a_query_that_is_not_text_names_its_type() -> None:
    network = create_network(agents=[agent()])
    with pytest.raises(ConfigurationError) as caught:
        network.run_sync(123)  # type: ignore[arg-type]
    assert str(caught.value) == ("query must be a str, got int 123; pass the user's request text.")
    with pytest.raises(ConfigurationError, match=r"^query '  ' is empty"):
        network.run_sync("  ")


def test_a_tool_parameter_without_a_json_schema() -> None:
    async def send(data: bytes, sock: socket.socket) -> str:
        """Send bytes."""
        return "sent"

    with pytest.raises(ConfigurationError) as caught:
        tool_from(send)
    assert str(caught.value) == (
        "Tool 'send': parameter 'sock' (socket) has no JSON schema, so the model cannot be "
        "told how to fill it in. Annotate it with a JSON-compatible type (str, int, float, "
        "bool, list, dict, a pydantic model, a TypedDict, an Enum or a Literal), or take it "
        "from the shared state instead."
    )


def test_tools_with_star_args_or_positional_only_parameters() -> None:
    def search(*queries: str) -> str:
        return ""

    def lookup(query: str, **options: str) -> str:
        return ""

    def fetch(url: str, /) -> str:
        return ""

    with pytest.raises(ConfigurationError) as caught:
        tool_from(search)
    assert str(caught.value) == (
        "Tool 'search' takes *queries, which has no JSON schema the model could fill in. "
        "Give the tool named parameters with type hints, e.g. def search(query: str, "
        "limit: int = 5)."
    )
    with pytest.raises(ConfigurationError, match=r"^Tool 'lookup' takes \*\*options, "):
        tool_from(lookup)
    with pytest.raises(ConfigurationError, match=r"^Tool 'fetch': parameter 'url' is positional"):
        tool_from(fetch)


async def test_delegation_limit_message_reads_correctly_at_one_level() -> None:
    def ask_other(other: str) -> ScriptedModel:
        def respond(messages: list[Any]) -> Any:
            last = messages[-1]
            if getattr(last, "type", "") == "tool":
                return f"gave up: {last.content}"
            return ToolCall(f"ask_{other}", {"task": "again"})

        return ScriptedModel(responder=respond)

    network = create_network(
        agents=[Agent("A", model=ask_other("b")), Agent("B", model=ask_other("a"))],
        max_delegation_depth=1,
    )
    result = await network.run("Recurse")
    assert result.tool_errors[0]["error"] == (
        "Error: delegation is limited to 1 level and this agent is already 1 level deep; "
        "do the task yourself instead of 'ask_a'."
    )


async def test_delegation_limit_message_reads_correctly_at_zero_levels() -> None:
    boss = ScriptedModel([ToolCall("ask_b", {"task": "help"}), "alone"])
    network = create_network(
        agents=[Agent("A", model=boss), Agent("B", model=ScriptedModel(["b"]))],
        max_delegation_depth=0,
    )
    result = await network.run("Go")
    assert result.tool_errors[0]["error"] == (
        "Error: delegation is limited to 0 levels and this agent is already 0 levels deep; "
        "do the task yourself instead of 'ask_b'."
    )


async def test_a_sqlite_path_whose_folder_cannot_be_made_is_one_clear_error(
    tmp_path: Path,
) -> None:
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("")
    path = in_the_way / "threads.sqlite"
    model = ScriptedModel(["Hi."])
    network = create_network([Agent("A", "a", model=model)], state_store=SqliteStateStore(path))
    message = (
        f"SqliteStateStore({str(path)!r}): cannot create the folder {str(in_the_way)!r} "
        "(File exists); pass a path in a folder this process can write."
    )
    with pytest.raises(ConfigurationError) as error:
        await network.run("hello")
    assert str(error.value) == message
    assert model.calls == []


async def test_a_thread_id_that_is_not_non_empty_text_is_refused_everywhere() -> None:
    model = ScriptedModel(["Hi."])
    network = create_network([Agent("A", "a", model=model)])
    workflow = create_workflow("flow", [Agent("A", "a", model=model)], [Step.agent("A", "Go")])
    for bad in (5, "", "   "):
        message = f"thread_id={bad!r} must be a non-empty str (the thread's id)."
        calls = [
            lambda bad=bad: network.run("hello", thread_id=bad),
            lambda bad=bad: network.resume(bad),
            lambda bad=bad: network.get_state(bad),
            lambda bad=bad: network.get_state_history(bad),
            lambda bad=bad: network.update_state(bad, {"k": 1}),
            lambda bad=bad: workflow.run(thread_id=bad),
        ]
        for call in calls:
            with pytest.raises(ConfigurationError) as error:
                await call()  # type: ignore[arg-type]
            assert str(error.value) == message
        with pytest.raises(ConfigurationError, match=re.escape(message)):
            network.stream("hello", thread_id=bad)  # type: ignore[arg-type]
    assert model.calls == []


def test_a_sqlite_store_needs_a_path() -> None:
    for bad in ("", "  ", 5, None):
        with pytest.raises(ConfigurationError) as error:
            SqliteStateStore(bad)  # type: ignore[arg-type]
        assert str(error.value) == (
            f"SqliteStateStore(path={bad!r}): pass the database file's path, e.g. "
            "SqliteStateStore('threads.sqlite')."
        )
    assert SqliteStateStore(Path("t.sqlite")).path == Path("t.sqlite")
