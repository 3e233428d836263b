"""Secrets in shared state: kept in this process's memory, never written to a checkpoint.

A pydantic ``SecretStr`` (or ``SecretBytes``) set as a state value is replaced, in what
the graph checkpoints, by a `SecretRef`: an opaque handle (an HMAC of the secret under a
key that lives only in this process's memory). Reads turn the handle back into the
secret. A process that does not hold the handle (a thread resumed elsewhere) reads a
`MissingSecret`, whose ``get_secret_value()`` raises with what to do.

Secrets are supported as top-level state values only (``state.set("api_key",
SecretStr(...))``); a secret nested in a list, dict or model is refused where it is
written (see `graph_agents.state.check_storable`), because nothing could keep it out of
the checkpoint there.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import SecretBytes, SecretStr

from .exceptions import ConfigurationError

__all__ = ["MissingSecret", "SecretRef", "conceal", "is_secret", "reveal", "reveal_state"]

_KEY = os.urandom(32)
_VAULT: dict[str, SecretStr | SecretBytes] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class SecretRef:
    """What a checkpoint holds in place of a secret state value."""

    handle: str
    """An HMAC of the secret under a key only this process knows."""
    kind: Literal["str", "bytes"] = "str"
    """Whether the secret was a ``SecretStr`` or a ``SecretBytes``."""


class MissingSecret(SecretStr):
    """A secret state value this process does not hold (it was set in another process).

    It prints masked like any ``SecretStr``; ``get_secret_value()`` raises
    `ConfigurationError` saying how to provide the secret again.
    """

    def __init__(self, key: str | None = None):
        super().__init__("")
        self._key = key

    def get_secret_value(self) -> str:
        """Raise: the secret never left the process that set it.

        Raises:
            ConfigurationError: always.
        """
        where = f" {self._key!r}" if self._key else ""
        raise ConfigurationError(
            f"The secret state value{where} was set in another process; secrets are kept "
            "in memory only and never written to checkpoints. Set it again in this "
            "process, e.g. network.state.set(key, SecretStr(...)) at startup."
        )


def is_secret(value: object) -> bool:
    """Whether ``value`` is a pydantic secret (``SecretStr`` or ``SecretBytes``)."""
    return isinstance(value, (SecretStr, SecretBytes))


def conceal(value: Any) -> Any:
    """``value`` as it may be checkpointed: a secret becomes a `SecretRef`."""
    if isinstance(value, SecretStr):
        raw = value.get_secret_value().encode("utf-8")
        kind: Literal["str", "bytes"] = "str"
    elif isinstance(value, SecretBytes):
        raw = value.get_secret_value()
        kind = "bytes"
    else:
        return value
    handle = hmac.new(_KEY, kind.encode() + b"\x00" + raw, hashlib.sha256).hexdigest()[:32]
    with _LOCK:
        _VAULT.setdefault(handle, value)
    return SecretRef(handle, kind)


def reveal(value: Any, key: str | None = None) -> Any:
    """``value`` as tools and routers see it: a `SecretRef` becomes the secret again."""
    if not isinstance(value, SecretRef):
        return value
    secret = _VAULT.get(value.handle)
    return secret if secret is not None else MissingSecret(key)


def reveal_state(shared: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy of a checkpointed state dict with its secrets revealed."""
    return {key: reveal(value, key) for key, value in (shared or {}).items()}
