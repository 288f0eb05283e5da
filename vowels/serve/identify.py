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

if TYPE_CHECKING:
    from ..recordings import RecordingClassifier
    from ..voiceprints import VoiceprintClassifier

__all__ = ["figure_png", "identify", "identify_voice"]


def identify(
    model: RecordingClassifier,
    features: np.ndarray,
    *,
    threshold: float | None = None,
    voice_vectors: np.ndarray | None = None,
) -> dict:
    """The answer for one recording's `features` and the numbers behind it, JSON-ready.

    Parameters
    ----------
    model : RecordingClassifier
    features : np.ndarray of shape (n_frames, n_features)
        As extracted (`vowels.serve.uploads.features_of_upload`), before deltas and standardisation.
    threshold : float, default=None
        Score below which the answer is ``"unknown"``; None uses the model's.
    voice_vectors : np.ndarray of shape (1, 256), default=None
        The recording's speaker-encoder embedding, for a model that fuses its score
        (`RecordingClassifier.voice_vectors`).

    Returns
    -------
    dict
        ``speaker`` (a name or ``"unknown"``), ``nearest``, ``score`` and ``probability`` of the
        nearest speaker, ``threshold``, ``scoring`` (``"open-set"`` scores lie in [-1, 1],
        ``"probability"`` in [0, 1]) and ``speakers``: for each enrolled speaker, in the model's
        order, its ``name``, ``score`` and ``probability``.
    """
    identification = model.identify([features], voice_vectors)
    probabilities, scores = identification.probabilities[0], identification.all_scores[0]
    answer = str(model.answer(identification, threshold=threshold)[0])
    nearest = int(identification.nearest[0])
    return {
        "speaker": answer,
        "unknown": answer == UNKNOWN,
        "nearest": str(model.classes_[nearest]),
        "score": float(identification.scores[0]),
        "probability": float(probabilities[nearest]),
        "threshold": float(model.threshold_ if threshold is None else threshold),
        "scoring": OPEN_SET if model.scorer_ is not None else PROBABILITY,
        "speakers": [
            {"name": str(name), "score": float(score), "probability": float(p)}
            for name, score, p in zip(model.classes_, scores, probabilities, strict=True)
        ],
    }


def identify_voice(model: VoiceprintClassifier, path: Path, *, threshold: float | None = None) -> dict:
    """`identify` for a model of the speaker encoder: the same answer, every score a cosine, no probabilities."""
    (heard,), failures = model.embed_files([path])
    if heard is None:
        raise DataError(failures[0].message)
    answer = model.answer(path, heard, model.threshold_ if threshold is None else threshold)
    scores = None if heard.embedding is None else model.scores(heard.embedding.vector[np.newaxis])[0]
    return {
        "speaker": answer.speaker,
        "unknown": answer.speaker == UNKNOWN,
        "nearest": answer.nearest,
        "score": answer.score,
        "probability": None,
        "threshold": answer.threshold,
        "scoring": OPEN_SET,
        "speakers": [
            {"name": name, "score": float(scores[i]) if scores is not None else -1.0, "probability": None}
            for i, name in enumerate(model.speakers_)
        ],
    }


def figure_png(model: RecordingClassifier | VoiceprintClassifier, path: Path, *, name: str) -> str:
    """The recording figure of the file at `path` with `model`'s features (MFCC for a model of the speaker
    encoder, which has none of its own), as a base64 PNG (for a data URL)."""
    from ..plots import plot_recording, recording_data
    from ..voiceprints import VoiceprintClassifier

    if isinstance(model, VoiceprintClassifier):
        data = recording_data(path)
    else:
        data = recording_data(path, model.features_, preprocessing=model.preprocessing_)
    figure = plot_recording(data)
    figure.suptitle(figure.get_suptitle().replace(path.name, name, 1))
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80)
    return base64.b64encode(buffer.getvalue()).decode("ascii")
