"""What the agent's model is asked about memories: importance ratings and reflections,
and the heuristic importance used when the model is not asked."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

__all__ = ["draw_insights", "heuristic_importance", "rate_importance"]

logger: logging.Logger = logging.getLogger("graph_agents.memory")

_IMPORTANT = re.compile(
    r"\b(always|never|prefer|prefers|favou?rite|allergic|important|remember|must|deadline|"
    r"birthday|my name|i am|i'm|i live|password|budget)\b",
    re.I,
)


def heuristic_importance(text: str) -> float:
    """A cheap 1-10 importance: longer text and words of preference or commitment rate
    higher."""
    hits = len(_IMPORTANT.findall(text))
    length = min(len(text.split()) / 40.0, 1.0)
    return round(min(10.0, 2.0 + 2.5 * hits + 2.0 * length), 2)


async def rate_importance(model: Any, text: str) -> float | None:
    """The model's 1-10 rating of ``text``; ``None`` when it fails or gives no number."""
    from langchain_core.messages import HumanMessage

    try:
        reply = await model.ainvoke(
            [
                HumanMessage(
                    "On a scale of 1 to 10, how important is this exchange to remember "
                    f"for later conversations? Reply with one number.\n\n{text}"
                )
            ]
        )
        match = re.search(r"\d+(\.\d+)?", str(reply.content))
        return max(1.0, min(10.0, float(match.group(0)))) if match else None
    except Exception:
        logger.warning("Rating a memory's importance failed; the heuristic rates it")
        return None


async def draw_insights(model: Any, texts: Sequence[str]) -> list[str]:
    """At most 3 insights the model draws from ``texts``, one per line of its reply.

    Raises:
        Exception: whatever the model call raises (the caller logs and retries later).
    """
    from langchain_core.messages import HumanMessage

    listing = "\n".join(f"{i + 1}. {t}" for i, t in enumerate(texts))
    reply = await model.ainvoke(
        [
            HumanMessage(
                "Here are things you observed in earlier conversations:\n"
                f"{listing}\n\nWhat are at most 3 high-level insights about the user or "
                "the task you can infer from them? Reply with one insight per line."
            )
        ]
    )
    lines = [
        re.sub(r"^\s*(?:[-*]|\d+[.)])\s*", "", line).strip()
        for line in str(reply.content).splitlines()
    ]
    return [line for line in lines if line][:3]
