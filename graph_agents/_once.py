"""Single-flight openings: the first caller does the work, the others await its future."""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["fail"]


def fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    """Fail ``future`` with ``exc`` for the callers waiting on it (a cancellation
    cancels it), without "exception was never retrieved" when none waits."""
    if isinstance(exc, Exception):
        future.set_exception(exc)
        future.exception()
    else:
        future.cancel()
