"""Open a model at a path once: which kind it is, what it can do, and the estimator that reads it."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ..bundle import BUNDLE_FORMAT, METADATA_FILE, BundleMetadata, read_bundle
from ..errors import UsageError

if TYPE_CHECKING:
    import numpy as np

    from ..datasets import Utterances
    from ..evaluation import Evaluation
    from ..recordings import RecordingClassifier
    from ..voiceprints import VoiceprintClassifier

__all__ = ["OpenedModel", "TestSetEvaluation", "open_model", "refuse_voiceprints"]


class TestSetEvaluation(NamedTuple):
    """A Japanese Vowels model on the test set: the utterances, the evaluation, answers, probabilities, seconds."""

    test: Utterances
    evaluation: Evaluation
    predicted: np.ndarray
    probabilities: np.ndarray
    seconds: float


@dataclass(frozen=True)
class OpenedModel:
    """A model folder, checked: its `kind` ("sequences" or "ensemble" from `vowels reproduce`, "recordings" from
    `vowels train`, "voiceprints" from `vowels enrol`), its checked `metadata` (an ensemble's first member's;
    None for voiceprints) and an ensemble's own (`vowels.ensemble.read_ensemble_metadata`)."""

    path: Path
    kind: str
    metadata: BundleMetadata | None = None
    ensemble: dict | None = None

    @property
    def reads_recordings(self) -> bool:
        """Whether it names the speakers of recordings (else of Japanese Vowels sequences)."""
        return self.kind in ("recordings", "voiceprints")

    @property
    def architecture(self) -> str:
        """The network architecture (`vowels.names.ARCHITECTURES`), ``ensemble``, or ``encoder`` for voiceprints."""
        if self.metadata is None or self.ensemble is not None:
            return "encoder" if self.kind == "voiceprints" else "ensemble"
        return self.metadata.architecture

    @property
    def streams(self) -> bool:
        """Whether it answers while a recording arrives: a forward-only LSTM trained on recordings whose
        preprocessing reads no frame ahead (no appended slopes)."""
        preprocessing = (self.metadata.preprocessing if self.metadata is not None else None) or {}
        return self.kind == "recordings" and self.architecture == "lstm" and not preprocessing.get("delta_width")

    def load_recordings(self, *, engine: str = "fast") -> RecordingClassifier | VoiceprintClassifier:
        """The estimator of recordings' speakers; `engine` as `vowels.recordings.RecordingClassifier.load` takes it."""
        if self.kind == "voiceprints":
            from ..voiceprints import VoiceprintClassifier

            return VoiceprintClassifier.load(self.path)
        from ..recordings import RecordingClassifier

        return RecordingClassifier.load(self.path, engine=engine)

    def evaluate_test_set(self, data: str | os.PathLike[str] | None = None) -> TestSetEvaluation:
        """Classify the Japanese Vowels test set in folder `data` (None: the bundled copy) and score it."""
        from ..classifier import SpeakerClassifier
        from ..datasets import load_japanese_vowels
        from ..ensemble import RecipeEnsemble
        from ..tutorial import evaluate_on_test_set

        model = (RecipeEnsemble if self.kind == "ensemble" else SpeakerClassifier).load(self.path)
        test = load_japanese_vowels("test", path=data)
        return TestSetEvaluation(test, *evaluate_on_test_set(model, test))


def _format_of(path: Path) -> object:
    """The ``format`` named in the folder's metadata, or None where there is none to read."""
    try:
        metadata = json.loads((path / METADATA_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return None
    return metadata.get("format") if isinstance(metadata, dict) else None


def open_model(path: str | os.PathLike[str]) -> OpenedModel:
    """The model folder at `path`, its metadata checked (`vowels.bundle.read_bundle`, an ensemble's every member);
    a `BundleError` saying why when nothing usable is there."""
    from ..voiceprints import VOICEPRINT_FORMAT

    path = Path(path)
    found = _format_of(path)
    if found == VOICEPRINT_FORMAT:
        return OpenedModel(path, "voiceprints")
    if found is not None and found != BUNDLE_FORMAT:  # the ensemble module loads scikit-learn: only for one
        from ..ensemble import ENSEMBLE_FORMAT, read_ensemble_metadata

        if found == ENSEMBLE_FORMAT:
            ensemble = read_ensemble_metadata(path)
            return OpenedModel(path, "ensemble", read_bundle(path / next(iter(ensemble["members"]))), ensemble)
    metadata = read_bundle(path)
    return OpenedModel(path, "recordings" if metadata.trained_on_recordings else "sequences", metadata)


def refuse_voiceprints(model: str | os.PathLike[str] | None, why: str) -> None:
    """Refuse a model from `vowels enrol` where `why` says only a trained network will do; name what scores it."""
    from ..voiceprints import VOICEPRINT_FORMAT

    if model is not None and _format_of(Path(model)) == VOICEPRINT_FORMAT:
        raise UsageError(
            f"{model} is a model from 'vowels enrol', and {why}; score it with 'vowels evaluate --model {model} DIR'"
        )
