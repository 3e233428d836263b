"""The README documents every knob and every event there is."""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from pathlib import Path

from graph_agents import EventType, RetryPolicy, create_network

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def table_rows(heading: str) -> list[str]:
    """The first column of the first table after ``heading``."""
    section = README.split(heading, 1)[1]
    rows = re.findall(r"^\| `([^`]+)` \|", section.split("\n\n|", 1)[1].split("\n\n", 1)[0], re.M)
    return rows


def test_every_create_network_argument_is_in_the_readme_table() -> None:
    documented = table_rows("`create_network(...)`")
    assert documented == list(inspect.signature(create_network).parameters)


def test_every_retry_policy_field_is_in_the_readme_table() -> None:
    documented = table_rows("`RetryPolicy` (model calls):")
    assert documented == [f.name for f in dataclasses.fields(RetryPolicy)]


def test_every_event_type_is_in_the_readme_event_list() -> None:
    events = README.split("- **Events**", 1)[1].split("\n- ", 1)[0].split("\n\n", 1)[0]
    missing = [name for name in typing.get_args(EventType) if f"`{name}`" not in events]
    assert missing == []


def test_the_streaming_table_documents_every_event_type_in_order() -> None:
    documented = table_rows("## Streaming: events, composite tools and the web view")
    assert documented == list(typing.get_args(EventType))


def test_the_ag_ui_mapping_table_names_every_event_type() -> None:
    from graph_agents.server import agui

    table = agui.__doc__ or ""
    missing = [name for name in typing.get_args(EventType) if f"``{name}``" not in table]
    assert missing == []


def test_every_memory_knob_is_in_the_readme_memory_section() -> None:
    import inspect
    from dataclasses import fields

    from graph_agents.memory import MemoryManager, RetrievalWeights, VectorMemoryStore

    memory = README.split("## Memory\n", 1)[1].split("\n## ", 1)[0]
    names = [
        *inspect.signature(MemoryManager.__init__).parameters,
        *inspect.signature(VectorMemoryStore.__init__).parameters,
        *(f.name for f in fields(RetrievalWeights)),
    ]
    missing = [n for n in names if n != "self" and n not in memory]
    assert missing == []
    defaults = RetrievalWeights()
    assert f"candidates={defaults.candidates}" in memory
    assert f"{defaults.decay} ** hours" in memory
    assert f"reflection_threshold={MemoryManager().reflection_threshold}" in memory
