"""Shared fixtures: the reference UCI files beside the repository, and quiet TensorFlow."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

REPOSITORY = Path(__file__).resolve().parents[1]
REFERENCE = Path(os.environ.get("VOWELS_REFERENCE_DATA", REPOSITORY.parent / "shared" / "data" / "japanese_vowels"))


def pytest_configure(config: pytest.Config) -> None:
    """On CI every test must be able to run: espeak-ng renders the voices of the recordings tests."""
    if os.environ.get("CI") and shutil.which("espeak-ng") is None:
        raise pytest.UsageError("CI needs espeak-ng for the recordings tests: apt-get install espeak-ng")


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The original UCI files (../shared/data/japanese_vowels); required on CI."""
    if not (REFERENCE / "ae.train").is_file():
        message = f"reference data not found at {REFERENCE}; set VOWELS_REFERENCE_DATA"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return REFERENCE


@pytest.fixture(autouse=True)
def _no_user_data_env(monkeypatch):
    """Tests choose their data explicitly; a user's $VOWELS_DATA must not leak in."""
    monkeypatch.delenv("VOWELS_DATA", raising=False)
