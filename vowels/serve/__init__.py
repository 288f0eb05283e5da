"""`vowels serve`: a local web page and HTTP API to enrol speakers from the microphone and identify them.
Needs the ``web`` extra (``pip install "vowels[web]"``); `create_app` and `serve` load on first use."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .app import create_app
    from .server import serve

__all__ = ["create_app", "serve"]


def __getattr__(name: str) -> object:
    if name not in __all__:
        raise AttributeError(f"module 'vowels.serve' has no attribute {name!r}")
    return getattr(import_module(f".{'app' if name == 'create_app' else 'server'}", __name__), name)
