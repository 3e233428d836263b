"""How checkpoints are serialized: strict by default, encrypted on request.

LangGraph's default serializer imports and calls whatever module and name a stored blob
names, so whoever can write to the checkpoint database can run code in every process
that loads it. `CheckpointSerializer` is LangGraph's ``JsonPlusSerializer`` with its
msgpack allowlist on: LangGraph's own safe types (messages, datetimes, UUIDs, ...), our
state types, and the types a user declares (``create_network(checkpoint_types=[...])``).
A blob that names any other type is refused with a `StoreError`, never constructed
(LangGraph alone would log a warning and hand back the raw data). Pickle blobs and
LangChain ``json`` constructors outside the allowlist are refused too.

With a key (``encrypt_checkpoints=key``) every blob is encrypted with AES-256-GCM
(``cryptography``), through LangGraph's ``EncryptedSerializer``, and a plain blob is
refused (LangGraph's serializer would accept it as it is, so an attacker could swap in
an unencrypted, unauthenticated blob).

========================  =========================================================
blob ``type``             loaded when
========================  =========================================================
``msgpack``               no key is configured, and every type it names is allowed
``msgpack+aesgcm``        a key is configured and decrypts it (GCM authenticates it)
``null``/``bytes``        no key is configured
``json``                  no key is configured, and it has no disallowed constructor
``pickle``                never
========================  =========================================================
"""

from __future__ import annotations

import base64
import binascii
import contextvars
import importlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TypeAlias

import ormsgpack
from langgraph.checkpoint.serde.base import CipherProtocol
from langgraph.checkpoint.serde.encrypted import EncryptedSerializer
from langgraph.checkpoint.serde.event_hooks import SerdeEvent, register_serde_event_listener
from langgraph.checkpoint.serde.jsonplus import (
    EXT_DELTA_SNAPSHOT,
    EXT_PYDANTIC_V2,
    JsonPlusSerializer,
    _create_msgpack_ext_hook,
)
from langgraph.checkpoint.serde.types import _DeltaSnapshot

from ..exceptions import ConfigurationError, StoreError

__all__ = [
    "CIPHER_NAME",
    "STATE_TYPES",
    "AesGcmCipher",
    "CheckpointSerializer",
    "EncryptedCheckpointSerializer",
    "Primitive",
    "encryption_key",
    "make_serializer",
]

CIPHER_NAME = "aesgcm"

STATE_TYPES: frozenset[tuple[str, str]] = frozenset(
    {
        ("graph_agents._secrets", "SecretRef"),
    }
)
"""Our own types that checkpoints hold, beside LangGraph's ``SAFE_MSGPACK_TYPES``."""

_BLOCKED: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "graph_agents_blocked_types", default=None
)


def _note_blocked(event: SerdeEvent) -> None:
    if event["kind"] in ("msgpack_blocked", "msgpack_method_blocked"):
        blocked = _BLOCKED.get()
        if blocked is not None:
            name = f"{event['module']}.{event['name']}"
            if "method" in event:
                name = f"{name}.{event['method']}"
            blocked.append(name)


register_serde_event_listener(_note_blocked)


@dataclass(frozen=True, slots=True)
class Primitive:
    """A plain value (str, number, bool, None) a saver should store as a blob.

    PostgreSQL's saver keeps such values inline, as JSON, beside the checkpoint; with
    encryption on, the store wraps them in this so they are encrypted like the rest.
    The serializer stores the bare value: loading gives it back unwrapped.
    """

    value: Any


