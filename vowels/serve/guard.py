"""Who may use the server, checked on every request before the app sees it: the Host an IP address or an
allowed name (no DNS rebinding), no Origin of another site, off loopback the token (``?token=``, its cookie or
``Authorization: token ...``), and with the cookie the ``X-XSRFToken`` header (double submit). Every answer
forbids framing and loading from elsewhere (docs/serve.md)."""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SECURITY_HEADERS", "XSRF_COOKIE", "XSRF_HEADER", "AccessMiddleware", "new_token"]

XSRF_COOKIE, XSRF_HEADER = "_xsrf", "X-XSRFToken"
SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",  # the address may hold the token
}


def new_token() -> str:
    """A fresh random token: 32 bytes, URL-safe."""
    return secrets.token_urlsafe(32)


def _host_name(host: str) -> str:
    """``HOST`` of a Host header ``HOST:PORT``, lower case: ``::1`` of ``[::1]:8000``."""
    if host.startswith("["):
        return host[1 : host.find("]")].lower() if "]" in host else host.lower()
    return (host.rsplit(":", 1)[0] if host.count(":") == 1 else host).lower()


def _is_address(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class AccessMiddleware:
    """ASGI middleware: this module's checks on each request before the app (or the body) is read, their headers
    on every answer. `allowed_hosts`: names answered besides IP addresses (None: any); `token`: the one every
    request must show (None: none). Pure ASGI, so a client that goes away mid-request leaves no traceback."""

    def __init__(self, app: ASGIApp, *, allowed_hosts: Sequence[str] | None, token: str | None) -> None:
        self.app, self.token = app, token
        self.allowed = None if allowed_hosts is None else [_host_name(h) for h in allowed_hosts]

    def _cookie(self, request: Request) -> str:
        return f"vowels_token_{request.url.port or 80}"

    def _shown_token(self, request: Request) -> str | None:
        """The token the request shows: in its Authorization header, its ``?token=``, or its cookie."""
        authorization = request.headers.get("authorization", "")
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() in ("token", "bearer") and value:
            return value.strip()
        return request.query_params.get("token") or request.cookies.get(self._cookie(request))

    def refusal(self, request: Request) -> tuple[int, str] | None:
        """(status, one line) when `request` may not be served; None when it may."""
        host = request.headers.get("host", "")
        name = _host_name(host)
        if self.allowed is not None and not _is_address(name) and name not in self.allowed:
            names = ", ".join(dict.fromkeys(self.allowed))
            return 403, f"this server answers to the host names {names} and IP addresses only; open it at one of them."
        origin = request.headers.get("origin")
        if origin is not None and origin.split("://", 1)[-1] != host:
            return 403, "requests from another web site's page are refused; use this server's own page."
        if self.token is None:
            return None
        shown = self._shown_token(request)
        if shown is None or not secrets.compare_digest(shown.encode(), self.token.encode()):
            return 401, (
                "this server asks for its token: open the address it printed when it started (…/?token=…), "
                "or send the header 'Authorization: token …'."
            )
        by_cookie = "authorization" not in request.headers and "token" not in request.query_params
        if by_cookie and request.method not in ("GET", "HEAD", "OPTIONS"):
            sent, expected = request.headers.get(XSRF_HEADER, ""), request.cookies.get(XSRF_COOKIE, "")
            if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
                return 403, f"'{XSRF_HEADER}' header missing or wrong; reload the page and try again."
        return None

    def headers(self, request: Request) -> list[tuple[bytes, bytes]]:
        """The headers that forbid framing, and the cookies a page needs (token, XSRF), for the answer to `request`."""
        response = Response(headers=SECURITY_HEADERS)
        shown = request.query_params.get("token", "")
        if self.token is not None and secrets.compare_digest(shown.encode(), self.token.encode()):
            response.set_cookie(self._cookie(request), self.token, httponly=True, samesite="strict")
        if XSRF_COOKIE not in request.cookies and request.method == "GET":
            response.set_cookie(XSRF_COOKIE, secrets.token_urlsafe(16), samesite="strict")
        return [(k, v) for k, v in response.raw_headers if k != b"content-length"]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        extra, refusal = self.headers(request), self.refusal(request)
        if refusal is not None:
            response = JSONResponse({"detail": refusal[1]}, status_code=refusal[0], headers=SECURITY_HEADERS)
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
