"""Files on disk that are written whole or not at all: model bundles, JSON results.

A bundle is a folder holding ``model.keras``, ``weights.npz`` (the same weights as plain
arrays, for `vowels.inference`; older bundles lack it) and ``metadata.json`` (with the sha256
of both weights files). It is written to a hidden sibling folder and renamed into place, so a
crash never leaves half a bundle, and an existing bundle is replaced only when asked.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import BundleError, ParameterError
from .names import ARCHITECTURES, RECURRENT
from .validation import check_choice, check_int, check_threshold, refuse

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "BundleMetadata",
    "atomic_folder",
    "bundle_entries",
    "check_creatable",
    "check_free",
    "check_writable",
    "metadata_digest",
    "read_bundle",
    "read_bundle_metadata",
    "validate_metadata",
    "sha256_of",
    "write_bytes",
    "write_json",
    "write_metadata",
    "write_text",
]

BUNDLE_FORMAT = "vowels-model"
BUNDLE_VERSION = 1
MODEL_FILE = "model.keras"
METADATA_FILE = "metadata.json"
NUMPY_WEIGHTS_FILE = "weights.npz"
ONNX_FILE = "model.onnx"
FAST_FILES = {"numpy_weights_sha256": NUMPY_WEIGHTS_FILE, "onnx_sha256": ONNX_FILE}
"""What a bundle holds for classifying without Keras, by the metadata entry that records its sha256:
plain weights for the one-layer (Bi)LSTM (`vowels.inference.NumpyNetwork`), else the network in ONNX."""
MIN_SAMPLE_RATE = 4000
"""Lowest analysis rate (Hz) a bundle may record, as the CLI's ``--sample-rate`` allows."""
MAX_SAMPLE_RATE = 192000
"""Highest analysis rate (Hz) a bundle may record, as the CLI's ``--sample-rate`` allows."""
MAX_FEATURES = 10000
"""Most features per frame a bundle may record: far above any real feature set, far below a memory bomb."""
REQUIRED_ENTRIES = ("classes", "n_features", "weights_sha256")
"""What every bundle's metadata holds; the rest is checked when present."""
RESERVED_CLASS = "unknown"
"""The answer for no match (`vowels.recordings.UNKNOWN`), so never a speaker's name."""


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


def check_creatable(path: Path) -> None:
    """Prove `path` could be created (its nearest existing ancestor is writable) without creating anything."""
    ancestor = Path(path).absolute().parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise BundleError(f"{path}: cannot be created, {ancestor} is not a folder; choose another path.")
    check_writable(ancestor)


