"""The seed document's snippets that name no model run as written, against the HTTP stub.

The seed's workflow and its ``HanzoModelProvider`` network pass no model anywhere: the
model comes from the resolution order (agent, default_model, provider, GRAPH_AGENTS_MODEL,
then ``gpt-4o-mini``). Only the import root differs from the seed; the tools the seed
leaves undefined are defined here, and the reviewer's ``fact_check`` puts the
``review_score`` the seed's condition reads into shared state.
"""

from __future__ import annotations

from typing import Any

import pytest

from graph_agents import Agent, SharedState, Step, create_network, create_workflow
from graph_agents.models import HanzoModelProvider
from graph_agents.testing import OpenAIStubServer, ToolCall


async def search_web(query: str, state: SharedState) -> str:
    """Search the web.

    Args:
        query: What to look for.
    """
    await state.append("research_history", query)
    return f"Three facts about {query}."


async def analyze_document(text: str) -> str:
    """Analyze a document."""
    return f"{len(text.split())} words"


async def format_markdown(text: str) -> str:
    """Format text as Markdown."""
    return f"# {text}"


async def check_grammar(text: str) -> str:
    """Check grammar."""
    return "no issues"


async def fact_check(claims: str, state: SharedState) -> str:
    """Check the claims of the document and score it from 0 to 10.

    Args:
        claims: The claims to check.
    """
    await state.set("review_score", 9)
    return "All claims hold; score 9."


async def suggest_improvements(text: str) -> str:
    """Suggest improvements."""
    return "none"


researcher = Agent(
    name="Researcher",
    instructions="You search and analyze information from various sources.",
    tools=[search_web, analyze_document],
)

writer = Agent(
    name="Writer",
    instructions="You create well-structured content based on research.",
    tools=[format_markdown, check_grammar],
)

reviewer = Agent(
    name="Reviewer",
    instructions="You review content for accuracy and quality.",
    tools=[fact_check, suggest_improvements],
)

_FIRST_TOOL = {
    "You search": ToolCall("search_web", {"query": "AI Safety"}),
    "You review": ToolCall("fact_check", {"claims": "the draft's claims"}),
}


def endpoint(body: dict[str, Any]) -> Any:
    """Each agent calls its first tool once (if it has one in the script), then answers."""
    messages = body["messages"]
    system = str(messages[0]["content"])
    called = any(m["role"] == "tool" for m in messages)
    for prefix, call in _FIRST_TOOL.items():
        if system.startswith(prefix) and not called:
            return call
    task = str(next(m for m in messages if m["role"] == "user")["content"]).splitlines()[0]
    return f"Done: {task}"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("GRAPH_AGENTS_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)


async def test_seed_workflow_runs_verbatim(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with OpenAIStubServer(responder=endpoint) as stub:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        # --- the seed's lines, import root changed ---
        workflow = create_workflow(
            name="Research and Write",
            agents=[researcher, writer, reviewer],
            steps=[
                Step.agent("researcher", "Research {topic}"),
                Step.parallel(
                    [
                        Step.agent("writer", "Write introduction"),
                        Step.agent("writer", "Write main content"),
                    ]
                ),
                Step.agent("reviewer", "Review complete document"),
                Step.conditional(
                    condition=lambda state: state.get("review_score") < 8,
                    true_step=Step.agent("writer", "Revise based on feedback"),
                    false_step=Step.transform(lambda x: {"status": "approved", "content": x}),
                ),
            ],
        )

        result = await workflow.run({"topic": "AI Safety"})
        # --- end of the seed's lines ---
        models = {body["model"] for body in stub.chat_requests}
    assert models == {"gpt-4o-mini"}
    assert result.path == [
        "s1_researcher",
        "s2_parallel_1_writer",
        "s2_parallel_2_writer",
        "s3_reviewer",
        "s4_conditional_else_transform",
    ]
    assert result.output == {"status": "approved", "content": "Done: Review complete document"}
    assert result.state["review_score"] == 9
    assert result.state["research_history"] == ["AI Safety"]


async def test_seed_hanzo_provider_network_runs_verbatim(
    env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The seed names http://localhost:4000/v1, so the stub listens exactly there.
    stub = OpenAIStubServer(["Hello from the router."], port=4000, api_key="your-key")
    try:
        stub.start()
    except OSError as exc:
        pytest.fail(f"port 4000 is taken ({exc}); the seed's Hanzo snippet needs it free")
    with stub:
        monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")  # must not be used
        monkeypatch.setenv("OPENAI_API_KEY", "sk-unused")
        # --- the seed's lines, import root changed, agents=[...] filled in ---
        network = create_network(
            agents=[researcher, writer, reviewer],
            model_provider=HanzoModelProvider(
                base_url="http://localhost:4000/v1", api_key="your-key"
            ),
        )
        # --- end of the seed's lines ---
        result = await network.run("Say hello")
        models = [body["model"] for body in stub.chat_requests]
    assert result.output == "Hello from the router."
    assert result.agent_path == ["Researcher"]
    assert models == ["gpt-4o-mini"]


async def test_seed_human_in_the_loop_runs_verbatim(
    env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = [
        ToolCall("human_approval_tool", {"action": "rename the repo", "details": "to moths"}),
        "Renamed it.",
    ]
    with OpenAIStubServer(script) as stub:
        monkeypatch.setenv("OPENAI_BASE_URL", stub.base_url)
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        # --- the seed's lines, import root changed ---
        from graph_agents.tools import human_approval_tool

        agent = Agent(
            name="Assistant",
            tools=[human_approval_tool],
            instructions="Get human approval before making changes",
        )
        # --- end of the seed's lines ---
        network = create_network(agents=[agent])
        paused = await network.run("Rename the repo to moths")
        assert paused.stop_reason == "interrupted"
        assert [(r.action, r.details) for r in paused.interrupts] == [
            ("rename the repo", "to moths")
        ]
        result = await network.resume(paused.thread_id, approve=True, feedback="fine")
        tools_sent = stub.chat_requests[0]["tools"]
        answer = stub.chat_requests[1]["messages"][-1]
    assert result.output == "Renamed it."
    assert [t["function"]["name"] for t in tools_sent] == ["human_approval_tool"]
    assert answer["role"] == "tool"
    assert answer["content"] == (
        "A human approved 'rename the repo'. Their feedback: fine. Go ahead."
    )
    assert len(stub.chat_requests) == 2
