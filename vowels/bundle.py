"""Files on disk that are written whole or not at all: model bundles, JSON results.

A bundle is a folder holding ``model.keras``, ``weights.npz`` (the same weights as plain
arrays, for `vowels.inference`; older bundles lack it) and ``metadata.json`` (with the sha256
of both weights files). It is written to a hidden sibling folder and renamed into place, so a
crash never leaves half a bundle, and an existing bundle is replaced only when asked.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import BundleError

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "atomic_folder",
    "check_writable",
    "read_bundle_metadata",
    "sha256_of",
    "write_bytes",
    "write_json",
    "write_text",
]

BUNDLE_FORMAT = "vowels-model"
BUNDLE_VERSION = 1
MODEL_FILE = "model.keras"
METADATA_FILE = "metadata.json"
NUMPY_WEIGHTS_FILE = "weights.npz"


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _publish_mode(path: Path, *, folder: bool) -> None:
    """Give a staged file or folder the permissions a plain open() or mkdir() would have."""
    os.chmod(path, (0o777 if folder else 0o666) & ~_umask())


def check_writable(folder: Path) -> None:
    """Create `folder` if needed and prove a file can be written there, before any long work."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".vowels-write-test-"):
            pass
    except OSError as exc:
        raise BundleError(f"{folder}: cannot write there ({exc.strerror or exc}); choose another folder.") from None


def check_free(path: Path, *, force: bool, what: str = "output") -> None:
    """Refuse to replace an existing `path` unless `force`."""
    if path.exists() and not force:
        raise BundleError(f"{path}: {what} already exists; pass --force (force=True) to replace it.")


@contextlib.contextmanager
def atomic_folder(path: Path, *, force: bool = False) -> Iterator[Path]:
    """Yield an empty temporary folder that replaces `path` only if the block succeeds."""
    path = Path(path)
    check_free(path, force=force)
    check_writable(path.parent)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    try:
        yield staging
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _publish_mode(staging, folder=True)
    if not path.exists():
        os.replace(staging, path)
        return
    if not path.is_dir():
        shutil.rmtree(staging, ignore_errors=True)
        raise BundleError(f"{path}: exists and is not a folder; remove it or choose another path.")
    backup = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
    os.replace(path, backup / path.name)
    try:
        os.replace(staging, path)
    except OSError:
        os.replace(backup / path.name, path)
        raise
    shutil.rmtree(backup, ignore_errors=True)


def write_bytes(path: Path, data: bytes, *, force: bool = True) -> None:
    """Write `data` through a temporary file and an atomic rename, so no reader sees half of it."""
    path = Path(path)
    check_free(path, force=force)
    # Closed by the `with` below; kept open here so a failure can still unlink it by name.
    handle = tempfile.NamedTemporaryFile("wb", dir=path.parent, prefix=f".{path.name}.", delete=False)  # noqa: SIM115
    try:
        with handle:
            handle.write(data)
        _publish_mode(Path(handle.name), folder=False)
        os.replace(handle.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise


def write_text(path: Path, text: str, *, force: bool = True) -> None:
    """Write `text` as UTF-8, atomically (see `write_bytes`)."""
    write_bytes(path, text.encode("utf-8"), force=force)


def write_json(path: Path, data: dict, *, force: bool = True) -> None:
    """Write `data` as indented JSON, atomically (see `write_text`)."""
    write_text(path, json.dumps(data, indent=2) + "\n", force=force)


def read_bundle_metadata(path: Path) -> dict:
    """Check a bundle folder is whole and untampered, and return its metadata."""
    path = Path(path)
    if not path.is_dir():
        raise BundleError(f"{path}: no model bundle there (not a folder); train one or check the path.")
    metadata_file, model_file = path / METADATA_FILE, path / MODEL_FILE
    for needed in (metadata_file, model_file):
        if not needed.is_file():
            raise BundleError(f"{path}: bundle is incomplete, {needed.name} is missing; retrain or re-copy it.")
    try:
        metadata = json.loads(metadata_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{metadata_file}: not valid JSON ({exc}).") from None
    if not isinstance(metadata, dict) or metadata.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{metadata_file}: not a vowels model bundle (format is not {BUNDLE_FORMAT!r}).")
    version = metadata.get("format_version")
    if version != BUNDLE_VERSION:
        raise BundleError(
            f"{metadata_file}: bundle format version {version!r} is not supported by this vowels "
            f"(reads version {BUNDLE_VERSION}); retrain the model with this version."
        )
    checked = [(model_file, metadata.get("weights_sha256"))]
    if "numpy_weights_sha256" in metadata:
        numpy_file = path / NUMPY_WEIGHTS_FILE
        if not numpy_file.is_file():
            raise BundleError(f"{path}: bundle is incomplete, {NUMPY_WEIGHTS_FILE} is missing; retrain or re-copy it.")
        checked.append((numpy_file, metadata["numpy_weights_sha256"]))
    extra_files = metadata.get("extra_files", {})
    if not isinstance(extra_files, dict):
        raise BundleError(f"{metadata_file}: 'extra_files' must map file names to sha256 digests.")
    for name, expected in extra_files.items():
        extra = path / str(name)
        if Path(str(name)).name != name or not extra.is_file():
            raise BundleError(f"{path}: bundle is incomplete, {name} is missing; retrain or re-copy it.")
        checked.append((extra, expected))
    for file, expected in checked:
        actual = sha256_of(file)
        if actual != expected:
            raise BundleError(
                f"{file}: sha256 {actual} does not match {expected!r} recorded in metadata.json; "
                "the file was changed or damaged."
            )
    return metadata
