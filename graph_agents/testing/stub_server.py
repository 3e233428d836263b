"""`OpenAIStubServer`: a real OpenAI-compatible HTTP server on loopback, for tests.

It serves ``POST /v1/chat/completions`` (streamed over SSE or not, with tool calls and
usage), ``POST /v1/embeddings`` (float or base64) and ``GET /v1/models``, so the real
``langchain-openai`` and ``openai`` clients talk to it exactly as to a hosted endpoint.
Replies come from the same script items `ScriptedModel` takes, plus `HTTPFailure` to
answer with an error status. Every request body is recorded.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import math
import re
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .scripted import ScriptedResponse, ToolCall

__all__ = ["HTTPFailure", "OpenAIStubServer", "StubItem", "StubRequest", "hash_embedding"]


@dataclass(frozen=True)
class HTTPFailure:
    """Answer one chat request with an HTTP error, e.g. ``HTTPFailure(429)``."""

    status: int
    """The HTTP status code."""
    message: str = "stub failure"
    """The error message in the OpenAI error body."""


@dataclass(frozen=True)
class StubRequest:
    """One request the stub received."""

    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


StubItem = str | ToolCall | ScriptedResponse | HTTPFailure
StubResponder = Callable[[dict[str, Any]], StubItem]


def hash_embedding(text: str, dim: int = 64) -> list[float]:
    """A deterministic bag-of-words embedding: texts sharing words are close."""
    vector = [0.0] * dim
    for word in re.findall(r"\w+", text.lower()):
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        index = int.from_bytes(digest[:4], "little") % dim
        vector[index] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vector)) or 1.0
    return [v / norm for v in vector]


class OpenAIStubServer:
    """An OpenAI-compatible server on ``127.0.0.1`` that replays a script.

    Use it as a context manager (sync or async); ``base_url`` is ready inside.

    Args:
        script: Chat replies in order: strings, `ToolCall`s, `ScriptedResponse`s or
            `HTTPFailure`s.
        responder: ``(request body) -> reply``, used instead of the script when set.
        api_key: When set, requests without ``Authorization: Bearer <api_key>`` get 401.
        models: When set, chat requests for other models get 404.
        embedding_dim: The length of the vectors ``/v1/embeddings`` returns.
        port: The loopback port to listen on; ``0`` picks a free one.
    """

    def __init__(
        self,
        script: Sequence[StubItem] = (),
        *,
        responder: StubResponder | None = None,
        api_key: str | None = None,
        models: Sequence[str] | None = None,
        embedding_dim: int = 64,
        port: int = 0,
    ):
        self.port = port
        self._script = list(script)
        self._responder = responder
        self.api_key = api_key
        self.models: set[str] | None = set(models) if models is not None else None
        self.embedding_dim = embedding_dim
        self.requests: list[StubRequest] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._connections: set[socket.socket] = set()
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``."""
        if self._server is None:
            raise RuntimeError("OpenAIStubServer is not started; use it as a context manager.")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/v1"

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """The bodies of the chat completion requests, in arrival order."""
        return [r.body for r in self.requests if r.path.endswith("/chat/completions")]

    def add(self, *items: StubItem) -> None:
        """Append replies to the script."""
        with self._lock:
            self._script.extend(items)

    def start(self) -> OpenAIStubServer:
        """Start serving on ``127.0.0.1:<port>`` (a free port when ``port`` is 0).

        Starting a server that is already serving does nothing.
        """
        if self._server is not None:
            return self
        handler = type("_Handler", (_Handler,), {"stub": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open keep-alive connections, and release the port."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        with self._lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def __enter__(self) -> OpenAIStubServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> OpenAIStubServer:
        return self.start()

    async def __aexit__(self, *exc: object) -> None:
        self.stop()

    def _next_reply(self, body: dict[str, Any]) -> StubItem:
        if self._responder is not None:
            return self._responder(body)
        with self._lock:
            if not self._script:
                return HTTPFailure(500, "OpenAIStubServer script is exhausted")
            return self._script.pop(0)


class _Handler(BaseHTTPRequestHandler):
    stub: OpenAIStubServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def setup(self) -> None:
        super().setup()
        with self.stub._lock:
            self.stub._connections.add(self.connection)

    def finish(self) -> None:
        with self.stub._lock:
            self.stub._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def do_GET(self) -> None:
        self._record({})
        if self.path.rstrip("/").endswith("/models"):
            names = sorted(self.stub.models or {"scripted"})
            data = [{"id": n, "object": "model", "owned_by": "stub"} for n in names]
            self._json(200, {"object": "list", "data": data})
        else:
            self._json(404, _error(f"No route {self.path}", "not_found"))

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            self._json(400, _error("Request body is not JSON", "invalid_json"))
            return
        self._record(body)
        expected = self.stub.api_key
        if expected is not None and self.headers.get("Authorization") != f"Bearer {expected}":
            self._json(401, _error("Incorrect API key provided", "invalid_api_key"))
        elif self.path.endswith("/chat/completions"):
            self._chat(body)
        elif self.path.endswith("/embeddings"):
            self._embeddings(body)
        else:
            self._json(404, _error(f"No route {self.path}", "not_found"))

    def _record(self, body: dict[str, Any]) -> None:
        request = StubRequest(self.command, self.path, dict(self.headers.items()), body)
        with self.stub._lock:
            self.stub.requests.append(request)

    def _chat(self, body: dict[str, Any]) -> None:
        model = str(body.get("model", ""))
        if self.stub.models is not None and model not in self.stub.models:
            self._json(404, _error(f"The model {model!r} does not exist", "model_not_found"))
            return
        item = self.stub._next_reply(body)
        if isinstance(item, HTTPFailure):
            self._json(item.status, _error(item.message, "stub_failure"))
            return
        reply = _as_response(item)
        if reply.delay:
            time.sleep(reply.delay)
        calls = [
            {
                "id": call.id or f"call_{uuid.uuid4().hex[:12]}",
                "type": "function",
                "function": {
                    "name": call.name,
                    "arguments": call.arguments
                    if isinstance(call.arguments, str)
                    else json.dumps(call.arguments),
                },
            }
            for call in reply.tool_calls
        ]
        prompt = sum(len(str(m.get("content") or "").split()) for m in body.get("messages", []))
        inputs, outputs = reply.usage or (prompt, max(len(reply.text.split()), 1))
        usage = {
            "prompt_tokens": inputs,
            "completion_tokens": outputs,
            "total_tokens": inputs + outputs,
        }
        finish = "tool_calls" if calls else "stop"
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            self._stream(model, reply.text, calls, finish, usage if include_usage else None)
            return
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
        if calls:
            message["tool_calls"] = calls
        self._json(
            200,
            {
                "id": f"chatcmpl-{uuid.uuid4().hex[:12]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                "usage": usage,
            },
        )

    def _stream(
        self,
        model: str,
        text: str,
        calls: list[dict[str, Any]],
        finish: str,
        usage: dict[str, int] | None,
    ) -> None:
        completion_id = f"chatcmpl-{uuid.uuid4().hex[:12]}"

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            return {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            }

        events = [chunk({"role": "assistant", "content": ""})]
        words = text.split(" ") if text else []
        events += [chunk({"content": w if i == 0 else f" {w}"}) for i, w in enumerate(words)]
        for index, call in enumerate(calls):
            arguments = call["function"]["arguments"]
            half = len(arguments) // 2
            events.append(
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": index,
                                "id": call["id"],
                                "type": "function",
                                "function": {
                                    "name": call["function"]["name"],
                                    "arguments": arguments[:half],
                                },
                            }
                        ]
                    }
                )
            )
            events.append(
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": index,
                                "function": {"arguments": arguments[half:]},
                            }
                        ]
                    }
                )
            )
        events.append(chunk({}, finish))
        if usage is not None:
            events.append(
                {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [],
                    "usage": usage,
                }
            )
        payload = b"".join(f"data: {json.dumps(e)}\n\n".encode() for e in events)
        payload += b"data: [DONE]\n\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _embeddings(self, body: dict[str, Any]) -> None:
        raw = body.get("input", [])
        inputs = [raw] if isinstance(raw, str) else list(raw)
        if inputs and isinstance(inputs[0], int):
            inputs = [inputs]
        texts = [x if isinstance(x, str) else " ".join(f"t{t}" for t in x) for x in inputs]
        data = []
        for index, text in enumerate(texts):
            vector = hash_embedding(text, self.stub.embedding_dim)
            encoded: Any = vector
            if body.get("encoding_format") == "base64":
                encoded = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = sum(len(t.split()) for t in texts)
        self._json(
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model", ""),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _as_response(item: str | ToolCall | ScriptedResponse) -> ScriptedResponse:
    if isinstance(item, ScriptedResponse):
        return item
    if isinstance(item, ToolCall):
        return ScriptedResponse(tool_calls=[item])
    return ScriptedResponse(text=item)


def _error(message: str, code: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": code}}
