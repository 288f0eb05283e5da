"""The recipes of `vowels reproduce`: named estimator settings, as data (no NumPy), and their words."""

from __future__ import annotations

from .errors import ParameterError
from .names import RECURRENT
from .validation import check_choice

RECIPES: dict[str, dict] = {
    "matlab": {"mode": "matlab"},
    "best": {
        "mode": "masked",
        "delta_width": 3,
        "standardize": True,
        "dropout": 0.3,
        "time_warp": 0.2,
        "noise": 0.05,
        "n_members": 5,
    },
    "stacked": {"mode": "masked", "n_layers": 2},
    "lstm": {"architecture": "lstm", "mode": "masked"},
    "dnn": {"architecture": "dnn", "standardize": True},
    "fcn": {"architecture": "fcn"},
    "ensemble": {"recipes": ["fcn", "best"]},
}
"""Named classifier settings: ``matlab`` the tutorial, faithfully; ``best`` chosen by 5-fold cross-validation
on the training utterances only (scripts/cv_recipes.py); the others fixed, untuned, before any scored the
test set; ``ensemble`` the mean of ``fcn`` and ``best``, later confirmed by cross-validation
(scripts/cv_ensemble.py). The architectures' own training options are in `ARCHITECTURE_OPTIONS`."""


RECIPE_NAMES = tuple(RECIPES)


def recipe_params(recipe: str, mode: str | None = None) -> dict:
    """The estimator settings of `recipe`, with `mode` overriding its mode if given."""
    check_choice(recipe, "recipe", RECIPES)
    if mode is not None and not _has_lstm(recipe):
        raise ParameterError(
            f"mode sets what a (Bi)LSTM's last output is; recipe {recipe!r} has no LSTM of its own. Leave mode out."
        )
    return {**RECIPES[recipe], **({"mode": mode} if mode is not None else {})}


def _has_lstm(recipe: str) -> bool:
    """Whether `recipe` is one (Bi)LSTM network, whose mode can be chosen."""
    settings = RECIPES[recipe]
    return "recipes" not in settings and settings.get("architecture", "bilstm") in RECURRENT


def recipe_mode(recipe: str, mode: str | None = None) -> str | None:
    """The (Bi)LSTM mode `recipe` trains in (`mode` if given, else its own); None for a recipe without an LSTM."""
    params = recipe_params(recipe, mode)
    return params.get("mode", "matlab") if _has_lstm(recipe) else None


def recipe_words(recipe: str, mode: str | None) -> str:
    """``MATLAB recipe (matlab mode)``, ``recipe best (masked mode)``, ``recipe fcn``: what a run trained."""
    name = "MATLAB recipe" if recipe == "matlab" else f"recipe {recipe}"
    return name if mode is None else f"{name} ({mode} mode)"


RECIPE_NETWORKS = {
    "dnn": "a frame-level network whose frames vote",
    "fcn": "Wang et al.'s fully convolutional network, trained as dl-4-tsc trains it",
    "ensemble": "the mean of the fcn and best recipes' probabilities",
}
"""What the recipes without an LSTM of their own train, in words."""

_KERAS_FIT = {"gradient_threshold": None, "l2_regularization": 0.0, "shuffle": "every-epoch", "drop_last": False}
"""What Keras' ``fit`` does by default where MATLAB's options differ: no clipping or L2, every epoch shuffled."""

ARCHITECTURE_OPTIONS: dict[str, dict] = {
    "dnn": {"max_epochs": 40, "mini_batch_size": 64, **_KERAS_FIT},
    "fcn": {"max_epochs": 2000, "mini_batch_size": 16, **_KERAS_FIT},
}
"""`vowels.training.TrainingOptions` of the architectures that do not take the tutorial's: the DNN's (fixed before
any test scoring), the FCN's as dl-4-tsc trains it."""
