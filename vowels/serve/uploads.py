"""Uploaded recordings: capped in bytes before they are read, in seconds before they are decoded, analysed by
`vowels.features.features_of_file` as files are; messages name the file as sent, not the server's copy."""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import AudioError, VowelsError

if TYPE_CHECKING:
    import numpy as np

    from ..features import FeatureConfig

__all__ = ["BODY_SECONDS", "MAX_UPLOAD_BYTES", "MAX_UPLOAD_SECONDS", "BodyLimit", "features_of_upload", "saved_upload"]

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
"""Largest request body accepted, in bytes (10 MiB: a minute of 16-bit mono WAV at 48 kHz is 5.8 MB)."""
MAX_UPLOAD_SECONDS = 30.0
"""Longest recording accepted, in seconds: a voice sample is a few seconds long."""
BODY_SECONDS = 30.0
"""Longest a request body may take to arrive, in s (10 MiB at 3 Mbit/s); a trickling client is answered 408."""


class BodyLimit:
    """ASGI middleware: a request whose body exceeds `limit` bytes is answered 413 before the app reads it,
    one that takes longer than `seconds` to arrive 408. The body is read here, at most `limit` bytes of it
    (whatever Content-Length says, so a chunked upload cannot slip past), and handed to the app whole."""

    def __init__(self, app: ASGIApp, *, limit: int = MAX_UPLOAD_BYTES, seconds: float = BODY_SECONDS) -> None:
        self.app, self.limit, self.seconds = app, limit, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await self._refuse(scope, receive, send, 413)
            return
        chunks: list[bytes] = []
        deadline = asyncio.get_running_loop().time() + self.seconds
        while True:
            try:
                message = await asyncio.wait_for(receive(), deadline - asyncio.get_running_loop().time())
            except asyncio.TimeoutError:
                await self._refuse(scope, receive, send, 408)
                return
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if sum(map(len, chunks)) > self.limit:
                await self._refuse(scope, receive, send, 413)
                return
            if not message.get("more_body", False):
                break
        whole = iter([{"type": "http.request", "body": b"".join(chunks), "more_body": False}])

        async def replay() -> Message:
            return next(whole, None) or await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int) -> None:
        if status == 408:
            detail = f"request body not received within {self.seconds:g} s; send it again on a faster connection."
        else:
            detail = (
                f"request body larger than the {self.limit / 1024 / 1024:g} MiB this server accepts; send a shorter "
                "recording (a few seconds of speech is enough) or a compressed format such as FLAC."
            )
        await JSONResponse({"detail": detail}, status, headers={"connection": "close"})(scope, receive, send)


_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")


@contextmanager
def saved_upload(data: bytes, filename: str | None) -> Iterator[tuple[Path, str]]:
    """`data` in a temporary file named like the upload's suffix (``.wav`` when it has none), deleted after,
    and the upload's own name as messages show it (its last part, at most 100 characters)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip() or "upload"
    name = name if len(name) <= 100 else name[:97] + "..."
    suffix = Path(name).suffix
    suffix = suffix.lower() if _SUFFIX.fullmatch(suffix) else ".wav"
    with tempfile.TemporaryDirectory(prefix="vowels-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(data)
        yield path, name


def features_of_upload(
    path: Path, config: FeatureConfig, *, name: str, dsp: str = "numpy", max_seconds: float = MAX_UPLOAD_SECONDS
) -> np.ndarray:
    """Features (n_frames, config.n_features) of the saved upload at `path` (`name` as sent), computed by `dsp`;
    an `AudioError` when it is longer than `max_seconds` (from its header, before decoding) or unreadable."""
    import soundfile as sf

    from ..features import features_of_file

    try:
        info = sf.info(str(path))
        seconds = info.frames / info.samplerate
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError, ZeroDivisionError):
        seconds = 0.0  # libsndfile cannot tell: read_audio decides
    if seconds > max_seconds:
        raise AudioError(
            f"{name}: {seconds:.1f} seconds long; this server accepts recordings of at most {max_seconds:g} seconds. "
            "Record or send a shorter one."
        )
    try:
        return features_of_file(path, config, dsp=dsp, max_seconds=max_seconds)
    except VowelsError as exc:
        raise AudioError(str(exc).replace(str(path), name).replace(" (or raise max_seconds)", "")) from None
