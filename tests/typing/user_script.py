"""A user's script over the public API, README lines included.

It must pass ``mypy --strict`` and ``pyright --strict`` run from outside the repository
(``scripts/test.sh`` copies it to a temporary directory), and it runs offline:
``python tests/typing/user_script.py``.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from fastapi import FastAPI
from pydantic import BaseModel

from graph_agents import (
    END,
    Agent,
    Approval,
    ApprovalRequest,
    ConcurrentRunError,
    ConfigurationError,
    Event,
    GraphAgentsError,
    HanzoModelProvider,
    InMemoryStateStore,
    ModelProviderError,
    OpenAIModelProvider,
    RetryPolicy,
    RouteContext,
    RoutingDecision,
    RoutingError,
    RunResult,
    SharedState,
    SqliteStateStore,
    StateView,
    Step,
    StoreError,
    ThreadState,
    ToolContext,
    WorkflowError,
    WorkflowResult,
    create_network,
    create_workflow,
    human_approval_tool,
    tool_from,
)
from graph_agents.events import event_json_schema
from graph_agents.routers import (
    LLMRouter,
    LoadBalancingRouter,
    RoutingStrategy,
    RuleBasedRouter,
    SemanticRouter,
)
from graph_agents.server import create_app
from graph_agents.testing import OpenAIStubServer, ScriptedModel, ScriptedResponse, ToolCall
from graph_agents.tools import Tool, create_composite_tool


class Review(BaseModel):
    review_score: int
    feedback: str


async def search_web(query: str, state: SharedState) -> str:
    """Search the web.

    Args:
        query: What to look for.
    """
    await state.append("history", query)
    previous: list[str] = await state.get("history", [])
    return f"{len(previous)} facts about {query}."


def word_count(text: str) -> int:
    """Count words."""
    return len(text.split())


def by_mode(state: StateView, query: str) -> str | None:
    """A request router: the README's deterministic state routing."""
    if state.get("mode") == "research":
        return "Researcher"
    return None


def twice(context: RouteContext) -> str | None:
    """A per-turn router: the researcher twice, then finish."""
    return "Researcher" if context.call_count < 2 else END


async def quickstart() -> None:
    # The README quickstart.
    model = ScriptedModel([ToolCall("search_web", {"query": "qubits"}), "Qubits are neat."])
    network = create_network(
        agents=[Agent("Researcher", "You research.", tools=[search_web])], default_model=model
    )
    result = await network.run("Tell me about qubits")
    text: str = result.output
    path: list[str] = result.agent_path
    print(text, path, result.state)


async def routers_and_state() -> None:
    rules = RuleBasedRouter()
    rules.add_rule(r".*search.*|.*find.*", "Researcher")
    rules.add_rule(r".*write.*|.*create.*", "Writer", priority=1)
    composite = RoutingStrategy([(rules, 0.8), (by_mode, 0.2)], fallback="Writer")
    SemanticRouter(model="text-embedding-3-small", similarity_threshold=0.7)
    LoadBalancingRouter(strategy="round_robin", health_check_interval=30)
    LLMRouter(ScriptedModel(), max_history=10)
    researcher = Agent(
        "Researcher", model=ScriptedModel(responder=lambda messages: "found"), tools=[search_web]
    )
    writer = Agent(
        "Writer",
        model=ScriptedModel(responder=lambda messages: "written"),
        tools=[tool_from(word_count, timeout=5.0)],
        tool_timeout=None,
    )
    for router in (rules, composite, by_mode, twice):
        network = create_network(agents=[researcher, writer], router=router, max_iterations=5)
        network.state.set("mode", "research")
        seeded: object = network.state.get("mode")
        async with network:
            result = await network.run("please write", thread_id="t1", max_iterations=4)
            decisions: list[dict[str, object]] = [dict(r) for r in result.routes]
            state: ThreadState | None = await network.get_state("t1")
            history: list[ThreadState] = await network.get_state_history("t1")
            print(seeded, result.stop_reason, decisions, state, len(history))
    decision: RoutingDecision = await rules.decide("search it", [researcher, writer])
    print(decision.agent, decision.scores, decision.reason, decision.low_confidence)


