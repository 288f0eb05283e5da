"""Running the application: a socket bound first (so the address printed is the one listening, and a
port in use is a clear error), then uvicorn on it until Ctrl+C or SIGTERM."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ParameterError, UsageError

if TYPE_CHECKING:
    from ..workflows.console import Console

__all__ = ["MAX_CONNECTIONS", "bind", "serve", "url_of"]

MAX_CONNECTIONS = 32
"""Connections served at once (more are answered 503); each may hold one request body, so this bounds memory."""


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host`:`port` (0: any free port)."""
    try:
        address_family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as exc:
        raise ParameterError(f"--host {host}: not an address of this machine ({exc.strerror}).") from None
    sock = socket.socket(address_family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno in (98, 48):  # EADDRINUSE on Linux, macOS
            raise ParameterError(f"port {port} on {host} is in use; choose another with --port.") from None
        raise ParameterError(f"cannot listen on {host}:{port} ({exc.strerror or exc}).") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """``http://HOST:PORT`` of a bound socket, IPv6 hosts in brackets."""
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(
    console: Console,
    *,
    models: str | None,
    model: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    no_token: bool = False,
    allow_host: Sequence[str] | None = None,
    max_disk: int | None = None,
    **limits: int | None,
) -> int:
    """Start a local web server: a page that records speakers with the browser's microphone, trains a
    model on them and names who is speaking, and the HTTP API behind it (schema at /openapi.json). Models
    are bundle folders in the models folder, as 'vowels train --out' writes them; models trained in the page
    are saved there. Needs the web extra: pip install "vowels[web]". Stop it with Ctrl+C."""
    import importlib.util

    missing = [name for name in ("fastapi", "uvicorn", "python_multipart") if importlib.util.find_spec(name) is None]
    if missing:
        raise UsageError(f'needs the web extra ({", ".join(missing)} not installed): pip install "vowels[web]"')
    import uvicorn

    from .app import create_app
    from .guard import new_token

    folder, default = Path(models or "models"), None
    if model is not None:
        if not Path(model).is_dir():
            raise UsageError(f"--model {model}: no model bundle folder there; check the path")
        folder, default = Path(model).parent, Path(model).name
    limits["max_bytes"] = None if max_disk is None else max_disk * 1024**2
    try:
        local = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    secret = new_token() if not no_token and not local else None
    names = ["localhost", socket.gethostname(), socket.getfqdn(), host, *(allow_host or ())]  # besides IP addresses
    given = {name: value for name, value in limits.items() if value is not None}
    app = create_app(folder, default_model=default, allowed_hosts=names, token=secret, **given)
    sock = bind(host, port)
    address = f"{url_of(sock)}/" + (f"?token={secret}" if secret else "")
    console.result(f"Serving vowels at {address} (models folder {folder}); press Ctrl+C to stop.")
    if not local and secret is None:
        console.result(
            f"vowels serve: WARNING: listening on {host} with --no-token: anyone who can reach this machine "
            "can enrol, train and delete. Drop --no-token, or use --host 127.0.0.1 to keep it to this machine."
        )
    config = uvicorn.Config(
        app, log_level="warning", access_log=False, timeout_graceful_shutdown=5, limit_concurrency=MAX_CONNECTIONS
    )
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
    return 0
