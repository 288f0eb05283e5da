"""The model bundle: a folder of ``model.keras``, the same network without Keras (``weights.npz`` or ``model.onnx``)
and ``metadata.json`` (the sha256 of every file beside it and of its own content), checked and parsed."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .errors import BundleError, ParameterError
from .files import check_format_version, sha256_of, write_json
from .names import ARCHITECTURES, RECURRENT, UNKNOWN
from .validation import check_choice, check_int, check_threshold, refuse

__all__ = [
    "BUNDLE_FORMAT",
    "BundleMetadata",
    "bundle_entries",
    "metadata_digest",
    "read_bundle",
    "validate_metadata",
    "write_metadata",
]

BUNDLE_FORMAT = "vowels-model"
MODEL_FILE = "model.keras"
METADATA_FILE = "metadata.json"
NUMPY_WEIGHTS_FILE = "weights.npz"
ONNX_FILE = "model.onnx"
FAST_FILES = {"numpy_weights_sha256": NUMPY_WEIGHTS_FILE, "onnx_sha256": ONNX_FILE}
"""The network without Keras, by the metadata entry of its sha256: NumPy weights of a one-layer (Bi)LSTM, else ONNX."""
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 4000, 192000
"""Lowest and highest analysis rates (Hz) a bundle may record, as the CLI's ``--sample-rate`` allows."""
MAX_FEATURES = 10000
"""Most features per frame a bundle may record: far above any real feature set, far below a memory bomb."""
REQUIRED_ENTRIES = ("classes", "n_features", "params", "weights_sha256", "metadata_sha256")


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


class ModelFolder(NamedTuple):
    """A kind of model folder as its refusals word it: no KIND there, PART incomplete, MAKE, REMAKE, COMMAND."""

    format: str
    kind: str
    part: str
    make: str
    remake: str
    command: str


MODEL_BUNDLE = ModelFolder(
    BUNDLE_FORMAT,
    "model bundle",
    "bundle",
    "train one or check the path",
    "retrain or re-copy it",
    "vowels train (or vowels reproduce)",
)


def read_folder_metadata(path: Path, folder: ModelFolder, needed: tuple[str, ...] = ()) -> tuple[Path, dict]:
    """``metadata.json`` of the model folder at `path` and its content, once it and the `needed` files are there
    and its format and version are `folder`'s; each refusal names the path and what to do."""
    if not path.is_dir():
        raise BundleError(f"{path}: no {folder.kind} there (not a folder); {folder.make}.")
    for name in (METADATA_FILE, *needed):
        if not (path / name).is_file():
            raise BundleError(f"{path}: {folder.part} is incomplete, {name} is missing; {folder.remake}.")
    metadata_file = path / METADATA_FILE
    metadata = read_metadata_json(metadata_file)
    if not isinstance(metadata, dict) or metadata.get("format") != folder.format:
        raise BundleError(f"{metadata_file}: not a vowels {folder.kind} (format is not {folder.format!r}).")
    check_format_version(metadata.get("format_version"), metadata_file, folder.command)
    return metadata_file, metadata


def read_bundle(path: str | os.PathLike[str]) -> BundleMetadata:
    """The metadata of the bundle folder at `path`, checked whole and untampered (`validate_metadata`) and parsed."""
    path = Path(path)
    metadata_file, metadata = read_folder_metadata(path, MODEL_BUNDLE, (MODEL_FILE,))
    fast = [(name, metadata[entry]) for entry, name in FAST_FILES.items() if entry in metadata]
    if len(fast) != 1:
        raise BundleError(f"{metadata_file}: must record the sha256 of one of {sorted(FAST_FILES.values())}.")
    extra_files = metadata.get("extra_files", {})
    if not isinstance(extra_files, dict):
        raise BundleError(f"{metadata_file}: 'extra_files' must map file names to sha256 digests.")
    checked = [(MODEL_FILE, metadata.get("weights_sha256")), *fast, *extra_files.items()]
    for name, _ in checked[1:]:
        if Path(str(name)).name != name or not (path / str(name)).is_file():
            raise BundleError(f"{path}: bundle is incomplete, {name} is missing; retrain or re-copy it.")
    validate_metadata(metadata, metadata_file)
    if metadata["metadata_sha256"] != metadata_digest(metadata):
        raise BundleError(
            f"{metadata_file}: its content does not match the sha256 it records; the file was edited or "
            "damaged. Retrain or re-copy the bundle."
        )
    for name, expected in checked:
        file = path / str(name)
        if (actual := sha256_of(file)) != expected:
            raise BundleError(
                f"{file}: sha256 {actual} does not match {expected!r} recorded in metadata.json; "
                "the file was changed or damaged."
            )
    with bundle_entries(metadata_file):
        return BundleMetadata.from_dict(metadata)