def _type_key(item: type | tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(item, tuple):
        return item
    if isinstance(item, type):
        return (item.__module__, item.__qualname__)
    raise ConfigurationError(
        f"checkpoint_types entry {item!r} is not a class; pass the classes (pydantic "
        "models, dataclasses, ...) your state holds, e.g. checkpoint_types=[Order]."
    )


_MESSAGE_MODULES = frozenset(
    {
        "langchain_core.messages.human",
        "langchain_core.messages.ai",
        "langchain_core.messages.system",
        "langchain_core.messages.tool",
        "langchain_core.messages.chat",
        "langchain_core.messages.function",
    }
)
_OPTIONS = ormsgpack.OPT_NON_STR_KEYS


def _fast_ext_hook(allowed: tuple[tuple[str, ...], ...]) -> Any:
    """LangGraph's strict ext hook, with LangChain messages revived without validation.

    A conversation is most of a thread, and validating every message again on every
    load costs more than reading it: a message was valid when it was written, so an
    allowlisted message class is rebuilt with ``model_construct``. Every other type goes
    through LangGraph's own (allowlist-checking) hook.
    """
    strict = _create_msgpack_ext_hook(set(allowed))
    classes: dict[tuple[str, str], Any] = {}

    def hook(code: int, data: bytes) -> Any:
        if code == EXT_DELTA_SNAPSHOT:
            return _DeltaSnapshot(ormsgpack.unpackb(data, ext_hook=hook, option=_OPTIONS))
        if code == EXT_PYDANTIC_V2:
            item = ormsgpack.unpackb(data, ext_hook=hook, option=_OPTIONS)
            key = (item[0], item[1])
            cls = classes.get(key)
            if cls is None and item[0] in _MESSAGE_MODULES:
                cls = classes[key] = getattr(importlib.import_module(item[0]), item[1])
            if cls is not None and isinstance(item[2], dict):
                return cls.model_construct(**item[2])
        return strict(code, data)

    return hook


class CheckpointSerializer(JsonPlusSerializer):
    """LangGraph's serializer with strict deserialization; see the module docstring."""

    def __init__(self, types: Iterable[type | tuple[str, ...]] = ()):
        self.types: tuple[tuple[str, ...], ...] = tuple(_type_key(t) for t in types)
        allowed = tuple({*STATE_TYPES, *self.types})
        super().__init__(
            allowed_msgpack_modules=allowed, __unpack_ext_hook__=_fast_ext_hook(allowed)
        )

    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        """Serialize ``obj``; a `Primitive` is stored as its bare value."""
        if isinstance(obj, Primitive):
            obj = obj.value
        return super().dumps_typed(obj)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """Deserialize a blob, constructing only allowed types.

        Raises:
            StoreError: the blob names a type outside the allowlist, is pickled, or is
                encrypted while no key is configured.
        """
        kind, payload = data
        if "+" in kind:
            raise StoreError(
                f"A checkpoint blob is encrypted ({kind!r}) but no key is configured. Pass "
                "the key it was written with: create_network(encrypt_checkpoints=key).",
                operation="load",
            )
        if kind == "pickle":
            raise StoreError(
                "Refused a pickled checkpoint blob: loading pickle runs arbitrary code, and "
                "graph_agents never writes one. The checkpoint store may have been "
                "tampered with.",
                operation="load",
            )
        if kind == "json":
            _check_json_constructors(payload)
        blocked: list[str] = []
        token = _BLOCKED.set(blocked)
        try:
            value = super().loads_typed(data)
        finally:
            _BLOCKED.reset(token)
        if blocked:
            names = ", ".join(repr(name) for name in dict.fromkeys(blocked))
            raise StoreError(
                f"Refused to load a checkpoint blob: it names {names}, which checkpoints "
                "may not hold, and was not constructed. If the checkpoint store was not "
                "tampered with and this is a type your state holds, allow it: "
                "create_network(checkpoint_types=[...]).",
                operation="load",
            )
        return value


def _check_json_constructors(payload: bytes) -> None:
    def hook(obj: dict[str, Any]) -> dict[str, Any]:
        if obj.get("lc") is not None and obj.get("type") == "constructor":
            ident = tuple(obj.get("id") or ())
            if ident[:1] not in (("langchain",), ("langchain_core",)):
                raise StoreError(
                    f"Refused to load a checkpoint blob: it constructs {'.'.join(ident)!r}, "
                    "which checkpoints may not hold. The store may have been tampered with.",
                    operation="load",
                )
        return obj

    try:
        json.loads(payload, object_hook=hook)
    except ValueError as exc:
        raise StoreError(f"A checkpoint blob is not valid JSON: {exc}.", operation="load") from exc


class AesGcmCipher(CipherProtocol):
    """AES-GCM from ``cryptography``: a fresh 96-bit nonce per blob, authenticated."""

    def __init__(self, key: bytes):
        try:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
        except ImportError as exc:
            raise ConfigurationError(
                "encrypt_checkpoints needs the 'cryptography' package: pip install "
                "'graph-agents[encryption]'."
            ) from exc
        self._aead = AESGCM(key)

    def encrypt(self, plaintext: bytes) -> tuple[str, bytes]:
        """Encrypt ``plaintext``; the nonce is stored before the ciphertext."""
        nonce = os.urandom(12)
        return CIPHER_NAME, nonce + self._aead.encrypt(nonce, plaintext, None)

    def decrypt(self, ciphername: str, ciphertext: bytes) -> bytes:
        """Decrypt and authenticate ``ciphertext``.

        Raises:
            StoreError: another cipher, the wrong key, or an altered blob.
        """
        from cryptography.exceptions import InvalidTag

        if ciphername != CIPHER_NAME:
            raise StoreError(
                f"A checkpoint blob is encrypted with {ciphername!r}; graph_agents writes "
                f"{CIPHER_NAME!r} only.",
                operation="load",
            )
        try:
            return self._aead.decrypt(ciphertext[:12], ciphertext[12:], None)
        except InvalidTag:
            raise StoreError(
                "A checkpoint blob does not decrypt with the configured key: the key is "
                "not the one it was written with, or the blob was altered.",
                operation="load",
            ) from None


class EncryptedCheckpointSerializer(EncryptedSerializer):
    """LangGraph's ``EncryptedSerializer`` that refuses plain blobs."""

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        """Decrypt, then deserialize strictly.

        Raises:
            StoreError: the blob is not encrypted, or does not decrypt.
        """
        if "+" not in data[0]:
            raise StoreError(
                f"Refused a plain ({data[0]!r}) checkpoint blob: encryption is on, so every "
                "blob must be encrypted. The store may have been tampered with, or it was "
                "written without encryption (migrate it, or open it without a key).",
                operation="load",
            )
        return super().loads_typed(data)


Serializer: TypeAlias = CheckpointSerializer | EncryptedCheckpointSerializer


def make_serializer(types: Iterable[type | tuple[str, ...]], key: bytes | None) -> Serializer:
    """The serializer for a store: strict, and encrypted when ``key`` is given."""
    strict = CheckpointSerializer(types)
    if key is None:
        return strict
    return EncryptedCheckpointSerializer(AesGcmCipher(key), strict)


def encryption_key(value: bytes | str) -> bytes:
    """The AES key ``encrypt_checkpoints`` names: 16, 24 or 32 raw bytes, or base64 text.

    Raises:
        ConfigurationError: the value is not such a key.
    """
    raw: bytes | None = None
    if isinstance(value, bytes):
        raw = value
    elif isinstance(value, str):
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        except (binascii.Error, ValueError):
            raw = None
    if raw is None or len(raw) not in (16, 24, 32):
        length = f" ({len(raw)} bytes)" if raw is not None else ""
        raise ConfigurationError(
            f"encrypt_checkpoints must be an AES key of 16, 24 or 32 bytes, or that key as "
            f"base64 text; got a {type(value).__name__}{length}. Make one with "
            "base64.urlsafe_b64encode(os.urandom(32)).decode() and keep it secret."
        )
    return raw
