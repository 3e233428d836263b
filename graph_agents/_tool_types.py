"""The tool types: `Tool`, `ToolContext`, timeouts and approval policies.

`graph_agents.tools` builds tools (`tool_from`) and re-exports everything here; import
from there.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeAlias

from .state import SharedState

__all__ = [
    "AGENT_TIMEOUT",
    "DEFAULT_TOOL_TIMEOUT",
    "ApprovalPolicy",
    "Tool",
    "ToolArgumentsError",
    "ToolCallError",
    "ToolContext",
    "ToolTimeout",
]

logger: logging.Logger = logging.getLogger("graph_agents.tools")

DEFAULT_TOOL_TIMEOUT = 300.0
"""Seconds a tool call may take before it is cancelled, unless the agent or tool says
otherwise (``Agent(tool_timeout=...)``, ``tool_from(fn, timeout=...)``)."""


class _AgentTimeout(enum.Enum):
    """The one value of `AGENT_TIMEOUT`: use the agent's ``tool_timeout``."""

    AGENT = "agent"


AGENT_TIMEOUT: Final = _AgentTimeout.AGENT
"""A tool's ``timeout`` when it uses its agent's ``tool_timeout`` (the default)."""

ToolTimeout = float | None | _AgentTimeout

ToolEvents: TypeAlias = Callable[[str, dict[str, Any]], None]
"""Emits a ``tool.started``/``tool.completed`` event within the running tool call."""

tool_events: ContextVar[ToolEvents | None] = ContextVar("graph_agents_tool_events", default=None)
"""Set by the tool step while a tool body runs: how a composite tool reports its stages."""

ApprovalPolicy: TypeAlias = bool | Callable[[dict[str, Any]], bool]
"""``True``: every call needs a human's approval; a predicate: the calls for whose
(validated) arguments it returns true do. ``False``: none do."""


@dataclass(frozen=True, kw_only=True)
class ToolContext:
    """Who is calling: give a tool a parameter annotated ``ToolContext`` to receive it.

    The parameter is hidden from the model, like the shared state. ``idempotency_key``
    is the same on every attempt of one call: when a run dies while the tool runs (or
    a model or process failure makes it run again) and is resumed, the call runs again
    with the same key and ``attempt`` one higher. Pass the key to an API that
    deduplicates (payments, emails) to make the side effect happen once.
    """

    thread_id: str
    """The thread the run belongs to."""
    agent: str
    """The agent whose model called the tool."""
    tool: str
    """The tool's name."""
    tool_call_id: str
    """The model's id for this call."""
    attempt: int
    """How many times this call's body has started, this time included (1 at first)."""
    idempotency_key: str
    """Stable across retries and resumes of this one call; different for every other
    call, thread and fork."""


class ToolArgumentsError(Exception):
    """The model called a tool with arguments that do not fit its schema."""


class ToolCallError(Exception):
    """A tool raised; carries the tool name and the original exception as ``__cause__``."""

    def __init__(self, tool: str, error: BaseException):
        super().__init__(f"Tool {tool!r} raised {type(error).__name__}: {error}")
        self.tool = tool


@dataclass(kw_only=True, eq=False)
class Tool:
    """A callable the model can invoke, with its JSON schema.

    Build one with `tool_from`; agents accept functions and LangChain tools directly.
    """

    name: str
    """The name the model calls the tool by."""
    description: str
    """What the tool does, as the model reads it."""
    parameters: dict[str, Any]
    """The JSON schema of the arguments the model passes."""
    function: Callable[..., Any]
    """The underlying callable."""
    requires_approval: ApprovalPolicy = False
    """Pause the run for a human's approval before this tool runs: ``True`` for every
    call, or a predicate over the call's validated arguments."""
    timeout: ToolTimeout = AGENT_TIMEOUT
    """Seconds one call may take before it is cancelled and its error goes back to the
    model; ``None`` for no limit; `AGENT_TIMEOUT` for the agent's ``tool_timeout``."""
    kind: Literal["function", "langchain", "approval"] = "function"
    """``"approval"`` for `human_approval_tool`, whose answer is the human's decision."""
    takes_context: bool = False
    """Whether the tool has a `ToolContext` parameter."""
    _invoke: Callable[[dict[str, Any], SharedState, ToolContext | None], Awaitable[Any]] = field(
        repr=False
    )
    _parse: Callable[[dict[str, Any]], dict[str, Any]] = field(repr=False, default=dict)

    async def invoke(
        self,
        arguments: Mapping[str, Any],
        state: SharedState,
        context: ToolContext | None = None,
    ) -> Any:
        """Validate ``arguments`` and run the tool.

        Raises:
            ToolArgumentsError: the arguments do not fit the schema.
            ToolCallError: the tool itself raised.
        """
        return await self._invoke(dict(arguments), state, context)

    def parse_arguments(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """``arguments`` validated against the schema, as the tool's body receives them.

        Raises:
            ToolArgumentsError: the arguments do not fit the schema.
        """
        return self._parse(dict(arguments))

    def needs_approval(self, arguments: Mapping[str, Any]) -> bool:
        """Whether a call with ``arguments`` must wait for a human's approval.

        Arguments that do not fit the schema need none (the call fails without running).
        A predicate that raises counts as "needs approval": approval is never skipped
        because of an error.
        """
        policy = self.requires_approval
        if policy is False:
            return False
        if policy is True:
            return True
        try:
            parsed = self.parse_arguments(arguments)
        except ToolArgumentsError:
            return False
        try:
            return bool(policy(parsed))
        except Exception:
            logger.warning(
                "The requires_approval predicate of tool %r raised; the call waits for approval",
                self.name,
                exc_info=True,
            )
            return True

    def openai_schema(self) -> dict[str, Any]:
        """The tool in the OpenAI ``tools`` format."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.parameters,
            },
        }
