"""`vowels serve`: a local web page and HTTP API to enrol speakers from the microphone and identify them.

A thin layer over the library calls the command line makes, with no logic of its own beyond
what the web adds: size and duration caps on uploads, names that stay inside the models folder,
and one training job at a time in the background. Needs the ``web`` extra
(``pip install "vowels[web]"``: FastAPI, uvicorn, python-multipart).

``names`` checks model and speaker names; ``store`` finds, lists and loads the model bundles and
keeps the recordings being enrolled; ``uploads`` caps and validates uploaded audio;
``identify`` classifies one upload and draws its figure; ``jobs`` runs training jobs one at a
time; ``app`` declares the HTTP API; ``server`` runs it on uvicorn. The page is ``static/``.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .app import create_app
    from .server import serve

__all__ = ["create_app", "serve"]

_LAZY = {"create_app": ".app", "serve": ".server"}


def __getattr__(name: str) -> object:
    if name not in _LAZY:
        raise AttributeError(f"module 'vowels.serve' has no attribute {name!r}")
    return getattr(import_module(_LAZY[name], __name__), name)
