"""A network's or workflow's tracing settings, and the span builder of each run.

`TraceSettings` resolves, at each run, where spans go (the provider passed in, the
global one, or the private one behind ``get_traces()``), whether content goes in, and
which runs are this network's (for `get_traces`); it starts a `RunTracer` per run.
A resumed run links to the run that wrote the thread's latest checkpoint, whose span it
finds under `TRACE_KEY` in the checkpoint's metadata.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opentelemetry import trace
from opentelemetry.trace import Link, SpanContext, TraceFlags

from ._spans import RunTracer
from .tracing import SCOPE, capture_content_from_env, private_provider, recorder_for

if TYPE_CHECKING:
    from opentelemetry.trace import Tracer, TracerProvider

    from .tracing import TraceRecord, TraceRecorder

__all__ = ["TRACE_KEY", "TraceSettings", "link_from_traceparent"]

TRACE_KEY = "graph_agents_trace"
"""Checkpoint metadata key: ``<trace id>-<span id>`` of the run that wrote it."""


@dataclass
class TraceSettings:
    """A network's or workflow's tracing: where spans go and whether content goes in."""

    enabled: bool = True
    provider: TracerProvider | None = None
    capture_content: bool | None = None
    _resolved: tuple[Any, Tracer] | None = None
    """The provider last resolved, and its tracer (resolved again when it changes)."""
    _recorders: list[TraceRecorder] = field(default_factory=list)
    """The recorders of every provider this network's runs went to."""
    _run_ids: dict[str, None] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def tracer(self) -> Tracer | None:
        """The tracer for a run now (``None``: off): of the provider passed in, else the
        global one, else the private one behind ``get_traces()``."""
        if not self.enabled:
            return None
        provider: Any = self.provider
        if provider is None:
            provider = trace.get_tracer_provider()
            if isinstance(provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)):
                provider = private_provider()
        resolved = self._resolved
        if resolved is None or resolved[0] is not provider:
            recorder = recorder_for(provider)
            with self._lock:
                if recorder is not None and recorder not in self._recorders:
                    self._recorders.append(recorder)
            resolved = self._resolved = (provider, provider.get_tracer(SCOPE))
        return resolved[1]

    def start(
        self,
        *,
        kind: str,
        name: str,
        thread_id: str,
        run_id: str,
        link: Link | None,
    ) -> RunTracer | None:
        """A `RunTracer` for one run (``None`` when tracing is off)."""
        tracer = self.tracer()
        if tracer is None:
            return None
        with self._lock:
            self._run_ids[run_id] = None
            if len(self._run_ids) > 10_000:
                for old in list(self._run_ids)[:5_000]:
                    del self._run_ids[old]
        capture = (
            capture_content_from_env()
            if self.capture_content is None
            else bool(self.capture_content)
        )
        return RunTracer(
            tracer,
            kind=kind,
            name=name,
            thread_id=thread_id,
            run_id=run_id,
            capture=capture,
            link=link,
        )

    def records(self, thread_id: str | None, operation: str | None) -> list[TraceRecord]:
        """The trace records of this network's runs, by start time."""
        with self._lock:
            runs = list(self._run_ids)
            recorders = list(self._recorders)
        found = [
            record
            for recorder in recorders
            for record in recorder.records(run_ids=runs, thread_id=thread_id)
            if operation is None or record.operation == operation
        ]
        if len(recorders) > 1:
            found.sort(key=lambda r: r.start)
        return found


def link_from_traceparent(value: object) -> Link | None:
    """A link to the span a checkpoint's ``TRACE_KEY`` names (``None``: none, or bad)."""
    if not isinstance(value, str) or "-" not in value:
        return None
    trace_hex, span_hex = value.split("-", 1)
    try:
        context = SpanContext(
            trace_id=int(trace_hex, 16),
            span_id=int(span_hex, 16),
            is_remote=True,
            trace_flags=TraceFlags(TraceFlags.SAMPLED),
        )
    except ValueError:
        return None
    if not context.is_valid:
        return None
    return Link(context, {"graph_agents.link": "continues"})