def _is_empty_folder(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink() and next(path.iterdir(), None) is None


def check_free(path: Path, *, force: bool, what: str = "output") -> None:
    """Refuse to replace an existing `path` (an empty folder does not count) unless `force`."""
    if (path.exists() or path.is_symlink()) and not force and not _is_empty_folder(path):
        raise BundleError(f"{path}: {what} already exists; pass force=True to replace it.")


def _leftover_pattern(name: str) -> re.Pattern[str]:
    """Names of the hidden siblings a write of `name` makes: staging (``.partial``), backup (``.old``), temp file."""
    return re.compile(rf"\.{re.escape(name)}\.[A-Za-z0-9_]{{8}}(\.partial|\.old)?")


def _remove_leftovers(path: Path) -> None:
    """Delete what an interrupted write of `path` left beside it; restore `path` from a backup if it is gone.

    Only called under `_write_lock`, so no live writer of `path` owns these.
    """
    pattern = _leftover_pattern(path.name)
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
    """Hold an exclusive lock on writing `path`; refuse at once if another process holds it.

    The lock is ``flock`` on a hidden ``.NAME.lock`` file beside `path`: the kernel releases it when
    its holder dies, even by kill -9, so a crash never leaves `path` locked.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX: writes are still atomic, only not exclusive
        yield
        return
    lock_file = path.parent / f".{path.name}.lock"
    handle = open(lock_file, "a+")  # noqa: SIM115  closed in the finally below
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            # A lock on a file another writer has just unlinked guards nothing: check it is still the one.
            if os.fstat(handle.fileno()).st_ino != os.stat(lock_file).st_ino:
                raise BlockingIOError
        except (BlockingIOError, FileNotFoundError):
            handle.close()
            raise BundleError(
                f"{path}: another process is writing it right now; wait for it to finish or choose another path."
            ) from None
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                lock_file.unlink()
    finally:
        handle.close()


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


def _replace_folder(staging: Path, path: Path) -> None:
    """Put the folder `staging` at `path`; `path` is never missing, even if the process dies midway.

    Where the system cannot swap two folders in one step, the old folder goes to a hidden ``.old``
    backup first, and a crash between the two renames is repaired by the next write (`_remove_leftovers`).
    """
    if _exchange(staging, path):
        shutil.rmtree(staging, ignore_errors=True)
        return
    backup = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
    os.replace(path, backup / path.name)
    try:
        os.replace(staging, path)
    except OSError:
        os.replace(backup / path.name, path)
        raise
    shutil.rmtree(backup, ignore_errors=True)


@contextlib.contextmanager
def atomic_folder(path: Path, *, force: bool = False) -> Iterator[Path]:
    """Yield an empty temporary folder that replaces `path` as a whole only if the block succeeds.

    Writers of one path exclude each other (`_write_lock`): a second is refused at once, and one
    without `force` is refused once the first has written. What an interrupted write left is
    removed first.
    """
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
            if path.exists():
                _replace_folder(staging, path)
            else:
                os.replace(staging, path)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise


def write_bytes(path: Path, data: bytes, *, force: bool = True) -> None:
    """Write `data` through a temporary file and an atomic rename, so no reader sees half of it.

    Without `force` an existing file is never replaced, even by a writer racing this one.
    """
    path = Path(path)
    with _write_lock(path):
        _remove_leftovers(path)
        check_free(path, force=force)
        # Closed by the `with` below; kept open here so a failure can still unlink it by name.
        handle = tempfile.NamedTemporaryFile("wb", dir=path.parent, prefix=f".{path.name}.", suffix="", delete=False)  # noqa: SIM115
        try:
            with handle:
                handle.write(data)
            _publish_mode(Path(handle.name), folder=False)
            if force:
                os.replace(handle.name, path)
            else:
                os.link(handle.name, path)
        except FileExistsError:
            raise BundleError(f"{path}: output already exists; pass force=True to replace it.") from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(handle.name)


def write_text(path: Path, text: str, *, force: bool = True) -> None:
    """Write `text` as UTF-8, atomically (see `write_bytes`)."""
    write_bytes(path, text.encode("utf-8"), force=force)


def write_json(path: Path, data: dict, *, force: bool = True) -> None:
    """Write `data` as indented JSON, atomically (see `write_text`)."""
    write_text(path, json.dumps(data, indent=2) + "\n", force=force)


def metadata_digest(metadata: dict) -> str:
    """sha256 of `metadata` without its own ``metadata_sha256`` entry, as canonical JSON."""
    body = {key: value for key, value in metadata.items() if key != "metadata_sha256"}
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("ascii")).hexdigest()


def write_metadata(folder: Path, metadata: dict) -> None:
    """Write ``metadata.json`` into a bundle `folder`, with the checksum of its own content."""
    write_json(folder / METADATA_FILE, {**metadata, "metadata_sha256": metadata_digest(metadata)})


def read_metadata_json(metadata_file: Path) -> object:
    """The parsed content of a model's ``metadata.json``; a file that is not JSON is a `BundleError` naming it."""
    try:
        return json.loads(metadata_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"{metadata_file}: not valid JSON ({exc}).") from None
    except RecursionError:
        raise BundleError(
            f"{metadata_file}: JSON nested too deeply to be bundle metadata; retrain or re-copy it."
        ) from None


def read_bundle_metadata(path: Path) -> dict:
    """Check a bundle folder is whole and untampered, and return its metadata."""
    path = Path(path)
    if not path.is_dir():
        raise BundleError(f"{path}: no model bundle there (not a folder); train one or check the path.")
    metadata_file, model_file = path / METADATA_FILE, path / MODEL_FILE
    for needed in (metadata_file, model_file):
        if not needed.is_file():
            raise BundleError(f"{path}: bundle is incomplete, {needed.name} is missing; retrain or re-copy it.")
    metadata = read_metadata_json(metadata_file)
    if not isinstance(metadata, dict) or metadata.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{metadata_file}: not a vowels model bundle (format is not {BUNDLE_FORMAT!r}).")
    version = metadata.get("format_version")
    if version != BUNDLE_VERSION:
        raise BundleError(
            f"{metadata_file}: bundle format version {version!r} is not supported by this vowels "
            f"(reads version {BUNDLE_VERSION}); retrain the model with this version."
        )
    checked = [(model_file, metadata.get("weights_sha256"))]
    for entry, name in FAST_FILES.items():
        if entry in metadata:
            if not (path / name).is_file():
                raise BundleError(f"{path}: bundle is incomplete, {name} is missing; retrain or re-copy it.")
            checked.append((path / name, metadata[entry]))
    extra_files = metadata.get("extra_files", {})
    if not isinstance(extra_files, dict):
        raise BundleError(f"{metadata_file}: 'extra_files' must map file names to sha256 digests.")
    for name, expected in extra_files.items():
        extra = path / str(name)
        if Path(str(name)).name != name or not extra.is_file():
            raise BundleError(f"{path}: bundle is incomplete, {name} is missing; retrain or re-copy it.")
        checked.append((extra, expected))
    validate_metadata(metadata, metadata_file)
    if "metadata_sha256" in metadata and metadata["metadata_sha256"] != metadata_digest(metadata):
        raise BundleError(
            f"{metadata_file}: its content does not match the sha256 it records; the file was edited or "
            "damaged. Retrain or re-copy the bundle."
        )
    for file, expected in checked:
        actual = sha256_of(file)
        if actual != expected:
            raise BundleError(
                f"{file}: sha256 {actual} does not match {expected!r} recorded in metadata.json; "
                "the file was changed or damaged."
            )
    return metadata


@dataclass(frozen=True)
class BundleMetadata:
    """A bundle's ``metadata.json``, checked (`read_bundle_metadata`) and parsed once: what the loaders,
    figures, reports and server read, with each entry's default for bundles that predate it.

    Attributes
    ----------
    classes : tuple of str
        Speaker names, in the order of the network's outputs.
    n_features : int
        Features per frame the classifier takes, before its preprocessing.
    params : dict
        The `SpeakerClassifier` settings it was trained with (``options``: `TrainingOptions.to_dict`);
        the loaders say which they need.
    preprocessing : dict or None
        `vowels.preprocessing.Preprocessing.to_dict`; None for identity (older bundles).
    features : dict or None
        `vowels.features.FeatureConfig.to_dict` of a model trained on recordings; None for
        Japanese Vowels.
    unknown_threshold : float or None
        Open-set score below which a recordings model answers ``unknown``.
    open_set, validation, metrics : dict
        How the threshold was set; what training measured; what the run that saved it measured.
    source_rates : dict of int to int
        Recordings per sample rate in the training folder.
    extra_files : dict of str to str
        Files beside the network, by name, with their sha256.
    fast_file : str or None
        What classifies without Keras (`FAST_FILES`): ``weights.npz``, ``model.onnx``, or None
        for bundles older than both.
    entries : dict
        Every entry as read, for what has no attribute (e.g. an older bundle's ``normalization``).
    """

    classes: tuple[str, ...]
    n_features: int
    params: dict
    preprocessing: dict | None = None
    features: dict | None = None
    unknown_threshold: float | None = None
    open_set: dict = field(default_factory=dict)
    validation: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)
    source_rates: dict[int, int] = field(default_factory=dict)
    extra_files: dict[str, str] = field(default_factory=dict)
    fast_file: str | None = None
    entries: dict = field(default_factory=dict, repr=False)

    @property
    def architecture(self) -> str:
        """The network family (`vowels.names.ARCHITECTURES`); bundles from before families are BiLSTMs."""
        return str(self.params.get("architecture", "bilstm"))

    @property
    def mode(self) -> str | None:
        """The (Bi)LSTM's mode; None for the other families."""
        mode = self.params.get("mode")
        return str(mode) if mode is not None and self.architecture in RECURRENT else None

    @property
    def options(self) -> dict:
        """The training options as saved (`vowels.training.TrainingOptions.to_dict`)."""
        return dict(self.params.get("options", {}))

    @property
    def trained_on_recordings(self) -> bool:
        """Whether the model reads recordings' features (else Japanese Vowels sequences)."""
        return self.features is not None

    @classmethod
    def from_dict(cls, metadata: dict) -> BundleMetadata:
        """Parse checked metadata (`validate_metadata` has checked the types of what it holds).

        Raises
        ------
        KeyError, TypeError, ValueError
            An entry every bundle has is missing, or one is malformed.
        """
        threshold = metadata.get("unknown_threshold")
        fast = [name for entry, name in FAST_FILES.items() if entry in metadata]
        return cls(
            classes=tuple(str(c) for c in metadata["classes"]),
            n_features=int(metadata["n_features"]),
            params=dict(metadata.get("params") or {}),
            preprocessing=metadata.get("preprocessing"),
            features=metadata.get("features"),
            unknown_threshold=None if threshold is None else float(threshold),
            open_set=dict(metadata.get("open_set") or {}),
            validation=dict(metadata.get("validation") or {}),
            metrics=dict(metadata.get("metrics") or {}),
            source_rates={int(r): int(n) for r, n in (metadata.get("source_rates") or {}).items()},
            extra_files=dict(metadata.get("extra_files") or {}),
            fast_file=fast[0] if fast else None,
            entries=dict(metadata),
        )


