"""Serve a network or workflow over HTTP: SSE runs, AG-UI, and a live web view.

Needs the ``server`` extra (``pip install 'graph-agents[server]'``). From the shell::

    graph-agents serve app.py:network            # http://127.0.0.1:8000/

or from Python: ``create_app(network)`` is a FastAPI app; `serve` runs it with uvicorn.
The server binds to 127.0.0.1 unless told otherwise, and refuses any other address
without a bearer token. Routes: `graph_agents.server.app`; the AG-UI mapping:
`graph_agents.server.agui`.
"""

from __future__ import annotations

import ipaddress
import os

from .._checks import check_int
from ..exceptions import ConfigurationError
from .app import DEFAULT_MAX_BODY_BYTES, create_app
from .runs import Target

__all__ = ["DEFAULT_MAX_BODY_BYTES", "TOKEN_ENV", "create_app", "is_loopback", "serve"]

TOKEN_ENV = "GRAPH_AGENTS_SERVER_TOKEN"
"""The environment variable `serve` reads the bearer token from when none is passed."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` is only reachable from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(
    target: Target,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> None:
    """Run the app for ``target`` with uvicorn until interrupted.

    Args:
        target: A `Network` or a `Workflow`.
        host: The address to bind; anything but loopback needs a token.
        port: The TCP port.
        token: The bearer token clients must send; by default ``$GRAPH_AGENTS_SERVER_TOKEN``.
        max_body_bytes: Larger request bodies are refused with 413.

    Raises:
        ConfigurationError: ``host`` is not loopback and there is no token, or ``port`` is
            not a TCP port number (0-65535; 0 picks a free one).
    """
    import uvicorn

    check_int(port, "port", minimum=0, maximum=65535, owner="serve: ")

    token = token or os.environ.get(TOKEN_ENV) or None
    if not is_loopback(host) and not token:
        raise ConfigurationError(
            f"Binding to {host!r} exposes the server beyond this machine, so it needs a "
            f"bearer token: pass --token (or token=...), or set {TOKEN_ENV}. Use "
            "--host 127.0.0.1 to stay local."
        )
    app = create_app(target, token=token, max_body_bytes=max_body_bytes)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