async def workflow_and_events() -> None:
    # The README's workflow, condition line included.
    researcher = Agent("Researcher", model=ScriptedModel(["facts"]))
    writer = Agent("Writer", model=ScriptedModel(["intro", "body", "revision"]))
    reviewer = Agent(
        "Reviewer",
        model=ScriptedModel(responder=lambda m: '{"review_score": 9, "feedback": "good"}'),
    )
    workflow = create_workflow(
        "Research and Write",
        [researcher, writer, reviewer],
        steps=[
            Step.agent("researcher", "Research {topic}"),
            Step.parallel(
                [
                    Step.agent("writer", "Write introduction"),
                    Step.agent("writer", "Write main content"),
                ]
            ),
            Step.agent("reviewer", "Review complete document", output_type=Review),
            Step.conditional(
                condition=lambda state: state.get("review_score") < 8,
                true_step=Step.agent("writer", "Revise based on feedback"),
                false_step=Step.transform(lambda x: {"status": "approved", "content": x}),
            ),
            Step.loop(Step.transform(lambda x: x), until=lambda state: True, max_iterations=2),
        ],
    )
    seen: list[str] = []

    async def on_event(event: Event) -> None:
        seen.append(f"{event.seq} {event.type} {event.agent} {event.data}")

    result = await workflow.run({"topic": "AI Safety"}, stream_callback=on_event)
    outputs: dict[str, object] = result.outputs
    print(result.output, outputs, result.path, len(seen))

    reviewed = create_workflow(
        "review", [reviewer], [Step.agent("reviewer", "Review", output_type=Review)]
    )
    review: WorkflowResult[Review] = await reviewed.run()
    score: int = review.output.review_score
    print(score)

    judge = Agent(
        "Judge", model=ScriptedModel(['{"review_score": 7, "feedback": "ok"}']), output_type=Review
    )
    verdict: RunResult[Review] = await create_network(agents=[judge]).run("Judge it")
    if verdict.parsed is not None:
        feedback: str = verdict.parsed.feedback
        print(feedback)
    async for event in create_network(agents=[Agent("A", model=ScriptedModel(["hi"]))]).stream(
        "Hello"
    ):
        delta = event.data.get("delta")
        if isinstance(delta, str):
            print(delta, end="")
    print()
    streaming = create_network(agents=[Agent("A", model=ScriptedModel(["hi"]))])
    async with streaming.stream("Hello") as stream:
        lanes: dict[str, list[str]] = {}
        async for event in stream:
            lanes.setdefault(event.lane, []).append(event.type)
            step: str | None = event.step
            print(step, event.path)
    streamed: RunResult = stream.result
    print(streamed.output, lanes)
    schema: dict[str, object] = event_json_schema()
    print(len(schema))

    def shout(text: str) -> str:
        """Shout."""
        return text.upper()

    def exclaim(text: str) -> str:
        """Exclaim."""
        return text + "!"

    loud: Tool = create_composite_tool("shout_and_exclaim", [shout, exclaim], "Shout it.")
    print(loud.name)
    app: FastAPI = create_app(streaming, token="secret")
    print(app.title)


async def stores_providers_and_errors() -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteStateStore(Path(folder) / "state.sqlite")
        slow = ScriptedModel([ScriptedResponse(text="done", delay=0.05), "again"])
        network = create_network(agents=[Agent("A", model=slow)], state_store=store)
        async with network:
            await network.run("one", thread_id="t")
            try:
                await network.resume("t")
            except ConfigurationError as exc:
                print(exc)
        InMemoryStateStore()
    with OpenAIStubServer(["from the stub"]) as stub:
        provider = OpenAIModelProvider(base_url=stub.base_url, api_key="k", default_model="m")
        hanzo = HanzoModelProvider(base_url=stub.base_url, api_key="k", timeout=10.0)
        network = create_network(
            agents=[Agent("A")], model_provider=provider, retry=RetryPolicy(max_attempts=2)
        )
        print((await network.run("hi")).output, hanzo.base_url)
    errors: tuple[type[GraphAgentsError], ...] = (
        RoutingError,
        WorkflowError,
        ModelProviderError,
        ConcurrentRunError,
    )
    print([error.__name__ for error in errors])


async def approvals_and_durability() -> None:
    async def transfer(amount: int, to: str, context: ToolContext) -> str:
        """Send money."""
        return f"{amount} to {to} ({context.idempotency_key[:6]}, attempt {context.attempt})"

    pay = tool_from(transfer, requires_approval=lambda args: args["amount"] > 100)
    model = ScriptedModel(
        [
            ToolCall("transfer", {"amount": 500, "to": "eve"}),
            ToolCall("human_approval_tool", {"action": "tell eve"}),
            "Paid.",
        ]
    )
    with tempfile.TemporaryDirectory() as folder:
        network = create_network(
            agents=[Agent("Banker", tools=[pay, human_approval_tool], model=model)],
            state_store=SqliteStateStore(Path(folder) / "bank.sqlite"),
            durability="sync",
            encrypt_checkpoints=b"0" * 32,
        )
        async with network:
            paused: RunResult = await network.run("pay eve", thread_id="p")
            requests: list[ApprovalRequest] = paused.interrupts
            decisions: dict[str, Approval | bool] = {
                r.id: Approval(approve=True, edits={"amount": 90}) for r in requests
            }
            again = await network.resume("p", decisions=decisions)
            done = await network.resume("p", approve=False, feedback="not now")
            history: list[ThreadState] = await network.get_state_history("p", limit=3)
            fixed: ThreadState = await network.update_state("p", {"note": "checked"})
            print(again.stop_reason, done.output, len(history), fixed.state)
    try:
        raise StoreError("example", operation="load")
    except StoreError as error:
        print(error.operation, error.retry_safe)


async def main() -> None:
    await quickstart()
    await routers_and_state()
    await workflow_and_events()
    await stores_providers_and_errors()
    await approvals_and_durability()


if __name__ == "__main__":
    asyncio.run(main())
