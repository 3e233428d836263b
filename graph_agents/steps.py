"""`Step`: the declarative building blocks of a workflow. Plain data, no LangGraph here."""

from __future__ import annotations

import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .exceptions import WorkflowError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .state import StateView

__all__ = [
    "AgentStep",
    "ConditionalStep",
    "LoopStep",
    "ParallelStep",
    "Step",
    "TransformStep",
    "template_keys",
]


@dataclass(frozen=True, kw_only=True)
class Step:
    """A workflow step. Build steps with the constructors below."""

    name: str | None = None
    """The step id in paths, state and the graph; generated from the position when ``None``."""

    @staticmethod
    def agent(
        agent_name: str,
        prompt_template: str,
        *,
        output_key: str | None = None,
        output_type: type[BaseModel] | None = None,
        name: str | None = None,
    ) -> AgentStep:
        """Ask an agent (named case-insensitively) to do what the filled-in template says.

        ``{key}`` placeholders are filled from the run's inputs and the shared state,
        which holds every earlier step's output under its ``output_key``; write literal
        braces doubled (``'{{"title": ...}}'``). The previous step's output is appended as
        context, unless the template already quotes it by its key. With a pydantic
        ``output_type`` the answer is parsed, stored, and its fields merged into state.

        A step whose agent fails raises `WorkflowError` naming the step and the agent
        (a model failure stays a `ModelProviderError`, naming both), with the cause chained.
        """
        return AgentStep(
            agent_name=agent_name,
            prompt_template=prompt_template,
            output_key=output_key,
            output_type=output_type,
            name=name,
        )

    @staticmethod
    def parallel(steps: Sequence[Step], *, name: str | None = None) -> ParallelStep:
        """Run ``steps`` concurrently; their outputs are collected in declaration order."""
        return ParallelStep(steps=tuple(steps), name=name)

    @staticmethod
    def conditional(
        condition: Callable[[StateView], bool],
        true_step: Step,
        false_step: Step | None = None,
        *,
        name: str | None = None,
    ) -> ConditionalStep:
        """Run ``true_step`` when ``condition(state)`` holds, else ``false_step`` (if any)."""
        return ConditionalStep(
            condition=condition, true_step=true_step, false_step=false_step, name=name
        )

    @staticmethod
    def transform(
        fn: Callable[[Any], Any], *, output_key: str | None = None, name: str | None = None
    ) -> TransformStep:
        """Compute a new output from the previous one (sync or async ``fn``).

        ``fn`` receives the previous step's output as that step produced it: the answer
        text of an agent step, the parsed object of an ``output_type`` step (also after a
        resume from a checkpoint), a list in branch order after a parallel step, and
        whatever a transform returned. Its return value is the step's output.
        """
        return TransformStep(fn=fn, output_key=output_key, name=name)

    @staticmethod
    def loop(
        body: Step | Sequence[Step],
        *,
        until: Callable[[StateView], bool],
        max_iterations: int = 3,
        name: str | None = None,
    ) -> LoopStep:
        """Repeat ``body`` until ``until(state)`` holds, at most ``max_iterations`` times."""
        steps = (body,) if isinstance(body, Step) else tuple(body)
        return LoopStep(body=steps, until=until, max_iterations=max_iterations, name=name)


@dataclass(frozen=True, kw_only=True)
class AgentStep(Step):
    """See `Step.agent`."""

    agent_name: str
    prompt_template: str
    output_key: str | None = None
    output_type: type[BaseModel] | None = None


@dataclass(frozen=True, kw_only=True)
class ParallelStep(Step):
    """See `Step.parallel`."""

    steps: tuple[Step, ...] = field(default=())


@dataclass(frozen=True, kw_only=True)
class ConditionalStep(Step):
    """See `Step.conditional`."""

    condition: Callable[[StateView], bool]
    true_step: Step
    false_step: Step | None = None


@dataclass(frozen=True, kw_only=True)
class TransformStep(Step):
    """See `Step.transform`."""

    fn: Callable[[Any], Any]
    output_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class LoopStep(Step):
    """See `Step.loop`."""

    body: tuple[Step, ...]
    until: Callable[[StateView], bool]
    max_iterations: int = 3


def template_keys(template: str, *, step: str) -> list[str]:
    """The root names of a template's ``{placeholders}``.

    Raises:
        WorkflowError: the template is not a valid format string.
    """
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        raise WorkflowError(
            f"Step {step!r}: prompt template {template!r} is invalid ({exc}). Double literal "
            "braces: '{{' and '}}'."
        ) from exc
    keys = []
    for name in fields:
        root = name.split(".", 1)[0].split("[", 1)[0]
        if not root or root.isdigit():
            raise WorkflowError(
                f"Step {step!r}: prompt template {template!r} has a positional placeholder; "
                "name it, e.g. '{topic}'."
            )
        if not root.isidentifier():
            raise WorkflowError(
                f"Step {step!r}: prompt template {template!r} has the placeholder "
                f"{{{name}}}, which is not a name. Placeholders look like '{{topic}}'; "
                "for literal braces, double them: '{{' and '}}' (e.g. "
                """'Reply as {{"title": ...}}')."""
            )
        keys.append(root)
    return keys
