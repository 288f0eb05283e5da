"""The models folder: model bundles (listed, described, loaded once and reloaded when replaced; only through the
estimators' checked, atomic `load` and `save`) and, in ``.enrolment``, the recordings of speakers being enrolled."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..bundle import METADATA_FILE
from ..errors import BundleError, DataError, VowelsError
from ..files import check_writable, write_bytes
from ..limits import SERVE_MAX_BYTES, SERVE_MAX_MODELS, SERVE_MAX_RECORDINGS
from ..openset import ThresholdChoice
from ..workflows.models import OpenedModel, open_model
from .name_checks import child, name_key

if TYPE_CHECKING:
    from ..recordings import RecordingClassifier
    from ..voiceprints import VoiceprintClassifier

__all__ = ["MAX_TAKES", "OPEN_SET", "PROBABILITY", "Conflict", "Full", "ModelStore", "NotFound"]

ENROLMENT_FOLDER = ".enrolment"
"""Where recordings wait to be trained on: ``MODELS/.enrolment/<model>/<speaker>/take-NNN.wav``."""
MAX_TAKES = 50
"""Most recordings kept for one speaker of one model."""
MAX_SPEAKERS = 50
"""Most speakers enrolled in one model."""
OPEN_SET, PROBABILITY = "open-set", "probability"
"""The kinds of score a model gives (``scoring`` in the API): in [-1, 1] and the network's, in [0, 1]."""


class NotFound(VowelsError, LookupError):
    """No model bundle, or no speaker being enrolled, of that name."""


class Conflict(VowelsError):
    """The request conflicts with the models folder as it is (HTTP 409)."""


def _same_name(name: str, names: list[str], what: str) -> None:
    """Refuse `name` when another of `names` reads the same once normalised (`name_key`)."""
    twin = next((other for other in names if other != name and name_key(other) == name_key(name)), None)
    if twin is not None:
        raise Conflict(f"{what} name {name!r} reads the same as {twin!r}, which is already there; use {twin!r}.")


class Full(VowelsError):
    """A limit of the models folder is reached (HTTP 507)."""


def _folder_bytes(folder: Path) -> int:
    """Bytes of the files under `folder` (links not followed)."""
    total = 0
    for parent, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(parent, name)).st_size
    return total


def _signature(path: Path) -> tuple[int, int, int]:
    """What changes when a bundle is replaced: its metadata file's inode, modification time and size."""
    try:
        status = (path / METADATA_FILE).stat()
    except FileNotFoundError:
        raise BundleError(f"{path}: bundle is incomplete, {METADATA_FILE} is missing; retrain it.") from None
    return status.st_ino, status.st_mtime_ns, status.st_size


def _names_in(folder: Path) -> list[str]:
    """The subfolders of `folder` with a valid model name (hidden ones skipped), sorted."""
    found = []
    for entry in sorted(folder.iterdir()) if folder.is_dir() else []:
        with contextlib.suppress(VowelsError):
            if entry.is_dir() and child(folder, entry.name, what="model"):
                found.append(entry.name)
    return found


