"""Frame-wise features of a recording: MFCC or the LPC cepstrum, by librosa or `vowels.dsp`. `FeatureConfig` says how
and is saved in every bundle trained on recordings; the ``lpcc`` defaults are the Japanese Vowels analysis (Kudo et
al., 1999: 10 kHz, 256-sample frames, 64-sample shift, order 12)."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np

from .errors import DataError, ParameterError
from .names import DSP_CHOICES, FEATURE_KINDS
from .validation import check_choice, check_int, check_number

__all__ = [
    "DELTA_WIDTH",
    "FEATURE_KINDS",
    "FeatureConfig",
    "compute_features",
    "features_of_file",
    "lpc_to_cepstrum",
    "samples_of_file",
]

_KIND_DEFAULTS = {
    "mfcc": {"sample_rate": 16000, "window_ms": 25.0, "hop_ms": 10.0, "n_coefficients": 13},
    "lpcc": {"sample_rate": 10000, "window_ms": 25.6, "hop_ms": 6.4, "n_coefficients": 12},
}
DELTA_WIDTH = 9
"""Frames over which ``FeatureConfig(deltas=True)`` fits each coefficient's slope (`Preprocessing.delta_width`)."""


@dataclass(frozen=True)
class FeatureConfig:
    """How a recording becomes a sequence of shape (n_frames, n_features).

    Parameters
    ----------
    kind : {"mfcc", "lpcc"}, default="mfcc"
        Mel-frequency cepstral coefficients or the LPC cepstrum.
    sample_rate, window_ms, hop_ms, n_coefficients : int, float, float, int, default=None
        The rate recordings are resampled to (Hz), the analysis window (Hann for mfcc, Hamming for lpcc) and shift
        (ms), cepstral coefficients per frame (for lpcc the LPC order); None: 16000, 25.0, 10.0, 13 (mfcc) or 10000,
        25.6, 6.4, 12 (lpcc).
    n_mels : int, default=40
        Mel bands (mfcc only).
    preemphasis : float in [0, 1), default=0.97
        First-order pre-emphasis ``y[n] - a * y[n-1]`` before analysis; 0 disables it.
    deltas : bool, default=False
        Have the classifier append each coefficient's slope over `DELTA_WIDTH` frames (not computed here).
    standardize : bool, default=True
        Have the classifier standardise each feature (after deltas) with the training frames' statistics.
    trim_db : float or None, default=30.0
        Leading and trailing silence threshold, in dB below the loudest frame; None keeps all.
    """

    kind: str = "mfcc"
    sample_rate: int = None  # type: ignore[assignment]  # None: the kind's default, set below
    window_ms: float = None  # type: ignore[assignment]  # None: the kind's default, set below
    hop_ms: float = None  # type: ignore[assignment]  # None: the kind's default, set below
    n_coefficients: int = None  # type: ignore[assignment]  # None: the kind's default, set below
    n_mels: int = 40
    preemphasis: float = 0.97
    deltas: bool = False
    standardize: bool = True
    trim_db: float | None = 30.0

    def __post_init__(self) -> None:
        check_choice(self.kind, "kind", FEATURE_KINDS)
        for name, default in _KIND_DEFAULTS[self.kind].items():
            if getattr(self, name) is None:
                object.__setattr__(self, name, default)
        for name in ("sample_rate", "n_coefficients", "n_mels"):
            check_int(getattr(self, name), name)
            object.__setattr__(self, name, int(getattr(self, name)))
        for name in ("window_ms", "hop_ms"):
            check_number(getattr(self, name), name, low=0, low_open=True, unit="ms")
            object.__setattr__(self, name, float(getattr(self, name)))
        if self.window_length < 2 or self.hop_length < 1:
            raise ParameterError(
                f"window_ms={self.window_ms} and hop_ms={self.hop_ms} at {self.sample_rate} Hz give "
                f"{self.window_length} and {self.hop_length} samples; need at least 2 and 1."
            )
        if self.kind == "lpcc" and self.n_coefficients >= self.window_length:
            raise ParameterError(
                f"n_coefficients (the LPC order) must be below the window of {self.window_length} "
                f"samples; got {self.n_coefficients}."
            )
        if self.kind == "mfcc" and self.n_coefficients > self.n_mels:
            raise ParameterError(f"n_coefficients must be <= n_mels={self.n_mels}; got {self.n_coefficients}.")
        check_number(self.preemphasis, "preemphasis", low=0, high=1, high_open=True)
        check_number(self.trim_db, "trim_db", low=0, low_open=True, unit="dB", none_ok=True)
        for name in ("deltas", "standardize"):
            if not isinstance(getattr(self, name), bool):
                raise ParameterError(f"{name} must be True or False; got {getattr(self, name)!r}.")

    @property
    def window_length(self) -> int:
        """Analysis window, in samples."""
        return round(self.window_ms * self.sample_rate / 1000)

    @property
    def hop_length(self) -> int:
        """Shift between frames, in samples."""
        return round(self.hop_ms * self.sample_rate / 1000)

    @property
    def n_features(self) -> int:
        """Features per frame `compute_features` gives (and feature files hold): the coefficients."""
        return self.n_coefficients

    @property
    def delta_width(self) -> int:
        """The classifier's ``delta_width``: `DELTA_WIDTH` if `deltas`, else 0 (none)."""
        return DELTA_WIDTH if self.deltas else 0

    def to_dict(self) -> dict:
        """Plain JSON-ready values (every default resolved)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> FeatureConfig:
        """The inverse of `to_dict`; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ParameterError(f"unknown feature settings {unknown}; known: {sorted(known)}.")
        return cls(**values)


