"""Running the application: a socket bound first (so the address printed is the one listening, and a
port in use is a clear error), then uvicorn on it until Ctrl+C."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable

from ..errors import ParameterError

__all__ = ["bind", "is_loopback", "serve"]


def is_loopback(host: str) -> bool:
    """Whether `host` is reachable from this machine only (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on `host`:`port` (0: any free port)."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as exc:
        raise ParameterError(f"--host {host}: not an address of this machine ({exc.strerror}).") from None
    sock = socket.socket(family, socket.SOCK_STREAM)
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
    models: str | os.PathLike[str],
    *,
    default_model: str | None = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    say: Callable[[str], None] = print,
) -> None:
    """Serve the page and API for the models folder `models` until interrupted (see `create_app`)."""
    import uvicorn

    from .app import create_app

    local = ["127.0.0.1", "localhost", "[::1]", "::1"]
    app = create_app(models, default_model=default_model, allowed_hosts=[*local, host] if is_loopback(host) else None)
    sock = bind(host, port)
    say(f"Serving vowels at {url_of(sock)}/ (models folder {models}); press Ctrl+C to stop.")
    if not is_loopback(host):
        say(
            f"vowels serve: warning: listening on {host}, so other machines can reach this server; it has no "
            "login. Use --host 127.0.0.1 to keep it to this machine."
        )
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=5)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
