"""Errors raised by graph_agents.

Every error derives from `GraphAgentsError`, so one ``except`` catches them all::

    GraphAgentsError
    ├── ConfigurationError     a definition is wrong: fix the code, then run again
    ├── RoutingError           a router named an unknown agent, or none could be chosen
    ├── WorkflowError          a workflow step is invalid, or failed while running
    ├── ModelProviderError     the model endpoint refused or could not be reached
    ├── ToolError              a tool failed where its error cannot go back to the model
    ├── BackendError           a compute backend failed to run an agent turn
    ├── ConcurrentRunError     a second run was started on a thread that is running
    └── StoreError             a state store refused or failed an operation

Messages name the offending value with ``repr`` and say how to fix it.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "ConcurrentRunError",
    "ConfigurationError",
    "GraphAgentsError",
    "ModelProviderError",
    "RoutingError",
    "StoreError",
    "ToolError",
    "WorkflowError",
]


class GraphAgentsError(Exception):
    """Base class of every error graph_agents raises."""


class ConfigurationError(GraphAgentsError):
    """A definition (agent, tool, network, router, workflow) is invalid.

    Raised while building objects, before anything runs.
    """


class RoutingError(GraphAgentsError):
    """A router named an unknown agent, raised, or no agent could be chosen."""


class WorkflowError(GraphAgentsError):
    """A workflow definition is invalid, or a step failed while running."""


class ModelProviderError(GraphAgentsError):
    """A model call failed for a reason retrying will not fix.

    When the call was an agent's turn, the message starts with the agent (and the
    workflow step) it was for.

    Attributes:
        model: The model name that was called.
        endpoint: The base URL that was called, when known.
        agent: The agent whose turn called it, when known.
        step: The workflow step that ran that agent, when known.
        detail: The message without the agent and step.
    """

    def __init__(
        self,
        message: str,
        *,
        model: str | None = None,
        endpoint: str | None = None,
        agent: str | None = None,
        step: str | None = None,
    ):
        where = []
        if step is not None:
            where.append(f"Step {step!r}")
        if agent is not None:
            where.append(f"agent {agent!r}" if where else f"Agent {agent!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.model = model
        self.endpoint = endpoint
        self.agent = agent
        self.step = step
        self.detail = message

    def within(self, *, agent: str | None = None, step: str | None = None) -> ModelProviderError:
        """The same error, attributed to ``agent`` and ``step`` (kept when ``None``)."""
        return ModelProviderError(
            self.detail,
            model=self.model,
            endpoint=self.endpoint,
            agent=agent if agent is not None else self.agent,
            step=step if step is not None else self.step,
        )


class ToolError(GraphAgentsError):
    """A tool failed and the failure could not be returned to the model.

    Attributes:
        tool: The name of the failing tool.
    """

    def __init__(self, message: str, *, tool: str | None = None):
        super().__init__(message)
        self.tool = tool


class BackendError(GraphAgentsError):
    """A compute backend could not run an agent turn."""


class ConcurrentRunError(GraphAgentsError):
    """A run was started on a ``thread_id`` while another run on it is in progress.

    Attributes:
        thread_id: The contended thread.
    """

    def __init__(self, message: str, *, thread_id: str):
        super().__init__(message)
        self.thread_id = thread_id


class StoreError(GraphAgentsError):
    """A state store refused or failed an operation.

    Raised, for example, when a checkpoint blob names a type that checkpoints may not
    hold (a tampered database), when an encrypted store meets a plain blob, or when a
    blob cannot be decrypted with the configured key. Nothing in the blob was executed.

    Attributes:
        store: The store, as the user configured it (``repr``), when known.
        operation: What was being done: ``"load"``, ``"save"``, ...
        retry_safe: Whether making the same call again is safe: it can succeed, and it
            repeats nothing that already happened.
        written: For a failed run, whether any of its checkpoints were stored (then
            ``resume(thread_id)`` continues it); ``None`` when no run was going on.

    A database failure (PostgreSQL, SQLite) is always raised as a ``StoreError`` with the
    driver's exception as its ``__cause__``; the store is named without its password.
    """

    def __init__(
        self,
        message: str,
        *,
        store: str | None = None,
        operation: str | None = None,
        retry_safe: bool = False,
        written: bool | None = None,
    ):
        super().__init__(message)
        self.store = store
        self.operation = operation
        self.retry_safe = retry_safe
        self.written = written
