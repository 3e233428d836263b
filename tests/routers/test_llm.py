from __future__ import annotations

import pytest

from graph_agents import Agent, RoutingError, create_network
from graph_agents.routers import LLMRouter
from graph_agents.testing import ScriptedModel, ToolCall

AGENTS = [Agent("Planner", "Plans the work."), Agent("Coder", "Writes the code.")]


async def test_picks_the_next_agent_through_a_forced_tool_call() -> None:
    model = ScriptedModel([ToolCall("select_agent", {"name": "Planner", "reason": "plan first"})])
    decision = await LLMRouter(model).decide("Build a CLI", AGENTS)
    assert decision.agent == "Planner"
    assert decision.reason == "plan first"
    assert decision.scores == {"Planner": 1.0, "Coder": 0.0}
    call = model.calls[0]
    assert [t["function"]["name"] for t in call.tools] == ["select_agent", "done"]
    assert "- Planner: Plans the work.\n- Coder: Writes the code." in str(call.messages[0].content)
    assert str(call.messages[1].content) == "Request: Build a CLI\n\nNo agent has acted yet."


async def test_an_invalid_pick_gets_one_corrective_retry() -> None:
    model = ScriptedModel(
        [
            ToolCall("select_agent", {"name": "Tester", "reason": "?"}, id="bad"),
            ToolCall("select_agent", {"name": "Coder", "reason": "write it"}),
        ]
    )
    decision = await LLMRouter(model).decide("Build", AGENTS)
    assert decision.agent == "Coder"
    correction = model.calls[1].messages[-1]
    assert correction.type == "tool"
    assert correction.content == (
        "Invalid: unknown agent 'Tester'. Call select_agent with one of: Planner, Coder; "
        "or call done."
    )


async def test_two_invalid_picks_raise() -> None:
    model = ScriptedModel(["I think Planner", ToolCall("select_agent", {"name": "Nobody"})])
    with pytest.raises(RoutingError) as info:
        await LLMRouter(model).decide("Build", AGENTS)
    assert str(info.value) == (
        "LLMRouter: model 'scripted' made an invalid pick twice (unknown agent 'Nobody'); "
        "valid agents: 'Planner', 'Coder'. Use a model that follows tool calls, or describe "
        "the agents more clearly."
    )


async def test_drives_a_network_turn_by_turn_until_done() -> None:
    router_model = ScriptedModel(
        [
            ToolCall("select_agent", {"name": "Planner", "reason": "plan"}),
            ToolCall("select_agent", {"name": "Coder", "reason": "code"}),
            ToolCall("done", {"summary": "planned and coded"}),
        ]
    )
    network = create_network(
        agents=[
            Agent("Planner", "Plans.", model=ScriptedModel(["1. parse args"])),
            Agent("Coder", "Codes.", model=ScriptedModel(["def main(): ..."])),
        ],
        router=LLMRouter(router_model),
    )
    result = await network.run("Build a CLI")
    assert result.agent_path == ["Planner", "Coder"]
    assert result.output == "def main(): ..."
    assert [r["reason"] for r in result.routes] == ["plan", "code", "done: planned and coded"]
    last_prompt = str(router_model.calls[2].messages[1].content)
    assert "Turns so far: 2. Last agent: Coder. Its result:\ndef main(): ..." in last_prompt


def test_llm_router_model_resolves_like_agents(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setenv("GRAPH_AGENTS_MODEL", "env-router-model")
    router = LLMRouter()
    create_network(agents=[Agent("A", model=ScriptedModel())], router=router)
    assert getattr(router.model, "model_name", None) == "env-router-model"
    default = ScriptedModel([ToolCall("done", {"summary": "nothing to do"})])
    network = create_network(agents=[Agent("A")], router=LLMRouter(), default_model=default)
    assert network.agents[0].name == "A"


async def test_the_router_is_told_each_turn_and_at_most_max_history_messages() -> None:
    router_model = ScriptedModel(
        [
            ToolCall("select_agent", {"name": "Planner", "reason": "plan"}),
            ToolCall("select_agent", {"name": "Coder", "reason": "code"}),
            ToolCall("select_agent", {"name": "Planner", "reason": "replan"}),
            ToolCall("done", {"summary": "done"}),
        ]
    )
    network = create_network(
        agents=[
            Agent("Planner", "Plans.", model=ScriptedModel(["plan v1", "plan v2"])),
            Agent("Coder", "Codes.", model=ScriptedModel(["code v1"])),
        ],
        router=LLMRouter(router_model, max_history=2),
    )
    result = await network.run("Build")
    assert result.agent_path == ["Planner", "Coder", "Planner"]
    prompts = [str(call.messages[1].content) for call in router_model.calls]
    assert prompts == [
        "Request: Build\n\nNo agent has acted yet.",
        "Request: Build\n\nTurns so far: 1. Last agent: Planner. Its result:\nplan v1\n\n"
        "Conversation:\nagent: plan v1",
        "Request: Build\n\nTurns so far: 2. Last agent: Coder. Its result:\ncode v1\n\n"
        "Conversation:\nagent: plan v1\nagent: code v1",
        "Request: Build\n\nTurns so far: 3. Last agent: Planner. Its result:\nplan v2\n\n"
        "Conversation:\nagent: code v1\nagent: plan v2",
    ]


def test_max_history_is_validated() -> None:
    from graph_agents import ConfigurationError

    with pytest.raises(ConfigurationError) as caught:
        LLMRouter(max_history=-1)
    assert str(caught.value) == "LLMRouter: max_history=-1 must be at least 0."