def lpc_to_cepstrum(a: np.ndarray, n_coefficients: int) -> np.ndarray:
    """Cepstrum c_1..c_n of the all-pole model 1 / A(z), ``A(z) = 1 + a_1 z^-1 + ... + a_p z^-p``, by the recursion
    ``c_n = -a_n - sum_{k=1}^{n-1} (k / n) c_k a_{n-k}`` (``a_j = 0`` for j > p).

    Parameters
    ----------
    a : np.ndarray of shape (..., p + 1)
        LPC polynomials with ``a[..., 0] == 1``, as `librosa.lpc` returns them.
    n_coefficients : int >= 1
        How many cepstral coefficients, c_1 .. c_n (c_0, the log gain, is left out).

    Returns
    -------
    np.ndarray of shape (..., n_coefficients), float64
    """
    a = np.asarray(a, dtype=np.float64)
    if a.shape[-1] < 1 or not np.allclose(a[..., 0], 1.0):
        raise ParameterError("a must hold LPC polynomials whose first coefficient is 1.")
    order = a.shape[-1] - 1
    c = np.zeros((*a.shape[:-1], n_coefficients + 1))
    for n in range(1, n_coefficients + 1):
        acc = -a[..., n] if n <= order else np.zeros(a.shape[:-1])
        for k in range(max(1, n - order), n):
            acc = acc - (k / n) * c[..., k] * a[..., n - k]
        c[..., n] = acc
    return c[..., 1:]


def compute_features(y: np.ndarray, config: FeatureConfig, *, dsp: str = "librosa") -> np.ndarray:
    """Features of mono samples `y` taken at ``config.sample_rate``, before deltas and standardisation.

    Parameters
    ----------
    y : np.ndarray of shape (n_samples,)
        At least one window (``config.window_length`` samples).
    config : FeatureConfig
    dsp : {"librosa", "numpy"}, default="librosa"
        Who does the signal processing: librosa, or `vowels.dsp` (the same features within 1e-5, without librosa).

    Returns
    -------
    np.ndarray of shape (n_frames, config.n_features), float32
        ``n_frames = 1 + (n_samples - window_length) // hop_length``; time on axis 0.
    """
    check_choice(dsp, "dsp", DSP_CHOICES)
    y = np.asarray(y, dtype=np.float32)
    n, hop, order = config.window_length, config.hop_length, config.n_coefficients
    if y.ndim != 1 or len(y) < n:
        raise DataError(f"need mono samples of at least one window ({n}); got shape {y.shape}.")
    mfcc: dict[str, Any] = dict(sr=config.sample_rate, n_mfcc=order, n_fft=n, hop_length=hop, n_mels=config.n_mels)
    if dsp == "numpy":
        from . import dsp as fast

        if config.preemphasis:
            y = fast.preemphasis(y, coef=config.preemphasis)
        if config.kind == "mfcc":
            return np.ascontiguousarray(fast.mfcc(y, **mfcc).T, dtype=np.float32)
        hamming = fast.cosine_window(n, (0.54, 1 - 0.54), periodic=False)  # get_window("hamming", fftbins=False)
        frames = fast.frame(y.astype(np.float64), frame_length=n, hop_length=hop).T * hamming
    else:
        import librosa
        import scipy.signal

        if config.preemphasis:
            y = librosa.effects.preemphasis(y, coef=config.preemphasis)
        if config.kind == "mfcc":
            return np.ascontiguousarray(librosa.feature.mfcc(y=y, center=False, **mfcc).T, dtype=np.float32)
        frames = librosa.util.frame(y.astype(np.float64), frame_length=n, hop_length=hop, axis=0)
        frames = frames * scipy.signal.get_window("hamming", n, fftbins=False)
    # A tiny fixed dither keeps Burg's recursion defined on frames of digital silence.
    frames = frames + np.random.default_rng(0).standard_normal(frames.shape) * 1e-7
    a = fast.lpc(frames, order=order) if dsp == "numpy" else librosa.lpc(frames, order=order, axis=-1)
    return np.ascontiguousarray(lpc_to_cepstrum(a, order), dtype=np.float32)


def samples_of_file(
    path: str | os.PathLike[str], config: FeatureConfig, *, dsp: str = "librosa", max_seconds: float | None = None
) -> np.ndarray:
    """The samples `features_of_file` analyses: the recording read at ``config.sample_rate`` (`vowels.audio.read_audio`,
    refused beyond `max_seconds`, default `vowels.audio.MAX_SECONDS`) and, when silence is trimmed, its pauses longer
    than about 0.4 s dropped (`vowels.voice_activity.drop_long_pauses`)."""
    from .audio import MAX_SECONDS, read_audio
    from .voice_activity import drop_long_pauses

    check_choice(dsp, "dsp", DSP_CHOICES)
    y = read_audio(
        path,
        sr=config.sample_rate,
        trim_db=config.trim_db,
        min_samples=config.window_length,
        dsp=dsp,
        max_seconds=MAX_SECONDS if max_seconds is None else max_seconds,
    )
    return drop_long_pauses(y, config.sample_rate)[0] if config.trim_db is not None else y


def features_of_file(
    path: str | os.PathLike[str], config: FeatureConfig, *, dsp: str = "librosa", max_seconds: float | None = None
) -> np.ndarray:
    """Read, validate and analyse one recording (`samples_of_file`, `compute_features`): an array of shape
    (n_frames, config.n_features), float32, before deltas and standardisation."""
    return compute_features(samples_of_file(path, config, dsp=dsp, max_seconds=max_seconds), config, dsp=dsp)