@dataclass(frozen=True)
class BundleMetadata:
    """A bundle's ``metadata.json``, checked and parsed once (`read_bundle`): what loaders, figures and reports read.

    Attributes
    ----------
    classes : tuple of str
        Speaker names, in the order of the network's outputs.
    n_features : int
        Features per frame the classifier takes, before its preprocessing.
    params, preprocessing : dict
        The `SpeakerClassifier` settings it was trained with (``options``: `TrainingOptions.to_dict`), and
        `vowels.preprocessing.Preprocessing.to_dict`.
    feature_config : dict or None
        `vowels.features.FeatureConfig.to_dict` of a model trained on recordings; None for Japanese Vowels.
    unknown_threshold : float or None
        Open-set score below which a recordings model answers ``unknown``.
    open_set, validation, metrics : dict
        How the threshold was set; what training measured; what the run that saved it measured.
    source_rates, extra_files : dict
        Recordings per sample rate (Hz) in the training folder; files beside the network, by name, with their sha256.
    fast_file : str or None
        What classifies without Keras (`FAST_FILES`): ``weights.npz`` or ``model.onnx``.
    entries : dict
        Every entry as read, for what has no attribute (e.g. ``library_versions``).
    """

    classes: tuple[str, ...]
    n_features: int
    params: dict
    preprocessing: dict
    feature_config: dict | None = None
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
        """The network architecture (`vowels.names.ARCHITECTURES`)."""
        return str(self.params["architecture"])

    @property
    def mode(self) -> str | None:
        """The (Bi)LSTM's mode; None for the other architectures."""
        mode = self.params.get("mode")
        return str(mode) if mode is not None and self.architecture in RECURRENT else None

    @property
    def options(self) -> dict:
        """The training options as saved (`vowels.training.TrainingOptions.to_dict`)."""
        return dict(self.params.get("options", {}))

    @property
    def trained_on_recordings(self) -> bool:
        """Whether the model reads recordings' features (else Japanese Vowels sequences)."""
        return self.feature_config is not None

    @classmethod
    def from_dict(cls, metadata: dict) -> BundleMetadata:
        """Parse metadata `validate_metadata` has checked; KeyError, TypeError or ValueError for a malformed entry."""
        threshold = metadata.get("unknown_threshold")
        fast = [name for entry, name in FAST_FILES.items() if entry in metadata]
        return cls(
            classes=tuple(str(c) for c in metadata["classes"]),
            n_features=int(metadata["n_features"]),
            params=dict(metadata["params"]),
            preprocessing=dict(metadata["preprocessing"]),
            feature_config=metadata.get("features"),
            unknown_threshold=None if threshold is None else float(threshold),
            **{name: dict(metadata.get(name) or {}) for name in ("open_set", "validation", "metrics", "extra_files")},
            source_rates={int(r): int(n) for r, n in (metadata.get("source_rates") or {}).items()},
            fast_file=fast[0] if fast else None,
            entries=dict(metadata),
        )


@contextlib.contextmanager
def bundle_entries(
    where: Path, what: str = "missing or invalid entry", fix: str = "retrain or re-copy it"
) -> Iterator[None]:
    """Turn what building an estimator from a bundle's entries raises (a missing entry, a wrong type, a refused value,
    an unreadable array file) into one `BundleError`: ``WHERE: WHAT (why); FIX.``; a `BundleError` passes unchanged."""
    try:
        yield
    except BundleError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, OSError) as exc:
        raise BundleError(f"{where}: {what} ({exc}); {fix}.") from None


def validate_metadata(metadata: dict, metadata_file: Path) -> None:
    """Check the types and ranges of the bundle metadata entries the loaders read, when present, so that every engine
    refuses the same values; a `BundleError` for the first bad entry, naming the file, entry, value and what is allowed.
    """

    def require(ok: bool, entry: str, value: object, allowed: str) -> None:
        if not ok:
            raise BundleError(f"{metadata_file}: {refuse(entry, value, allowed)} Retrain or re-copy the bundle.")

    def check(check_value: Callable[..., None], value: object, entry: str, **bounds: Any) -> None:
        try:
            check_value(value, entry, **bounds)
        except ParameterError as exc:
            raise BundleError(f"{metadata_file}: {exc} Retrain or re-copy the bundle.") from None

    for entry in REQUIRED_ENTRIES:
        if entry not in metadata:
            raise BundleError(f"{metadata_file}: no {entry!r} entry; retrain or re-copy the bundle.")
    for entry in ("weights_sha256", "metadata_sha256"):
        digest = metadata[entry]
        is_digest = isinstance(digest, str) and re.fullmatch("[0-9a-f]{64}", digest) is not None
        require(is_digest, f"'{entry}'", digest, "a sha256 digest (64 hexadecimal digits)")
    classes = metadata["classes"]
    require(isinstance(classes, list) and len(classes) >= 2, "'classes'", classes, "a list of at least 2 speaker names")
    for name in classes:
        require(isinstance(name, str) and bool(name.strip()), "a name in 'classes'", name, "a non-empty string")
        require(name != UNKNOWN, "a name in 'classes'", name, f"other than {UNKNOWN!r}, the answer for no match")
    repeated = sorted({name for name in classes if classes.count(name) > 1})
    require(not repeated, "'classes'", classes, f"a list of distinct names (repeated: {repeated})")
    check(check_int, metadata["n_features"], "'n_features'", high=MAX_FEATURES)
    params = metadata["params"]
    require(isinstance(params, dict), "'params'", params, "a mapping of the training parameters")
    for key in ("n_hidden", "n_members", "n_layers", "resample_length", "random_state"):
        if key in params:
            low, none_ok = (0, False) if key == "random_state" else (1, key == "resample_length")
            check(check_int, params[key], f"'params.{key}'", low=low, none_ok=none_ok)
    check(check_choice, params.get("architecture"), "'params.architecture'", choices=ARCHITECTURES)
    sort_by_length, mode = params.get("sort_by_length", False), params.get("mode", "")
    require(isinstance(sort_by_length, bool), "'params.sort_by_length'", sort_by_length, "true or false")
    require(isinstance(mode, str), "'params.mode'", mode, "a network mode name")
    if "unknown_threshold" in metadata:
        check(check_threshold, metadata["unknown_threshold"], "'unknown_threshold'")
    if "features" in metadata:
        features = metadata["features"]
        require(isinstance(features, dict), "'features'", features, "a mapping of the feature settings")
        rate = features.get("sample_rate")
        check(check_int, rate, "'features.sample_rate'", low=MIN_SAMPLE_RATE, high=MAX_SAMPLE_RATE, unit="Hz")
