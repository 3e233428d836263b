"""`LLMRouter`: a model picks the next agent after every turn (AgentKit's routing agent)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage, ToolMessage

from .._checks import check_int
from ..exceptions import RoutingError
from ..models import describe_model, resolve_model, stream_chat
from .base import RouteContext, Router, RouterSetup, RoutingDecision

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from ..agent import Agent
    from ..models import ModelProvider
    from ..state import StateView

__all__ = ["LLMRouter"]

_SELECT = "select_agent"
_DONE = "done"
_TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": _SELECT,
            "description": "Give the next turn to one agent.",
            "parameters": {
                "type": "object",
                "required": ["name", "reason"],
                "properties": {
                    "name": {"type": "string", "description": "The agent's exact name."},
                    "reason": {"type": "string", "description": "Why this agent, in one sentence."},
                },
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": _DONE,
            "description": "Finish: the request is fully answered.",
            "parameters": {
                "type": "object",
                "required": ["summary"],
                "properties": {
                    "summary": {"type": "string", "description": "What was achieved."},
                },
            },
        },
    },
]


class LLMRouter(Router):
    """A per-turn router that asks a model who acts next, or whether the work is done.

    The model sees the agents' names and descriptions, the request and the conversation
    so far, and must call ``select_agent(name, reason)`` or ``done(summary)``. An invalid
    pick (an unknown agent, no tool call, malformed arguments) gets one corrective retry;
    a second invalid pick raises `RoutingError`.

    Args:
        model: A ``BaseChatModel`` or a name resolved by the network's provider;
            ``None`` uses the network's default model.
        max_history: How many of the latest conversation messages the model sees.
    """

    per_turn = True

    def __init__(self, model: str | BaseChatModel | None = None, *, max_history: int = 20):
        self._model_spec = model
        self.max_history: int = check_int(
            max_history, "max_history", minimum=0, owner="LLMRouter: "
        )
        self._model: BaseChatModel | None = None
        self._provider: ModelProvider | None = None

    def prepare(self, setup: RouterSetup) -> None:
        """Resolve the model now, so a bad one fails at ``create_network``."""
        self._provider = setup.provider
        self._model = resolve_model(
            self._model_spec,
            default=setup.default_model,
            provider=setup.provider,
            owner="LLMRouter",
        )

    @property
    def model(self) -> BaseChatModel:
        """The routing model: the one given, else resolved as agents' models are
        (`graph_agents.models.resolve_model`)."""
        if self._model is None:
            self._model = resolve_model(
                self._model_spec, default=None, provider=self._provider, owner="LLMRouter"
            )
        return self._model

    async def route(
        self,
        query: str,
        agents: Sequence[Agent],
        state: StateView,
        context: RouteContext | None = None,
    ) -> RoutingDecision:
        """Ask the model for the next agent, or to finish; an invalid pick is retried once."""
        model = self.model
        bound = model.bind_tools(_TOOLS, tool_choice="any")
        prompt: list[BaseMessage] = [
            SystemMessage(_system_prompt(agents)),
            HumanMessage(_situation(query, context, self.max_history)),
        ]
        names = [agent.name for agent in agents]
        problem = ""
        for attempt in (1, 2):
            reply = await stream_chat(bound, prompt, base_model=model)
            decision, problem = _read(reply, names, router=self.name)
            if decision is not None:
                return decision
            if attempt == 1:
                call_id = reply.tool_calls[0]["id"] if reply.tool_calls else None
                prompt.append(reply)
                correction = (
                    f"Invalid: {problem}. Call {_SELECT} with one of: "
                    f"{', '.join(names)}; or call {_DONE}."
                )
                prompt.append(
                    ToolMessage(correction, tool_call_id=call_id)
                    if call_id
                    else HumanMessage(correction)
                )
        name, _ = describe_model(model)
        raise RoutingError(
            f"LLMRouter: model {name!r} made an invalid pick twice ({problem}); valid agents: "
            f"{', '.join(repr(n) for n in names)}. Use a model that follows tool calls, or "
            "describe the agents more clearly."
        )


def _system_prompt(agents: Sequence[Agent]) -> str:
    listing = "\n".join(f"- {agent.name}: {agent.profile}" for agent in agents)
    return (
        "You coordinate a team of agents. After each turn, decide which agent acts next, "
        f"by calling {_SELECT}, or call {_DONE} when the request is fully answered.\n\n"
        f"Agents:\n{listing}"
    )


def _situation(query: str, context: RouteContext | None, max_history: int) -> str:
    if context is None or context.call_count == 0:
        return f"Request: {query}\n\nNo agent has acted yet."
    answers = [m for m in context.messages if isinstance(m, AIMessage) and m.text]
    history = answers[-max_history:] if max_history else []
    lines = [f"{m.name or 'agent'}: {m.text}" for m in history]
    return (
        f"Request: {query}\n\nTurns so far: {context.call_count}. Last agent: "
        f"{context.last_agent}. Its result:\n{context.last_result}\n\n"
        + ("Conversation:\n" + "\n".join(lines) if lines else "")
    ).strip()


def _read(reply: AIMessage, names: list[str], *, router: str) -> tuple[RoutingDecision | None, str]:
    if reply.invalid_tool_calls:
        return None, f"malformed arguments {reply.invalid_tool_calls[0].get('args')!r}"
    if not reply.tool_calls:
        return None, f"no tool call (answered {reply.text[:80]!r})"
    call = reply.tool_calls[0]
    args = call["args"]
    if call["name"] == _DONE:
        return RoutingDecision(
            agent=None, router=router, reason=f"done: {args.get('summary', '')}"
        ), ""
    if call["name"] != _SELECT:
        return None, f"unknown tool {call['name']!r}"
    chosen = args.get("name")
    if chosen not in names:
        return None, f"unknown agent {chosen!r}"
    scores = {name: 1.0 if name == chosen else 0.0 for name in names}
    return RoutingDecision(
        agent=chosen, scores=scores, router=router, reason=str(args.get("reason", ""))
    ), ""