class ModelStore:
    """The model bundles ``root/<name>`` in `root` (created if missing), and the recordings being enrolled for new
    ones; at most `max_models` models (trained or being enrolled), `max_recordings` recordings waiting, `max_bytes`."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        max_models: int = SERVE_MAX_MODELS,
        max_recordings: int = SERVE_MAX_RECORDINGS,
        max_bytes: int = SERVE_MAX_BYTES,
    ) -> None:
        self.root = Path(root)
        self.max_models, self.max_recordings, self.max_bytes = max_models, max_recordings, max_bytes
        check_writable(self.root)
        self._lock = threading.Lock()
        self._models: dict[str, tuple] = {}
        self._opened: dict[str, tuple] = {}

    def path(self, name: str) -> Path:
        """The bundle folder of model `name` (checked: it stays inside `root`)."""
        return child(self.root, name, what="model")

    def names(self) -> list[str]:
        """Names of the folders in `root` that may be bundles (hidden ones and invalid names skipped), sorted."""
        return _names_in(self.root)

    def exists(self, name: str) -> bool:
        """Whether `root/name` holds a bundle (whole or not)."""
        return (self.path(name) / METADATA_FILE).is_file()

    def _cached(self, cache: dict[str, tuple], name: str, read: Any, *, again: bool = True) -> Any:
        """`read` of model `name`, cached until the bundle is replaced; read again once if replaced meanwhile."""
        path = self.path(name)
        if not path.is_dir():
            raise NotFound(f"no model named {name!r} in {self.root}; list the models with GET /api/models.")
        signature = _signature(path)
        with self._lock:
            known = cache.get(name)
        if known is not None and known[0] == signature:
            return known[1]
        try:
            value = read(path)
        except BundleError:
            if again and _signature(path) != signature:
                return self._cached(cache, name, read, again=False)
            raise
        with self._lock:
            cache[name] = signature, value
        return value

    def opened(self, name: str) -> OpenedModel:
        """Model `name`, opened (`vowels.workflows.models.open_model`): what it is and what it can do."""
        return self._cached(self._opened, name, open_model)

    def load(self, name: str) -> RecordingClassifier | VoiceprintClassifier:
        """Model `name`, loaded with the fast engine; cached until replaced."""
        return self._cached(self._models, name, lambda path: open_model(path).load_recordings(engine="fast"))

    def describe(self, name: str) -> dict:
        """What the page and ``GET /api/models`` show of model `name`; a bundle that cannot serve says why."""
        try:
            opened = self.opened(name)
            voices: Any = self.load(name) if opened.kind == "voiceprints" else None
        except BundleError as exc:
            return {"name": name, "usable": False, "problem": str(exc)}
        metadata = opened.metadata
        if voices is not None:
            choice, scoring, words = voices.threshold_choice_, OPEN_SET, voices.describe_scoring()
            features, validation, created = None, {"n_final_train": len(voices.labels_)}, None
            speakers, threshold = list(voices.speakers_), voices.threshold_
        elif metadata is None or opened.kind != "recordings" or metadata.unknown_threshold is None:
            problem = "trained on Japanese Vowels sequences, not recordings; it cannot classify audio."
            return {"name": name, "usable": False, "problem": problem}
        else:
            try:
                choice = ThresholdChoice.from_dict(metadata.open_set["threshold_choice"])
            except (KeyError, TypeError, ValueError) as exc:
                return {"name": name, "usable": False, "problem": f"no valid threshold_choice in its metadata ({exc})."}
            words = metadata.open_set.get("scoring", PROBABILITY)  # an open-set score's description
            scoring = PROBABILITY if words == PROBABILITY else OPEN_SET
            words = "the network's probability of each speaker" if words == PROBABILITY else words
            features = {key: (metadata.feature_config or {}).get(key) for key in ("kind", "sample_rate")}
            validation, created = metadata.validation, metadata.entries.get("created")
            speakers, threshold = list(metadata.classes), metadata.unknown_threshold
        return {
            "name": name,
            "usable": True,
            "speakers": speakers,
            "threshold": threshold,
            "threshold_source": choice.how,
            "threshold_note": choice.describe(),
            "scoring": scoring,
            "scoring_description": words,
            "architecture": opened.architecture,
            "streams": opened.streams,
            "features": features,
            "n_recordings": validation.get("n_final_train"),
            "validation_accuracy": validation.get("accuracy"),
            "n_validation": validation.get("n_validation"),
            "created": created,
        }

    def enrolment_path(self, model: str) -> Path:
        """The folder of recordings waiting to train model `model`: one subfolder per speaker."""
        folder = self.root / ENROLMENT_FOLDER
        folder.mkdir(exist_ok=True)
        return child(folder, model, what="model")

    def check_space(self, adding: int = 0) -> None:
        """Refuse (`Full`) when the folder, with `adding` bytes more, would hold more than `max_bytes`."""
        used = _folder_bytes(self.root)
        if used + adding > self.max_bytes:
            raise Full(
                f"the models folder holds {used / 1024**2:.0f} MiB, and this server keeps at most "
                f"{self.max_bytes / 1024**2:.0f} MiB; remove models or speakers, or start it with a higher --max-disk."
            )

    def private(self, message: str) -> str:
        """`message` as a client may see it: no path of this server's (a model is named by its name)."""
        for root in (str(self.root.resolve()), str(self.root)):
            message = message.replace(f"{root}/{ENROLMENT_FOLDER}/", "").replace(f"{root}/", "")
            message = message.replace(root, "the models folder")
        return message

    def enrolment(self, model: str) -> dict[str, int]:
        """Speakers being enrolled for `model`, and how many recordings each has, by name."""
        folder = self.enrolment_path(model)
        if not folder.is_dir():
            return {}
        return {
            speaker.name: sum(1 for take in speaker.iterdir() if take.is_file() and not take.name.startswith("."))
            for speaker in sorted(folder.iterdir())
            if speaker.is_dir() and not speaker.name.startswith(".")
        }

    def add_take(self, model: str, speaker: str, data: bytes, suffix: str) -> None:
        """Keep one recording of `speaker` for `model` (already validated)."""
        folder = child(self.enrolment_path(model), speaker, what="speaker")
        with self._lock:
            speakers = self.enrolment(model)
            if not speakers:
                models = {*self.names(), *_names_in(self.root / ENROLMENT_FOLDER)}
                _same_name(model, sorted(models), "model")
                if model not in models and len(models) >= self.max_models:
                    raise Full(
                        f"the models folder already has {len(models)} models, trained or being enrolled, the most "
                        "this server keeps; remove one, or start the server with a higher --max-models."
                    )
            _same_name(speaker, list(speakers), "speaker")
            self.check_space(len(data))
            kept = sum(sum(self.enrolment(other).values()) for other in _names_in(self.root / ENROLMENT_FOLDER))
            if kept >= self.max_recordings:
                raise Full(
                    f"{kept} recordings are waiting to be trained on, the most this server keeps; train or remove "
                    "some, or start the server with a higher --max-recordings."
                )
            if speaker not in speakers and len(speakers) >= MAX_SPEAKERS:
                raise DataError(
                    f"model {model!r} already has {MAX_SPEAKERS} speakers being enrolled, the most allowed; "
                    "train it or remove a speaker."
                )
            if speakers.get(speaker, 0) >= MAX_TAKES:
                raise DataError(
                    f"speaker {speaker!r} already has {MAX_TAKES} recordings, the most kept; train the model, "
                    "or remove the speaker and record again."
                )
            folder.mkdir(parents=True, exist_ok=True)
            taken = {p.stem for p in folder.iterdir()}
            number = next(n for n in range(1, MAX_TAKES + 2) if f"take-{n:03d}" not in taken)
            write_bytes(folder / f"take-{number:03d}{suffix}", data, force=False)

    def remove_speaker(self, model: str, speaker: str) -> None:
        """Forget the recordings of `speaker` for `model`."""
        folder = child(self.enrolment_path(model), speaker, what="speaker")
        if not folder.is_dir():
            raise NotFound(f"no speaker {speaker!r} is being enrolled for model {model!r}.")
        with self._lock:
            shutil.rmtree(folder)

    def snapshot(self, model: str, target: Path) -> Path:
        """Copy the recordings of `model` to `target` (``target/<speaker>/``), so training reads a fixed set."""
        with self._lock:
            shutil.copytree(self.enrolment_path(model), target, ignore=shutil.ignore_patterns(".*"))
        return target
