"""Lean channels, fast: keep a thread's latest messages and state in memory between runs.

A lean (``DeltaChannel``) channel stores only each step's writes, so loading a thread
replays the writes since the nearest snapshot and deserializes every message again:
the work a plain channel does, minus the writing. For a conversation that goes on in
one process, that work is wasted: the previous run ended with exactly those values in
memory. `LatestValues` keeps them, keyed by the thread and the checkpoint they belong
to, and the savers graph_agents opens (`lean_saver`) answer LangGraph's history query
from it when the checkpoint asked for is the one kept.

Checkpoints never change once written, so a kept value is never stale: a thread that
another process moved on asks for a newer checkpoint, misses, and loads from the store
as usual. Only top-level checkpoints of finished runs are kept (the runner calls
`LatestValues.keep`), for the most recently used threads.

The same savers count the writes a run commits (`counting_writes`), so a failed run
can say whether anything of it was stored.
"""

from __future__ import annotations

import contextlib
import functools
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any

__all__ = ["LatestValues", "WriteCount", "counting_writes", "lean_saver"]


class LatestValues:
    """The lean channels' values at each thread's last top-level checkpoint (an LRU)."""

    def __init__(self, threads: int = 64):
        self._threads = threads
        self._values: OrderedDict[str, tuple[str, dict[str, Any]]] = OrderedDict()
        self._last_put: dict[str, str] = {}

    def put(self, thread_id: str, checkpoint_id: str) -> None:
        """Note the newest top-level checkpoint this process wrote for the thread."""
        self._last_put[thread_id] = checkpoint_id
        if len(self._last_put) > 4 * self._threads:
            self._last_put.pop(next(iter(self._last_put)))

    def keep(self, thread_id: str, values: Mapping[str, Any]) -> None:
        """Keep ``values`` as of the thread's newest checkpoint written here."""
        checkpoint_id = self._last_put.get(thread_id)
        if checkpoint_id is None:
            return
        self._values[thread_id] = (checkpoint_id, dict(values))
        self._values.move_to_end(thread_id)
        while len(self._values) > self._threads:
            self._values.popitem(last=False)

    def get(self, config: Mapping[str, Any], channels: Sequence[str]) -> dict[str, Any] | None:
        """The kept values of ``channels`` at the checkpoint ``config`` names, if all kept."""
        configurable = config.get("configurable", {})
        if configurable.get("checkpoint_ns", ""):
            return None
        entry = self._values.get(str(configurable.get("thread_id")))
        if entry is None or entry[0] != configurable.get("checkpoint_id"):
            return None
        if not all(channel in entry[1] for channel in channels):
            return None
        return {channel: entry[1][channel] for channel in channels}


class WriteCount:
    """How many checkpoint writes (checkpoints and pending writes) a run committed."""

    __slots__ = ("writes",)

    def __init__(self) -> None:
        self.writes: int = 0


_WRITES: ContextVar[WriteCount | None] = ContextVar("graph_agents_writes", default=None)


@contextlib.contextmanager
def counting_writes() -> Iterator[WriteCount]:
    """Count the writes the block's run (and the tasks it starts) commits."""
    count = WriteCount()
    token = _WRITES.set(count)
    try:
        yield count
    finally:
        _WRITES.reset(token)


def _count_write() -> None:
    count = _WRITES.get()
    if count is not None:
        count.writes += 1


@functools.cache
def lean_saver(base: type[Any]) -> type[Any]:
    """``base`` (a LangGraph saver class) answering history queries from `LatestValues`."""

    class LeanSaver(base):  # type: ignore[misc]
        latest: LatestValues

        async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
            saved = await super().aput(config, checkpoint, metadata, new_versions)
            if not config["configurable"].get("checkpoint_ns", ""):
                self.latest.put(str(config["configurable"]["thread_id"]), checkpoint["id"])
            _count_write()
            return saved

        async def aput_writes(
            self, config: Any, writes: Any, task_id: str, task_path: str = ""
        ) -> None:
            await super().aput_writes(config, writes, task_id, task_path)
            _count_write()

        async def aget_delta_channel_history(
            self, *, config: Any, channels: Sequence[str]
        ) -> Mapping[str, Any]:
            kept = self.latest.get(config, channels)
            if kept is not None:
                return {channel: {"seed": value, "writes": []} for channel, value in kept.items()}
            history: Mapping[str, Any] = await super().aget_delta_channel_history(
                config=config, channels=channels
            )
            return history

    LeanSaver.__name__ = LeanSaver.__qualname__ = f"Lean{base.__name__}"
    return LeanSaver
