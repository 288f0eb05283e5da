"""Files and folders written whole or not at all (staged in a hidden sibling, then renamed or swapped in), write
locks, checksums, and the `FORMAT_VERSION` every format vowels writes records."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .errors import BundleError, VowelsError

__all__ = [
    "FORMAT_VERSION",
    "atomic_folder",
    "check_creatable",
    "check_format_version",
    "check_free",
    "check_writable",
    "sha256_of",
    "write_bytes",
    "write_json",
    "write_text",
]

FORMAT_VERSION = 2
"""The version of every format vowels writes (model bundles, ensembles, voiceprints, feature files,
run results, reports); version 1 was never released and is not read."""


def check_format_version(found: object, where: object, remake: str, *, error: type[VowelsError] = BundleError) -> None:
    """Refuse a file whose recorded format version is not `FORMAT_VERSION`: an older one with how to `remake` it."""
    if found == FORMAT_VERSION:
        return
    read = f"this one reads version {FORMAT_VERSION}"
    if isinstance(found, int) and not isinstance(found, bool) and found > FORMAT_VERSION:
        raise error(f"{where}: format version {found}, written by a newer vowels ({read}); upgrade vowels to read it.")
    raise error(
        f"{where}: format version {found!r}, written by an older vowels ({read}); "
        f"retrain or regenerate it with: {remake}."
    )


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _publish_mode(path: Path, *, folder: bool) -> None:
    """Give a staged file or folder the permissions a plain open() or mkdir() would have."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(path, (0o777 if folder else 0o666) & ~umask)


def check_writable(folder: Path) -> None:
    """Create `folder` if needed and prove a file can be written there, before any long work."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".vowels-write-test-"):
            pass
    except OSError as exc:
        raise BundleError(f"{folder}: cannot write there ({exc.strerror or exc}); choose another folder.") from None


def check_creatable(path: Path) -> None:
    """Prove `path` could be created (its nearest existing ancestor is writable) without creating anything."""
    ancestor = Path(path).absolute().parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise BundleError(f"{path}: cannot be created, {ancestor} is not a folder; choose another path.")
    check_writable(ancestor)


def check_free(path: Path, *, force: bool, what: str = "output") -> None:
    """Refuse to replace an existing `path` (an empty folder does not count) unless `force`."""
    empty_folder = path.is_dir() and not path.is_symlink() and next(path.iterdir(), None) is None
    if (path.exists() or path.is_symlink()) and not force and not empty_folder:
        raise BundleError(f"{path}: {what} already exists; pass force=True to replace it.")


def _remove_leftovers(path: Path) -> None:
    """Delete what an interrupted write of `path` left beside it (under `_write_lock`), restoring a lost `path`."""
    pattern = re.compile(rf"\.{re.escape(path.name)}\.[A-Za-z0-9_]{{8}}(\.partial|\.old)?")
    leftovers = sorted(p for p in path.parent.iterdir() if pattern.fullmatch(p.name))
    backups = [p / path.name for p in leftovers if p.name.endswith(".old") and (p / path.name).is_dir()]
    if backups and not (path.exists() or path.is_symlink()):
        os.replace(backups[0], path)
    for leftover in leftovers:
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                leftover.unlink()


@contextlib.contextmanager
def _write_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on a hidden ``.NAME.lock`` beside `path`, refused if another process holds it."""
    try:
        import fcntl
    except ImportError:  # not POSIX: writes are still atomic, only not exclusive
        yield
        return
    lock_file = path.parent / f".{path.name}.lock"
    with open(lock_file, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # A lock on a file another writer has just unlinked guards nothing: check it is still the one.
            if os.fstat(handle.fileno()).st_ino != os.stat(lock_file).st_ino:
                raise BlockingIOError
        except (BlockingIOError, FileNotFoundError):
            raise BundleError(
                f"{path}: another process is writing it right now; wait for it to finish or choose another path."
            ) from None
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                lock_file.unlink()


def _exchange(source: Path, target: Path) -> bool:
    """Swap two existing paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    import ctypes

    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(source), at_fdcwd, os.fsencode(target), rename_exchange) == 0:
        return True
    error = ctypes.get_errno()
    if error in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(error, os.strerror(error), str(target))


@contextlib.contextmanager
def atomic_folder(path: Path, *, force: bool = False) -> Iterator[Path]:
    """Yield an empty temporary folder that replaces `path` as a whole only if the block succeeds; a second writer of
    `path` is refused at once (`_write_lock`), and what an interrupted write left is removed first."""
    path = Path(path)
    check_writable(path.parent)
    with _write_lock(path):
        _remove_leftovers(path)
        check_free(path, force=force)
        if path.exists() and not path.is_dir():
            raise BundleError(f"{path}: exists and is not a folder; remove it or choose another path.")
        staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
        try:
            yield staging
            _publish_mode(staging, folder=True)
            if not path.exists():
                os.replace(staging, path)
            elif _exchange(staging, path):  # swapped in one step
                shutil.rmtree(staging, ignore_errors=True)
            else:  # through a backup that `_remove_leftovers` can restore
                backup = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
                os.replace(path, backup / path.name)
                try:
                    os.replace(staging, path)
                except OSError:
                    os.replace(backup / path.name, path)
                    raise
                shutil.rmtree(backup, ignore_errors=True)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def write_bytes(path: Path, data: bytes, *, force: bool = True) -> None:
    """Write `data` through a temporary file and an atomic rename, so no reader sees half of it; without `force` an
    existing file is never replaced, even by a writer racing this one."""
    path = Path(path)
    with _write_lock(path):
        _remove_leftovers(path)
        check_free(path, force=force)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            _publish_mode(Path(temporary), folder=False)
            (os.replace if force else os.link)(temporary, path)  # a link never replaces what a racing writer made
        except FileExistsError:
            raise BundleError(f"{path}: output already exists; pass force=True to replace it.") from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def write_text(path: Path, text: str, *, force: bool = True) -> None:
    """Write `text` as UTF-8, atomically (see `write_bytes`)."""
    write_bytes(path, text.encode("utf-8"), force=force)


def write_json(path: Path, data: dict, *, force: bool = True) -> None:
    """Write `data` as indented JSON, atomically (see `write_text`)."""
    write_text(path, json.dumps(data, indent=2) + "\n", force=force)
