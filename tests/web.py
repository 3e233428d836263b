"""A real uvicorn server on a loopback port, in a background thread, for the web tests."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import uvicorn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running(app: Any) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1; yields its base URL; stops it (lifespan included)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(20)


def sse(
    client: httpx.Client, url: str, *, until: str | None = None, **kwargs: Any
) -> list[tuple[int, dict[str, Any]]]:
    """Read SSE ``(id, event)`` pairs from ``url`` until the stream ends, or until an
    event of type ``until`` (then it disconnects)."""
    out: list[tuple[int, dict[str, Any]]] = []
    with client.stream("GET", url, timeout=30, **kwargs) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        event_id, data = None, ""
        for line in response.iter_lines():
            if line.startswith("id:"):
                event_id = int(line[3:].strip())
            elif line.startswith("data:"):
                data += line[5:].strip()
            elif line == "" and data:
                assert event_id is not None
                event = json.loads(data)
                out.append((event_id, event))
                event_id, data = None, ""
                if until is not None and event["type"] == until:
                    return out
    return out
