"""`RecipeEnsemble`: networks of different architectures trained apart (each as its recipe says, with the
ensemble's seed), their probabilities averaged; saved as member bundles beside a checksummed ``metadata.json``."""

from __future__ import annotations

import datetime as _dt
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from .bundle import METADATA_FILE, metadata_digest, write_metadata
from .classifier import SpeakerClassifier
from .errors import BundleError, NotFittedError, ParameterError
from .files import FORMAT_VERSION, atomic_folder, check_format_version, sha256_of
from .inference import FastClassifier
from .recipes import RECIPES, recipe_params

__all__ = ["ENSEMBLE_FORMAT", "RecipeEnsemble", "read_ensemble_metadata"]

ENSEMBLE_FORMAT = "vowels-ensemble"


@dataclass(kw_only=True, repr=False, eq=False)
class RecipeEnsemble(ClassifierMixin, BaseEstimator):
    """The mean of the probabilities of one `SpeakerClassifier` per recipe.

    Parameters
    ----------
    recipes : tuple of str, default=("fcn", "best")
        Names in `vowels.recipes.RECIPES`; each member is ``SpeakerClassifier(**recipe)``.
    random_state, verbose : int, int or "auto", default=0, "auto"
        Every member's seed and verbosity.

    Attributes
    ----------
    members_ : list of SpeakerClassifier or FastClassifier
    classes_ : np.ndarray of str
    """

    recipes: Sequence[str] = ("fcn", "best")
    random_state: int = 0
    verbose: int | str = "auto"

    def fit(self, X: Any, y: Sequence[str] | np.ndarray | None = None) -> RecipeEnsemble:
        """Train every member on the same `X`, `y`, one after another."""
        recipes = list(self.recipes)
        single = [name for name, params in RECIPES.items() if "recipes" not in params]
        if len(recipes) < 2 or not set(recipes) <= set(single):
            raise ParameterError(f"recipes must be at least two of {single}; got {recipes!r}.")
        self.members_ = [
            SpeakerClassifier(**recipe_params(r), random_state=self.random_state, verbose=self.verbose).fit(X, y)
            for r in recipes
        ]
        self.classes_ = self.members_[0].classes_
        self.n_features_in_ = self.members_[0].n_features_in_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """The members' mean probability of each speaker, shape (n_sequences, n_classes)."""
        self._check_fitted("fit or RecipeEnsemble.load")
        return np.mean([member.predict_proba(X) for member in self.members_], axis=0)

    def _check_fitted(self, fix: str) -> None:
        if not hasattr(self, "members_"):
            raise NotFittedError(f"this RecipeEnsemble is not fitted yet; call {fix} first.")

    def predict(self, X: Any) -> np.ndarray:
        """The most probable speaker of each sequence."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def score(
        self, X: Any, y: Sequence[str] | np.ndarray | None = None, sample_weight: np.ndarray | None = None
    ) -> float:
        """Accuracy on `X` (labels from `X` if it is `Utterances`)."""
        if y is None:
            y = getattr(X, "labels", None)
        return super().score(X, np.asarray(y).astype(str), sample_weight=sample_weight)

    def save(self, path: str | os.PathLike[str], *, force: bool = False, metrics: dict | None = None) -> Path:
        """Write the ensemble folder at `path` atomically: ``member_<i>/`` bundles and ``metadata.json``."""
        self._check_fitted("fit")
        path = Path(path)
        with atomic_folder(path, force=force) as staging:
            names = [f"member_{i}" for i in range(len(self.members_))]
            for name, member in zip(names, self.members_):
                member.save(staging / name, metrics=metrics)
            metadata = {
                "format": ENSEMBLE_FORMAT,
                "format_version": FORMAT_VERSION,
                "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "rule": "mean of the members' probabilities",
                "recipes": list(self.recipes),
                "random_state": self.random_state,
                "classes": [str(c) for c in self.classes_],
                "members": {name: sha256_of(staging / name / METADATA_FILE) for name in names},
                "metrics": metrics or {},
            }
            write_metadata(staging, metadata)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, engine: str = "keras") -> RecipeEnsemble:
        """Load an ensemble folder written by `save`; members with Keras, or without (``engine="fast"``)."""
        path = Path(path)
        metadata = read_ensemble_metadata(path)
        ensemble = cls(recipes=tuple(metadata["recipes"]), random_state=metadata["random_state"], verbose=0)
        loader = FastClassifier.load if engine == "fast" else SpeakerClassifier.load
        members: list[Any] = [loader(path / name) for name in metadata["members"]]
        ensemble.members_ = members
        ensemble.classes_ = np.array(metadata["classes"], dtype=str)
        ensemble.n_features_in_ = ensemble.members_[0].n_features_in_
        for name, member in zip(metadata["members"], ensemble.members_):
            if list(member.classes_) != list(ensemble.classes_):
                raise BundleError(f"{path / name}: its speakers differ from the ensemble's; retrain or re-copy it.")
        ensemble.metadata_ = metadata
        return ensemble


def read_ensemble_metadata(path: Path) -> dict:
    """An ensemble folder's metadata, after checking it and every member's checksum."""
    metadata_file = path / METADATA_FILE
    try:
        metadata = json.loads(metadata_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        metadata = None
    if not isinstance(metadata, dict) or metadata.get("format") != ENSEMBLE_FORMAT:
        raise BundleError(f"{metadata_file}: not a vowels ensemble (format is not {ENSEMBLE_FORMAT!r}).")
    check_format_version(metadata.get("format_version"), metadata_file, "vowels reproduce --recipe ensemble")
    if metadata.get("metadata_sha256") != metadata_digest(metadata):
        raise BundleError(f"{metadata_file}: its content does not match the sha256 it records; retrain or re-copy it.")
    members = metadata.get("members")
    if not isinstance(members, dict) or len(members) < 2:
        raise BundleError(f"{metadata_file}: 'members' must name at least two member bundles.")
    for name, expected in members.items():
        member = path / str(name)
        if Path(str(name)).name != name or not (member / METADATA_FILE).is_file():
            raise BundleError(f"{path}: ensemble is incomplete, {name} is missing; retrain or re-copy it.")
        if sha256_of(member / METADATA_FILE) != expected:
            raise BundleError(f"{member / METADATA_FILE}: changed since the ensemble was saved; retrain or re-copy it.")
    return metadata
