"""The FastAPI app: runs over HTTP and SSE, the AG-UI endpoint, and the web view.

Routes:

- ``GET /``: the web view (a static page and its script; no CDN, no build step).
- ``POST /runs``: start a run. A network takes ``{"query": ..., "thread_id"?: ...,
  "run_id"?: ...}``, a workflow ``{"inputs": {...}, ...}``. Answers ``202`` with the
  run's ``run_id``, ``thread_id`` and ``events`` URL once it started.
- ``GET /runs/{id}``: its status, pending approvals and result.
- ``GET /runs/{id}/events``: its events over SSE, from the first, live, with each
  event's index as the SSE ``id``; a reconnect with ``Last-Event-ID`` resumes after it.
  The stream ends when the run completes or fails; a run that waits for an approval
  stays open, and continues when someone answers.
- ``POST /runs/{id}/approve``: ``{"approve": bool, "feedback"?, "edits"?}`` for the one
  pending request, or ``{"decisions": {request id: bool | {"approve", "feedback",
  "edits"}}}``; the run continues in the same event stream.
- ``GET /threads/{id}``: a thread's state, conversation and checkpoints.
- ``GET /schema/events``: the events' JSON Schema (`graph_agents.events.event_json_schema`).
- ``POST /ag-ui``: AG-UI (`graph_agents.server.agui`).

Every route but the page needs ``Authorization: Bearer <token>`` when the app has a
token (compared in constant time). Request bodies over ``max_body_bytes`` get ``413``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any, ClassVar

from ag_ui.core import RunAgentInput, RunErrorEvent, UserMessage
from ag_ui.encoder import EventEncoder
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sse_starlette import EventSourceResponse, ServerSentEvent

from .._checks import check_int
from ..approval import Approval
from ..events import Event, event_json_schema
from ..exceptions import ConcurrentRunError, GraphAgentsError, StoreError
from ..network import Network
from ..nodes.workflow_steps import to_jsonable
from .agui import AGUITranslator, decisions_from_resume
from .runs import RunLog, RunRegistry, Target, thread_json
from .security import BodyLimit, bearer_check

__all__ = ["DEFAULT_MAX_BODY_BYTES", "create_app"]

DEFAULT_MAX_BODY_BYTES = 1_000_000
"""The largest request body the app accepts by default (bytes)."""

_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' "
    "'unsafe-inline'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


class StartRun(BaseModel):
    """``POST /runs``."""

    model_config: ClassVar[ConfigDict] = ConfigDict(extra="forbid")

    query: str | None = None
    inputs: dict[str, Any] | None = None
    thread_id: str | None = Field(None, min_length=1, max_length=200)
    run_id: str | None = Field(None, min_length=1, max_length=200)
    user_id: str | None = Field(None, min_length=1, max_length=200)
    """The user memory's ``"user"`` scope stores under; its approvals reuse it."""


class Decision(BaseModel):
    """One answer in ``POST /runs/{id}/approve``'s ``decisions``."""

    model_config: ClassVar[ConfigDict] = ConfigDict(extra="forbid")

    approve: bool
    feedback: str | None = None
    edits: dict[str, Any] | None = None


class ApproveRun(BaseModel):
    """``POST /runs/{id}/approve``."""

    model_config: ClassVar[ConfigDict] = ConfigDict(extra="forbid")

    approve: bool | None = None
    feedback: str | None = None
    edits: dict[str, Any] | None = None
    decisions: dict[str, bool | Decision] | None = None