@contextlib.contextmanager
def bundle_entries(
    where: Path, what: str = "missing or invalid entry", fix: str = "retrain or re-copy it"
) -> Iterator[None]:
    """Turn what building an estimator from a bundle's entries raises (a missing entry, a wrong type, a value
    its constructor refuses, an unreadable array file) into one `BundleError`: ``WHERE: WHAT (why); FIX.``.
    A `BundleError` raised in the block passes unchanged."""
    try:
        yield
    except BundleError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, OSError) as exc:
        raise BundleError(f"{where}: {what} ({exc}); {fix}.") from None


def read_bundle(path: str | os.PathLike[str]) -> BundleMetadata:
    """The checked, parsed metadata of the bundle folder at `path` (`read_bundle_metadata`, `BundleMetadata`)."""
    path = Path(path)
    metadata = read_bundle_metadata(path)
    with bundle_entries(path / METADATA_FILE):
        parsed = BundleMetadata.from_dict(metadata)
    return parsed


def validate_metadata(metadata: dict, metadata_file: Path) -> None:
    """Check the types and ranges of the bundle metadata entries the loaders read.

    Called by `read_bundle_metadata`, so the Keras and the NumPy engine (and the figures and
    reports that read a bundle) refuse the same bad values. An entry is checked when present: a
    loader that needs a missing one says so itself. What needs the weights (the number of
    classes and inputs the network has) is checked by the loaders.

    Raises
    ------
    BundleError
        On the first bad entry, naming `metadata_file`, the entry, the value and what is allowed.
    """

    def bad(entry: str, value: object, allowed: str) -> BundleError:
        return BundleError(f"{metadata_file}: {refuse(entry, value, allowed)} Retrain or re-copy the bundle.")

    def check(check_value: Callable[..., None], value: object, entry: str, **bounds: Any) -> None:
        try:
            check_value(value, entry, **bounds)
        except ParameterError as exc:
            raise BundleError(f"{metadata_file}: {exc} Retrain or re-copy the bundle.") from None

    for entry in REQUIRED_ENTRIES:
        if entry not in metadata:
            raise BundleError(f"{metadata_file}: no {entry!r} entry; retrain or re-copy the bundle.")
    for entry in ("weights_sha256", "metadata_sha256"):
        digest = metadata.get(entry, "0" * 64)
        if not isinstance(digest, str) or not re.fullmatch("[0-9a-f]{64}", digest):
            raise bad(f"'{entry}'", digest, "a sha256 digest (64 hexadecimal digits)")
    classes = metadata["classes"]
    if not isinstance(classes, list) or len(classes) < 2:
        raise bad("'classes'", classes, "a list of at least 2 speaker names")
    for name in classes:
        if not isinstance(name, str) or not name.strip():
            raise bad("a name in 'classes'", name, "a non-empty string")
        if name == RESERVED_CLASS:
            raise bad("a name in 'classes'", name, f"other than {RESERVED_CLASS!r}, the answer for no match")
    repeated = sorted({name for name in classes if classes.count(name) > 1})
    if repeated:
        raise bad("'classes'", classes, f"a list of distinct names (repeated: {repeated})")
    check(check_int, metadata["n_features"], "'n_features'", high=MAX_FEATURES)
    if "params" in metadata:
        params = metadata["params"]
        if not isinstance(params, dict):
            raise bad("'params'", params, "a mapping of the training parameters")
        for key in ("n_hidden", "n_members", "n_layers", "resample_length", "random_state"):
            if key in params:
                low, none_ok = (0, False) if key == "random_state" else (1, key == "resample_length")
                check(check_int, params[key], f"'params.{key}'", low=low, none_ok=none_ok)
        if "architecture" in params:
            check(check_choice, params["architecture"], "'params.architecture'", choices=ARCHITECTURES)
        if "sort_by_length" in params and not isinstance(params["sort_by_length"], bool):
            raise bad("'params.sort_by_length'", params["sort_by_length"], "true or false")
        if "mode" in params and not isinstance(params["mode"], str):
            raise bad("'params.mode'", params["mode"], "a network mode name")
    if "unknown_threshold" in metadata:
        check(check_threshold, metadata["unknown_threshold"], "'unknown_threshold'")
    if "features" in metadata:
        features = metadata["features"]
        if not isinstance(features, dict):
            raise bad("'features'", features, "a mapping of the feature settings")
        rate = features.get("sample_rate")
        check(check_int, rate, "'features.sample_rate'", low=MIN_SAMPLE_RATE, high=MAX_SAMPLE_RATE, unit="Hz")
