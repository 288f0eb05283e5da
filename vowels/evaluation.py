"""Accuracy, per-speaker precision / recall / F1 and the confusion matrix (scikit-learn), and the
open-set rates: strangers rejected, enrolled speakers rejected or misnamed, equal error rate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from .errors import DataError

__all__ = ["Evaluation", "OpenSetEvaluation", "evaluate_open_set", "evaluate_predictions"]


@dataclass(frozen=True)
class Evaluation:
    """How well predicted speakers match the true ones.

    Attributes
    ----------
    accuracy : float
        Fraction of the `n` utterances named correctly, in [0, 1].
    n, n_errors : int
    speakers : tuple of str
        Row and column order of `confusion` (rows true, columns predicted) and of the per-speaker arrays.
    confusion : np.ndarray of int, shape (n_speakers, n_speakers)
    precision, recall, f1 : np.ndarray of float, shape (n_speakers,)
    support : np.ndarray of int, shape (n_speakers,)
        True utterances per speaker.
    """

    accuracy: float
    n: int
    n_errors: int
    speakers: tuple[str, ...]
    confusion: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    f1: np.ndarray
    support: np.ndarray

    def __repr__(self) -> str:
        """One line, not the arrays: ``Evaluation(accuracy 94.32% (349/370), 9 speakers: '1'..'9')``."""
        names = [repr(s) for s in self.speakers]
        listed = ", ".join(names) if len(names) <= 3 else f"{names[0]}..{names[-1]}"
        return (
            f"Evaluation(accuracy {100 * self.accuracy:.2f}% ({self.n - self.n_errors}/{self.n}), "
            f"{len(names)} speakers{': ' + listed if names else ''})"
        )

    def to_dict(self) -> dict:
        """Plain JSON-ready values."""
        return {
            "accuracy": self.accuracy,
            "n": self.n,
            "n_errors": self.n_errors,
            "speakers": list(self.speakers),
            "confusion": self.confusion.tolist(),
            "per_speaker": {
                name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(n)}
                for name, p, r, f, n in zip(self.speakers, self.precision, self.recall, self.f1, self.support)
            },
        }


def evaluate_predictions(
    y_true: Sequence[str] | np.ndarray, y_pred: Sequence[str] | np.ndarray, *, speakers: Sequence[str]
) -> Evaluation:
    """Score predicted speaker names against true ones, over the speakers listed."""
    y_true, y_pred = np.asarray(y_true).astype(str), np.asarray(y_pred).astype(str)
    labels = [str(s) for s in speakers]
    precision, recall, f1, support = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0.0)
    n, correct = len(y_true), int(np.sum(y_true == y_pred))
    confusion = confusion_matrix(y_true, y_pred, labels=labels)
    return Evaluation(correct / n, n, n - correct, tuple(labels), confusion, precision, recall, f1, support.astype(int))


@dataclass(frozen=True)
class OpenSetEvaluation:
    """How a model with an unknown-speaker threshold does on enrolled speakers and strangers.

    Attributes
    ----------
    closed_set : Evaluation or None
        The enrolled speakers' recordings named by their most probable speaker (no threshold); None without any.
    threshold : float
    n_enrolled, n_strangers : int
        Recordings of enrolled speakers, and of speakers the model does not know.
    identified, false_rejection, misnamed : float
        Shares of the enrolled speakers' recordings named correctly, answered ``unknown``, named as another.
    true_rejection : float or None
        Share of the strangers' recordings answered ``unknown`` (None without strangers).
    equal_error_rate : float or None
        Where the shares of strangers accepted and enrolled recordings rejected meet (None unless both are present).
    strangers : dict of str to (int, int)
        Per stranger: recordings rejected, recordings in all.
    genuine, impostor : np.ndarray of float
        The open-set scores of the enrolled speakers' and the strangers' recordings.
    rows : tuple of dict
        Per recording: ``source``, ``true``, ``nearest``, ``answer``, ``score``, ``probability``, ``outcome``
        (correct, misnamed, rejected, stranger rejected, stranger accepted).
    """

    closed_set: Evaluation | None
    threshold: float
    n_enrolled: int
    n_strangers: int
    identified: float
    false_rejection: float
    misnamed: float
    true_rejection: float | None
    equal_error_rate: float | None
    strangers: dict[str, tuple[int, int]]
    genuine: np.ndarray
    impostor: np.ndarray
    rows: tuple[dict, ...]

    def __repr__(self) -> str:
        """One line of rates, not the scores and rows."""
        parts = [f"threshold {self.threshold:.3f}"]
        if self.closed_set is not None:
            parts.append(
                f"{self.n_enrolled} enrolled recordings: closed-set accuracy {100 * self.closed_set.accuracy:.2f}%, "
                f"{100 * self.identified:.2f}% named at the threshold"
            )
        if self.true_rejection is not None:
            parts.append(f"{self.n_strangers} of strangers: {100 * self.true_rejection:.2f}% rejected")
        if self.equal_error_rate is not None:
            parts.append(f"equal error rate {100 * self.equal_error_rate:.2f}%")
        parts.append(f"{len(self.errors)} wrong answers")
        return f"OpenSetEvaluation({'; '.join(parts)})"

    @property
    def errors(self) -> list[dict]:
        """The rows whose answer is wrong: misnamed, rejected, or a stranger accepted."""
        return [r for r in self.rows if r["outcome"] in ("misnamed", "rejected", "stranger accepted")]

    def to_dict(self) -> dict:
        """Plain JSON-ready values."""
        closed = self.closed_set
        rates = ("identified", "false_rejection", "misnamed", "true_rejection", "equal_error_rate")
        return {
            **{name: getattr(self, name) for name in ("threshold", "n_enrolled", "n_strangers")},
            "closed_set_accuracy": None if closed is None else closed.accuracy,
            **{name: getattr(self, name) for name in rates},
            "strangers": {name: {"rejected": r, "n": n} for name, (r, n) in self.strangers.items()},
            "closed_set": None if closed is None else closed.to_dict(),
            "errors": self.errors,
        }


def evaluate_open_set(
    y_true: Sequence[str] | np.ndarray,
    nearest: Sequence[str] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    *,
    enrolled: Sequence[str],
    threshold: float,
    sources: Sequence[str] | None = None,
    probabilities: Sequence[float] | np.ndarray | None = None,
) -> OpenSetEvaluation:
    """Score open-set answers: the `nearest` enrolled speaker, accepted when its `scores` >= `threshold`; recordings
    whose true speaker is not `enrolled` are strangers, whose right answer is ``unknown``."""
    from .openset import equal_error_rate

    y_true, nearest = np.asarray(y_true).astype(str), np.asarray(nearest).astype(str)
    scores = np.asarray(scores, dtype=float)
    if not len(y_true) == len(nearest) == len(scores):
        raise DataError(f"need one name and score per recording; got {len(y_true)}, {len(nearest)}, {len(scores)}.")
    known = np.isin(y_true, list(enrolled))
    accepted = scores >= threshold
    n_enrolled, n_strangers = int(known.sum()), int((~known).sum())
    correct = nearest == y_true
    outcome = np.where(
        known,
        np.where(accepted, np.where(correct, "correct", "misnamed"), "rejected"),
        np.where(accepted, "stranger accepted", "stranger rejected"),
    )
    sources = [str(s) for s in sources] if sources is not None else [str(i) for i in range(len(y_true))]
    probability = np.asarray(probabilities, dtype=float) if probabilities is not None else np.full(len(scores), np.nan)
    keys = ("source", "true", "nearest", "answer", "score", "probability", "outcome")
    answers = np.where(accepted, nearest, "unknown")
    rows = tuple(
        dict(zip(keys, (source, str(t), str(n), str(a), float(score), None if np.isnan(p) else float(p), str(o))))
        for source, t, n, a, score, p, o in zip(sources, y_true, nearest, answers, scores, probability, outcome)
    )

    def share(mask: np.ndarray) -> float:
        return float(mask[known].mean()) if n_enrolled else 0.0

    strangers = {
        str(name): (int(np.sum(~accepted[y_true == name])), int(np.sum(y_true == name)))
        for name in sorted(set(y_true[~known]))
    }
    genuine, impostor = scores[known], scores[~known]
    return OpenSetEvaluation(
        closed_set=evaluate_predictions(y_true[known], nearest[known], speakers=list(enrolled)) if n_enrolled else None,
        threshold=float(threshold),
        n_enrolled=n_enrolled,
        n_strangers=n_strangers,
        identified=share(accepted & correct),
        false_rejection=share(~accepted),
        misnamed=share(accepted & ~correct),
        true_rejection=float((~accepted[~known]).mean()) if n_strangers else None,
        equal_error_rate=equal_error_rate(genuine, impostor)[0] if n_enrolled and n_strangers else None,
        strangers=strangers,
        genuine=genuine,
        impostor=impostor,
        rows=rows,
    )