def create_app(
    target: Target,
    *,
    token: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> FastAPI:
    """The web app serving ``target`` (a `Network` or a `Workflow`); see the module docstring.

    Args:
        target: What the app runs.
        token: When set, every route but the page needs ``Authorization: Bearer <token>``.
        max_body_bytes: Larger request bodies are refused with ``413``.

    Raises:
        ConfigurationError: ``target`` is neither a Network nor a Workflow, or
            ``max_body_bytes`` is not a whole number of at least 1.
    """
    check_int(max_body_bytes, "max_body_bytes", minimum=1, owner="create_app: ")
    registry = RunRegistry(target)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await registry.aclose()
        await target.aclose()

    app = FastAPI(
        title=f"graph_agents: {target.name}",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if token is None else None,
    )
    app.add_middleware(BodyLimit, limit=max_body_bytes)

    guarded = [Depends(bearer_check(token))]

    @app.get("/", include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(_static("index.html"), headers=_PAGE_HEADERS)

    @app.get("/app.js", include_in_schema=False)
    async def script() -> Response:
        return Response(_static("app.js"), media_type="text/javascript", headers=_PAGE_HEADERS)

    @app.get("/info", dependencies=guarded)
    async def info() -> dict[str, Any]:
        kind = "network" if isinstance(target, Network) else "workflow"
        return {"name": target.name, "kind": kind}

    @app.get("/schema/events", dependencies=guarded)
    async def schema() -> dict[str, Any]:
        return event_json_schema()

    @app.post("/runs", status_code=202, dependencies=guarded)
    async def start(body: StartRun) -> JSONResponse:
        log, new = await _answering(
            registry.start(
                query=body.query,
                inputs=body.inputs,
                thread_id=body.thread_id,
                run_id=body.run_id,
                user_id=body.user_id,
            )
        )
        return JSONResponse(
            {**log.summary(), "events_url": f"/runs/{log.id}/events"},
            status_code=202 if new else 200,
        )

    @app.get("/runs/{run_id}", dependencies=guarded)
    async def status(run_id: str) -> dict[str, Any]:
        log: RunLog = _log(registry, run_id)
        return log.summary()

    @app.get("/runs/{run_id}/events", dependencies=guarded)
    async def events(run_id: str, request: Request) -> EventSourceResponse:
        log = _log(registry, run_id)
        last = request.headers.get("last-event-id") or request.query_params.get("last_event_id")
        try:
            start_at = int(last) + 1 if last not in (None, "") else 0
        except ValueError:
            raise HTTPException(
                400, f"Last-Event-ID {last!r} is not an event index; send the last id seen."
            ) from None

        async def stream() -> AsyncIterator[ServerSentEvent]:
            index = max(start_at, 0)
            while True:
                items, finished = await log.wait(index)
                for offset, data in enumerate(items):
                    yield ServerSentEvent(data=data, id=str(index + offset))
                index += len(items)
                if finished and index >= len(log.events):
                    return

        return EventSourceResponse(stream(), ping=15, headers={"Cache-Control": "no-store"})

    @app.post("/runs/{run_id}/approve", status_code=202, dependencies=guarded)
    async def approve(run_id: str, body: ApproveRun) -> dict[str, Any]:
        decisions: dict[str, Approval | bool] | None = None
        if body.decisions is not None:
            decisions = {
                key: value
                if isinstance(value, bool)
                else Approval(approve=value.approve, feedback=value.feedback, edits=value.edits)
                for key, value in body.decisions.items()
            }
        log = _log(registry, run_id)
        await _answering(
            registry.approve(
                log,
                approve=body.approve,
                feedback=body.feedback,
                edits=body.edits,
                decisions=decisions,
            )
        )
        summary: dict[str, Any] = log.summary()
        return summary

    @app.get("/threads/{thread_id}", dependencies=guarded)
    async def thread(thread_id: str) -> dict[str, Any]:
        state = await _answering(target.get_state(thread_id))
        if state is None:
            raise HTTPException(404, f"Thread {thread_id!r} has no checkpoint in this store.")
        history = await _answering(target.get_state_history(thread_id, limit=100))
        return thread_json(state, history)

    @app.post("/ag-ui", dependencies=guarded)
    async def agui(request: Request) -> StreamingResponse:
        try:
            run_input = RunAgentInput.model_validate(await request.json())
        except (ValidationError, ValueError) as exc:
            raise HTTPException(422, f"Not an AG-UI RunAgentInput: {exc}") from exc
        encoder = EventEncoder(accept=request.headers.get("accept", ""))
        return StreamingResponse(
            _agui_stream(target, run_input, encoder), media_type=encoder.get_content_type()
        )

    return app


async def _agui_stream(
    target: Target, run_input: RunAgentInput, encoder: EventEncoder
) -> AsyncIterator[str]:
    thread_id, run_id = run_input.thread_id, run_input.run_id
    try:
        begin = _agui_run(target, run_input)
        current = await target.get_state(thread_id)
    except (GraphAgentsError, ValueError) as exc:
        yield encoder.encode(RunErrorEvent(message=str(exc), code=type(exc).__name__))
        return
    translator = AGUITranslator(
        thread_id=thread_id,
        run_id=run_id,
        state=to_jsonable(current.state) if current is not None else {},
    )
    queue: asyncio.Queue[Event | None] = asyncio.Queue()

    async def main() -> None:
        try:
            await begin(queue.put)
        finally:
            queue.put_nowait(None)

    task = asyncio.ensure_future(main())
    started = False
    try:
        while (event := await queue.get()) is not None:
            for item in translator.translate(event):
                yield encoder.encode(item)
            if event.type == "run.started":
                started = True
                yield encoder.encode(translator.snapshot())
        outcome = await asyncio.gather(task, return_exceptions=True)
        if not started and isinstance(outcome[0], BaseException):
            error = outcome[0]
            yield encoder.encode(RunErrorEvent(message=str(error), code=type(error).__name__))
    finally:
        if not task.done():  # the client went away: stop the run (it stays resumable)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def _agui_run(
    target: Target, run_input: RunAgentInput
) -> Callable[[Callable[[Event], Awaitable[None]]], Awaitable[Any]]:
    """What an AG-UI request runs: a resume when it answers interrupts, else a new run.
    ``forwardedProps.userId`` is the run's user (memory's ``"user"`` scope)."""
    thread_id = run_input.thread_id
    props = run_input.forwarded_props if isinstance(run_input.forwarded_props, dict) else {}
    user_id = props.get("userId")  # run() and resume() check it
    if run_input.resume:
        decisions: dict[str, Approval | bool] = dict(decisions_from_resume(run_input.resume))

        def resume(callback: Callable[[Event], Awaitable[None]]) -> Awaitable[Any]:
            return target.resume(
                thread_id, decisions=decisions, stream_callback=callback, user_id=user_id
            )

        return resume
    if isinstance(target, Network):
        query = next(
            (
                message.content
                for message in reversed(run_input.messages)
                if isinstance(message, UserMessage) and isinstance(message.content, str)
            ),
            None,
        )
        if not query:
            raise ValueError(
                "The AG-UI input has no user message with text content; send the user's "
                "request as the last user message."
            )
        network = target

        def run(callback: Callable[[Event], Awaitable[None]]) -> Awaitable[Any]:
            return network.run(
                query,
                thread_id=thread_id,
                run_id=run_input.run_id,
                stream_callback=callback,
                user_id=user_id,
            )

        return run
    inputs = props.get("inputs")
    if inputs is not None and not isinstance(inputs, dict):
        raise ValueError("forwardedProps.inputs must be an object of workflow inputs.")
    workflow = target

    def run_workflow(callback: Callable[[Event], Awaitable[None]]) -> Awaitable[Any]:
        return workflow.run(
            inputs or {},
            thread_id=thread_id,
            run_id=run_input.run_id,
            stream_callback=callback,
            user_id=user_id,
        )

    return run_workflow


async def _answering(work: Awaitable[Any]) -> Any:
    """Await ``work``; its errors as HTTP errors with their message."""
    try:
        return await work
    except ConcurrentRunError as exc:
        raise HTTPException(409, str(exc)) from exc
    except StoreError as exc:
        raise HTTPException(503, str(exc)) from exc
    except (GraphAgentsError, ValueError) as exc:
        raise HTTPException(400, str(exc)) from exc


def _log(registry: RunRegistry, run_id: str) -> RunLog:
    log = registry.get(run_id)
    if log is None:
        raise HTTPException(404, f"No run {run_id!r} on this server; start one with POST /runs.")
    return log


def _static(name: str) -> bytes:
    return (resources.files("graph_agents.server") / "static" / name).read_bytes()
