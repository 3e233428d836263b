"""`Agent`: the definition of one agent. Plain data; networks compile it to graph nodes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import TYPE_CHECKING, Any

from ._checks import check_int, check_number
from .exceptions import ConfigurationError
from .tools import DEFAULT_TOOL_TIMEOUT, Tool, tool_from

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.tools import BaseTool
    from pydantic import BaseModel

__all__ = ["COMPUTE_BACKENDS", "Agent"]

COMPUTE_BACKENDS: tuple[str, ...] = ("local",)
"""The compute backend names this version runs; any other name is a `ConfigurationError`."""


@dataclass(eq=False)
class Agent:
    """One agent: instructions, tools and a model.

    Raises:
        ConfigurationError: an empty name, a tool that is not callable, two tools with one
            name, a ``max_tool_rounds`` below 1, or an unknown ``compute_backend``.
    """

    name: str
    """Unique within a network; routers and handoffs refer to agents by it."""
    instructions: str = ""
    """The system prompt."""
    _: KW_ONLY
    tools: Sequence[Tool | BaseTool | Callable[..., Any]] = field(default=())
    """Plain sync or async functions, LangChain ``BaseTool``s, or `Tool`s."""
    model: str | BaseChatModel | None = field(default=None)
    """A model name resolved by the network's provider, or any ``BaseChatModel``.
    ``None`` uses the network's ``default_model``."""
    description: str | None = field(default=None)
    """What routers match requests against; defaults to ``instructions``."""
    memory: Any = field(default=None)
    """Long-term memory: a `graph_agents.memory.MemoryManager`. Before each turn the
    memories most relevant to the request are put into the agent's context; after the
    turn the exchange is stored (and reflected on)."""
    compute_backend: str = field(default="local")
    """Where this agent's turns run; one of `COMPUTE_BACKENDS`."""
    output_type: type[BaseModel] | None = field(default=None)
    """A pydantic model the final answer is parsed into (``RunResult.parsed``)."""
    examples: Sequence[str] | Mapping[str, Sequence[str]] = field(default=())
    """Example requests this agent handles, for semantic routing: a list, or named
    clusters of requests (``{"refunds": [...], "invoices": [...]}``)."""
    max_tool_rounds: int = field(default=10)
    """The most model/tool rounds one turn may take before it stops with
    ``stop_reason="max_tool_rounds"``."""
    tool_timeout: float | None = field(default=DEFAULT_TOOL_TIMEOUT)
    """Seconds one call of this agent's tools may take (300 by default) before it is
    cancelled and a timeout error goes back to the model; ``None`` for no limit. A tool's
    own ``timeout`` (``tool_from(fn, timeout=...)``) takes precedence."""

    _tools: tuple[Tool, ...] = field(default=(), init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise ConfigurationError(
                f"Agent name {self.name!r} is empty. Give every agent a unique, non-empty name, "
                "e.g. Agent(name='Researcher', ...)."
            )
        owner = f"Agent {self.name!r}: "
        check_int(self.max_tool_rounds, "max_tool_rounds", minimum=1, owner=owner)
        if self.tool_timeout is not None:
            check_number(
                self.tool_timeout,
                "tool_timeout",
                above=0,
                owner=owner,
                meaning=" It is in seconds; None means no limit.",
            )
        if self.compute_backend not in COMPUTE_BACKENDS:
            choices = ", ".join(repr(c) for c in COMPUTE_BACKENDS)
            raise ConfigurationError(
                f"Agent {self.name!r}: unknown compute_backend {self.compute_backend!r}; "
                f"choose one of {choices}."
            )
        if isinstance(self.tools, (str, bytes)) or not isinstance(self.tools, Sequence):
            raise ConfigurationError(
                f"Agent {self.name!r}: tools must be a list, got {self.tools!r}."
            )
        tools: list[Tool] = []
        seen: dict[str, Tool] = {}
        for item in self.tools:
            try:
                converted = tool_from(item)
            except ConfigurationError as exc:
                raise ConfigurationError(f"Agent {self.name!r}: {exc}") from exc
            if converted.name in seen:
                raise ConfigurationError(
                    f"Agent {self.name!r} has two tools named {converted.name!r}. Rename one "
                    f"with graph_agents.tools.tool_from(fn, name='...')."
                )
            seen[converted.name] = converted
            tools.append(converted)
        self._tools = tuple(tools)

    @property
    def tool_list(self) -> tuple[Tool, ...]:
        """The agent's own tools, converted to `Tool`s."""
        return self._tools

    @property
    def profile(self) -> str:
        """The text routers match against: the description, or else the instructions."""
        return self.description or self.instructions or self.name
