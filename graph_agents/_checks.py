"""Checks for numbers given as arguments, so a bad value fails where it is given.

Each raises `ConfigurationError` naming the argument, the value and what it must be.
``bool`` is refused wherever a number is expected (``True`` is an ``int`` to Python, never
a sensible count or weight).
"""

from __future__ import annotations

import math
from typing import Any

from .exceptions import ConfigurationError

__all__ = ["check_int", "check_number"]


def check_int(value: Any, name: str, *, minimum: int, owner: str = "") -> int:
    """``value`` as an ``int`` of at least ``minimum``.

    Raises:
        ConfigurationError: ``value`` is not an integer, or is below ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigurationError(
            f"{owner}{name}={value!r} must be a whole number of at least {minimum}, "
            f"not a {type(value).__name__}."
        )
    if value < minimum:
        raise ConfigurationError(f"{owner}{name}={value!r} must be at least {minimum}.")
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
