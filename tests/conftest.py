"""Shared fixtures: the reference UCI files and the Free Spoken Digit Dataset beside the repository, and
quiet TensorFlow."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

REPOSITORY = Path(__file__).resolve().parents[1]
REFERENCE = Path(os.environ.get("VOWELS_REFERENCE_DATA", REPOSITORY.parent / "shared" / "data" / "japanese_vowels"))
FSDD = REPOSITORY.parent / "shared" / "data" / "fsdd"
LIBRISPEECH = REPOSITORY.parent / "shared" / "data" / "librispeech"


def pytest_configure(config: pytest.Config) -> None:
    """On CI every test must be able to run: espeak-ng renders the voices of the recordings tests, sox the noise
    and tones of the no-speech tests."""
    for tool in ("espeak-ng", "sox"):
        if os.environ.get("CI") and shutil.which(tool) is None:
            raise pytest.UsageError(f"CI needs {tool} for the recordings tests: apt-get install {tool}")


def _absent(message: str) -> NoReturn:
    """Data a test needs is missing: a failure on CI, where every test must run; a skip elsewhere."""
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The original UCI files (../shared/data/japanese_vowels); required on CI."""
    if not (REFERENCE / "ae.train").is_file():
        _absent(f"reference data not found at {REFERENCE}; set VOWELS_REFERENCE_DATA")
    return REFERENCE


@pytest.fixture(scope="session")
def fsdd_dir() -> Path:
    """The Free Spoken Digit Dataset (../shared/data/fsdd/<speaker>/<digit>_<speaker>_<n>.wav, 8 kHz); needed on CI."""
    if not FSDD.is_dir():
        _absent(f"Free Spoken Digit Dataset not found at {FSDD}")
    return FSDD


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """../shared/data, holding the FSDD and LibriSpeech excerpts the speaker-encoder references were made on."""
    if not (FSDD.is_dir() and LIBRISPEECH.is_dir()):
        _absent(f"FSDD or LibriSpeech excerpt not found under {FSDD.parent}")
    return FSDD.parent


@pytest.fixture(scope="session")
def copy_fsdd(fsdd_dir):
    """copy(target, speakers, digits, takes) -> target: ``target/<speaker>/<digit>_<speaker>_<take>.wav``
    copied from the FSDD folder, so that a test reads real recordings from a folder of its own."""

    def copy(target: Path, speakers, digits, takes) -> Path:
        for speaker in speakers:
            (target / speaker).mkdir(parents=True)
            for digit in digits:
                for take in takes:
                    name = f"{digit}_{speaker}_{take}.wav"
                    shutil.copyfile(fsdd_dir / speaker / name, target / speaker / name)
        return target

    return copy


@pytest.fixture(autouse=True)
def _no_user_data_env(monkeypatch):
    """Tests choose their data explicitly; a user's $VOWELS_DATA must not leak in."""
    monkeypatch.delenv("VOWELS_DATA", raising=False)


@pytest.fixture
def as_unprivileged():
    """A function that prefixes a command to run it as uid 65534 when the tests run as root, who reads any
    file: permission tests need a user the file mode applies to."""
    import os
    import shutil

    def prefix(command: list[str]) -> list[str]:
        if os.geteuid() != 0:
            return command
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv (util-linux): cannot read a file as an unprivileged user")
        return [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", *command]

    return prefix
