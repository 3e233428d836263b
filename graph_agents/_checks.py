"""Checks for arguments (numbers, ids, callbacks), so a bad value fails where it is given.

Each raises `ConfigurationError` naming the argument, the value and what it must be.
``bool`` is refused wherever a number is expected (``True`` is an ``int`` to Python, never
a sensible count or weight).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from .exceptions import ConfigurationError

__all__ = ["check_callback", "check_int", "check_number", "check_thread_id", "check_user_id"]


def check_int(
    value: Any, name: str, *, minimum: int, maximum: int | None = None, owner: str = ""
) -> int:
    """``value`` as an ``int`` of at least ``minimum`` (and at most ``maximum``).

    Raises:
        ConfigurationError: ``value`` is not an integer, or is out of bounds.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(
            f"{owner}{name}={value!r} must be a whole number of at least {minimum}, "
            f"not a {type(value).__name__}."
        )
    if value < minimum:
        raise ConfigurationError(f"{owner}{name}={value!r} must be at least {minimum}.")
    if maximum is not None and value > maximum:
        raise ConfigurationError(f"{owner}{name}={value!r} must be at most {maximum}.")
    return value


def check_number(
    value: Any,
    name: str,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    owner: str = "",
    meaning: str = "",
) -> float:
    """``value`` as a finite ``float`` within the bounds given.

    ``minimum``/``maximum`` are inclusive bounds, ``above`` an exclusive lower bound;
    ``meaning`` is appended to the message (e.g. what the range stands for).

    Raises:
        ConfigurationError: ``value`` is not a finite number, or is out of bounds.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigurationError(
            f"{owner}{name}={value!r} must be a finite number{_bounds(minimum, maximum, above)}"
            f".{meaning}"
        )
    if (
        (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
        or (above is not None and value <= above)
    ):
        raise ConfigurationError(
            f"{owner}{name}={value!r} is out of range: it must be"
            f"{_bounds(minimum, maximum, above).removeprefix(',')}.{meaning}"
        )
    return float(value)


def _bounds(minimum: float | None, maximum: float | None, above: float | None) -> str:
    parts = []
    if above is not None:
        parts.append(f"greater than {above:g}")
    if minimum is not None:
        parts.append(f"at least {minimum:g}")
    if maximum is not None:
        parts.append(f"at most {maximum:g}")
    return ", " + " and ".join(parts) if parts else ""


def check_user_id(agents: Iterable[Any], user_id: object, owner: str) -> str | None:
    """``user_id``, checked before a run starts: a str when given, and given when an
    agent's memory has ``scope="user"`` (its memories have no namespace without it).

    Raises:
        ConfigurationError: ``user_id`` is not a non-empty str, or is missing where it
            is needed.
    """
    if user_id is not None and (not isinstance(user_id, str) or not user_id.strip()):
        raise ConfigurationError(
            f"{owner}: user_id={user_id!r}; pass the user's id as a non-empty str."
        )
    if user_id is None:
        needs = [
            agent.name
            for agent in agents
            if getattr(getattr(agent, "memory", None), "scope", None) == "user"
        ]
        if needs:
            raise ConfigurationError(
                f"{owner}: the memory of {needs!r} has scope='user'; pass user_id=... so "
                "their memories stay with their user."
            )
    return user_id


def check_callback(callback: object) -> None:
    """Refuse a ``stream_callback`` that cannot be called, before the run starts.

    Raises:
        ConfigurationError: ``callback`` is neither ``None`` nor callable.
    """
    if callback is not None and not callable(callback):
        raise ConfigurationError(
            f"stream_callback={callback!r} is not callable; pass a function (sync or async) "
            "that takes an Event, or None."
        )


def check_thread_id(thread_id: object, owner: str = "") -> str:
    """``thread_id`` itself, when it is a non-empty ``str``.

    Raises:
        ConfigurationError: it is not a ``str``, or it is empty or blank.
    """
    if not isinstance(thread_id, str) or not thread_id.strip():
        raise ConfigurationError(
            f"{owner}thread_id={thread_id!r} must be a non-empty str (the thread's id)."
        )
    return thread_id
