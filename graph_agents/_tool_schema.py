"""How a Python function's signature and docstring become a tool's JSON schema."""

from __future__ import annotations

import re
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, PydanticUserError, ValidationError, create_model

from .exceptions import ConfigurationError

__all__ = [
    "check_name",
    "field_with_doc",
    "format_validation",
    "json_schema",
    "parse_docstring",
    "unschematic",
]

_NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def check_name(
    name: str, source: str, fix: str = "Pass name=... to tool_from() to rename it."
) -> None:
    """Raise `ConfigurationError` unless ``name`` is a valid tool name; the message says
    where the name came from (``source``) and how to change it (``fix``)."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise ConfigurationError(
            f"Tool name {name!r} (from {source}) is invalid: use 1-64 letters, digits, '_' "
            f"or '-'. {fix}"
        )


def field_with_doc(default: Any, doc: str | None) -> Any:
    """A pydantic field default that carries the parameter's docstring description."""
    from pydantic import Field

    return Field(default=default, description=doc) if doc else default


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The arguments model's JSON schema, without pydantic's titles."""
    schema = model.model_json_schema()
    schema.pop("title", None)
    for prop in cast(dict[str, Any], schema.get("properties", {})).values():
        prop.pop("title", None)
    schema.setdefault("properties", {})
    return schema


def unschematic(fields: dict[str, Any]) -> tuple[str, str] | None:
    """The first parameter whose annotation has no JSON schema: its name and type."""
    for name, (annotation, _default) in fields.items():
        probe = create_model(
            "probe", __config__=ConfigDict(arbitrary_types_allowed=True), value=(annotation, ...)
        )
        try:
            probe.model_json_schema()
        except PydanticUserError:
            return name, getattr(annotation, "__name__", repr(annotation))
    return None


def format_validation(tool: str, exc: ValidationError) -> str:
    """A validation error as the message the model reads."""
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
    )
    return f"Invalid arguments for tool {tool!r}: {problems}. Call it again with valid arguments."


_ARG_LINE = re.compile(r"^\s*(\*{0,2}\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """Split a Google-style docstring into its summary and per-argument descriptions."""
    lines = doc.splitlines()
    summary: list[str] = []
    args: dict[str, str] = {}
    section: str | None = None
    current: str | None = None
    for line in lines:
        stripped = line.strip()
        if stripped.endswith(":") and stripped[:-1] in {
            "Args",
            "Arguments",
            "Parameters",
            "Returns",
            "Raises",
            "Yields",
            "Example",
            "Examples",
            "Note",
            "Notes",
        }:
            section = stripped[:-1]
            current = None
            continue
        if section is None:
            summary.append(line)
        elif section in {"Args", "Arguments", "Parameters"} and stripped:
            match = _ARG_LINE.match(line)
            indent = len(line) - len(line.lstrip())
            if match and (current is None or indent <= _indent_of(lines, current)):
                current = match.group(1).lstrip("*")
                args[current] = match.group(2).strip()
            elif current is not None:
                args[current] = f"{args[current]} {stripped}".strip()
    return "\n".join(summary).strip(), args


def _indent_of(lines: list[str], arg: str) -> int:
    for line in lines:
        match = _ARG_LINE.match(line)
        if match and match.group(1).lstrip("*") == arg:
            return len(line) - len(line.lstrip())
    return 0
