"""Who spoke one uploaded recording: the answer, every enrolled speaker's score and probability, and
the recording figure (`vowels.plots.plot_recording`) as PNG."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import DataError
from ..names import UNKNOWN
from .store import OPEN_SET, PROBABILITY
from .uploads import features_of_upload

if TYPE_CHECKING:
    from ..recordings import RecordingClassifier
    from ..voiceprints import VoiceprintClassifier

__all__ = ["identify"]


def identify(
    model: RecordingClassifier | VoiceprintClassifier,
    path: Path,
    *,
    name: str,
    threshold: float | None,
    max_seconds: float,
    figure: bool,
) -> dict:
    """The answer for the saved upload at `path` (`name` as sent) and the numbers behind it: the fields of
    `vowels.serve.schemas.Classification` but ``file`` and ``model``. `threshold` None uses the model's;
    `max_seconds` caps the recording, in s; `figure` adds the recording figure as base64 PNG."""
    from ..features import FeatureConfig
    from ..voiceprints import VoiceprintClassifier

    if isinstance(model, VoiceprintClassifier):
        features_of_upload(path, FeatureConfig(), name=name, max_seconds=max_seconds)
        (heard,), failures = model.embed_files([path])
        if heard is None:
            raise DataError(failures[0].message)
        said = model.answer(path, heard, model.threshold_ if threshold is None else threshold)
        scores = None if heard.embedding is None else model.scores(heard.embedding.vector[np.newaxis])[0]
        answer = {"speaker": said.speaker, "nearest": said.nearest, "score": said.score, "probability": None}
        answer |= {"threshold": said.threshold, "scoring": OPEN_SET}
        answer["speakers"] = [
            {"name": speaker, "score": float(scores[i]) if scores is not None else -1.0, "probability": None}
            for i, speaker in enumerate(model.speakers_)
        ]
    else:
        model.check_threshold(threshold)
        features = features_of_upload(path, model.feature_config_, name=name, dsp=model.dsp_, max_seconds=max_seconds)
        identification = model.identify([features], model.voice_vectors([path]))
        probabilities, scores = identification.probabilities[0], identification.all_scores[0]
        nearest = int(identification.nearest[0])
        answer = {
            "speaker": str(model.answer(identification, threshold=threshold)[0]),
            "nearest": str(model.classes_[nearest]),
            "score": float(identification.scores[0]),
            "probability": float(probabilities[nearest]),
            "threshold": float(model.threshold_ if threshold is None else threshold),
            "scoring": OPEN_SET if model.scorer_ is not None else PROBABILITY,
            "speakers": [
                {"name": str(speaker), "score": float(score), "probability": float(p)}
                for speaker, score, p in zip(model.classes_, scores, probabilities, strict=True)
            ],
        }
    answer["unknown"], answer["figure_png"] = answer["speaker"] == UNKNOWN, None
    if figure:  # with MFCC for the encoder, which has no features of its own
        from ..plots import plot_recording, recording_data

        if isinstance(model, VoiceprintClassifier):
            drawn = plot_recording(recording_data(path))
        else:
            drawn = plot_recording(recording_data(path, model.feature_config_, preprocessing=model.preprocessing_))
        drawn.suptitle(drawn.get_suptitle().replace(path.name, name, 1))
        buffer = io.BytesIO()
        drawn.savefig(buffer, format="png", dpi=80)
        answer["figure_png"] = base64.b64encode(buffer.getvalue()).decode("ascii")
    return answer
