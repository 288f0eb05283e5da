"""The librosa steps of `vowels.audio` and `vowels.features`, in NumPy with librosa's own arithmetic (dtypes,
padding, reduction order), so that ``vowels classify`` starts without importing librosa, numba or
``scipy.signal`` (2-3 s). Each function names the librosa call it reproduces with the parameters vowels
uses; ``tests/test_dsp.py`` holds each to it on real recordings. `mfcc` imports ``scipy.fft``."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = [
    "cosine_window",
    "delta",
    "frame",
    "lpc",
    "mel_filters",
    "mel_power",
    "mfcc",
    "preemphasis",
    "resample",
    "to_mono",
    "trim",
]


def frame(y: np.ndarray, *, frame_length: int, hop_length: int) -> np.ndarray:
    """Frames of `y` as a view of shape (frame_length, n_frames), as ``librosa.util.frame``."""
    windows = np.lib.stride_tricks.sliding_window_view(y, frame_length, axis=-1)[::hop_length]
    return np.moveaxis(windows, -1, -2)


def cosine_window(n: int, coefficients: tuple[float, ...], *, periodic: bool) -> np.ndarray:
    """``sum_k a_k cos(k x)`` over n points, float64, as ``scipy.signal.windows.general_cosine`` (Hann is
    ``(0.5, 0.5)``, Hamming ``(0.54, 1 - 0.54)``); `periodic` is ``fftbins=True``."""
    fac = np.linspace(-np.pi, np.pi, n + 1 if periodic else n)
    return sum((a * np.cos(k * fac) for k, a in enumerate(coefficients)), np.zeros(len(fac)))[:n]


def to_mono(data: np.ndarray) -> np.ndarray:
    """Mean over channels of `data` shaped (n_channels, n_samples), as ``librosa.to_mono``."""
    return np.mean(data, axis=tuple(range(data.ndim - 1))) if data.ndim > 1 else data


def resample(y: np.ndarray, *, orig_sr: int, target_sr: int) -> np.ndarray:
    """`y` from `orig_sr` to `target_sr` Hz, as ``librosa.resample(res_type="soxr_hq")``: soxr's HQ filter, cut or
    padded to ``ceil(len(y) * target_sr / orig_sr)`` samples."""
    import soxr

    if orig_sr == target_sr:
        return y
    n_samples = int(np.ceil(y.shape[-1] * (float(target_sr) / orig_sr)))
    y_hat = soxr.resample(y, orig_sr, target_sr, quality="soxr_hq")[:n_samples]
    return np.pad(y_hat, (0, n_samples - len(y_hat)))


def trim(y: np.ndarray, *, top_db: float, frame_length: int, hop_length: int) -> np.ndarray:
    """`y` without leading and trailing frames quieter than its loudest by `top_db` dB (RMS of centred frames), as
    ``librosa.effects.trim``."""
    padded = np.pad(y, (frame_length // 2, frame_length // 2))
    frames = frame(padded, frame_length=frame_length, hop_length=hop_length)
    rms = np.sqrt(np.mean(np.square(frames, dtype=np.float32), axis=-2))
    amin = 1e-10  # amplitude_to_db(rms, ref=np.max, top_db=None)
    db = 10.0 * np.log10(np.maximum(amin, np.square(rms)))
    db -= 10.0 * np.log10(np.maximum(amin, np.max(rms) ** 2))
    loud = np.flatnonzero(db > -top_db)
    if loud.size == 0:
        return y[:0]
    return y[int(loud[0]) * hop_length : min(len(y), (int(loud[-1]) + 1) * hop_length)]


def preemphasis(y: np.ndarray, *, coef: float) -> np.ndarray:
    """``y[n] - coef * y[n-1]``, the first from ``2 y[0] - y[1]``, as ``librosa.effects.preemphasis``."""
    out = np.empty_like(y)
    out[0] = y[0] + (2 * y[0] - y[1])
    out[1:] = y[1:] - np.asarray(coef, dtype=y.dtype) * y[:-1]
    return out


_F_SP, _MIN_LOG_HZ, _LOGSTEP = 200.0 / 3, 1000.0, np.log(6.4) / 27.0  # Slaney's mel scale: linear to 1 kHz, then log


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    """Slaney mels in Hz, as ``librosa.mel_to_hz``."""
    log_t = mels >= _MIN_LOG_HZ / _F_SP
    return np.where(log_t, _MIN_LOG_HZ * np.exp(_LOGSTEP * (mels - _MIN_LOG_HZ / _F_SP)), _F_SP * mels)


@lru_cache(maxsize=8)
def mel_filters(*, sr: int, n_fft: int, n_mels: int) -> np.ndarray:
    """Slaney-normalised triangular mel filters from 0 Hz to ``sr / 2``, shape (n_mels, 1 + n_fft // 2), float32."""
    fftfreqs = np.fft.rfftfreq(n=n_fft, d=1.0 / sr)
    top = float(sr) / 2  # in mels, as ``librosa.hz_to_mel``
    top_mel = _MIN_LOG_HZ / _F_SP + np.log(top / _MIN_LOG_HZ) / _LOGSTEP if top >= _MIN_LOG_HZ else top / _F_SP
    mel_f = _mel_to_hz(np.linspace(0.0, top_mel, n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fftfreqs)
    lower, upper = -ramps[:n_mels] / fdiff[:n_mels, np.newaxis], ramps[2:] / fdiff[1:, np.newaxis]
    weights = np.maximum(0, np.minimum(lower, upper)).astype(np.float32)
    weights *= (2.0 / (mel_f[2 : n_mels + 2] - mel_f[:n_mels]))[:, np.newaxis]
    weights.setflags(write=False)
    return weights


def mel_power(y: np.ndarray, *, sr: int, n_fft: int, hop_length: int, n_mels: int, center: bool) -> np.ndarray:
    """Mel power spectrogram of float32 `y`, shape (n_mels, n_frames): periodic Hann, power 2, Slaney
    filters; `center` pads ``n_fft // 2`` zeros at each end (``librosa.feature.melspectrogram``)."""
    import scipy.fft

    if center:
        y = np.pad(y, (n_fft // 2, n_fft // 2))
    window = cosine_window(n_fft, (0.5, 0.5), periodic=True)[:, np.newaxis]  # get_window("hann", n_fft)
    frames = frame(y, frame_length=n_fft, hop_length=hop_length)
    spectrum = np.zeros((1 + n_fft // 2, frames.shape[-1]), dtype=np.complex64, order="F")  # librosa.stft's layout,
    spectrum[:] = scipy.fft.rfft(window * frames, axis=-2)  # which decides the einsum's rounding below
    power = np.abs(spectrum) ** 2
    return np.einsum("...ft,mf->...mt", power, mel_filters(sr=sr, n_fft=n_fft, n_mels=n_mels), optimize=True)


def mfcc(y: np.ndarray, *, sr: int, n_mfcc: int, n_fft: int, hop_length: int, n_mels: int) -> np.ndarray:
    """MFCC of float32 `y`, shape (n_mfcc, n_frames), as ``librosa.feature.mfcc(center=False)`` (top_db 80)."""
    import scipy.fft

    mel = mel_power(y, sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, center=False)
    log_mel = 10.0 * np.log10(np.maximum(1e-10, mel))  # power_to_db(ref=1.0, amin=1e-10, top_db=80)
    log_mel = np.maximum(log_mel, log_mel.max() - 80.0)
    return scipy.fft.dct(log_mel, axis=-2, type=2, norm="ortho")[..., :n_mfcc, :]


def lpc(y: np.ndarray, *, order: int) -> np.ndarray:
    """LPC polynomials by Burg's method along the last axis of `y`, shape (..., order + 1), as ``librosa.lpc``."""
    y = np.swapaxes(y, -1, 0)
    ar = np.zeros((order + 1, *y.shape[1:]), dtype=y.dtype)
    ar[0] = 1
    ar_prev = ar.copy()
    epsilon = np.finfo(y.dtype).tiny
    fwd, bwd = y[1:], y[:-1]
    den = np.sum(fwd**2 + bwd**2, axis=0)
    for i in range(order):
        reflect = -2 * np.sum(bwd * fwd, axis=0) / (den + epsilon)
        ar_prev, ar = ar, ar_prev
        ar[1 : i + 2] = ar_prev[1 : i + 2] + reflect * ar_prev[i::-1]
        fwd, bwd = fwd + reflect * bwd, bwd + reflect * fwd
        den = (1.0 - reflect**2) * den - bwd[-1] ** 2 - fwd[0] ** 2
        fwd, bwd = fwd[1:], bwd[:-1]
    return np.swapaxes(ar, 0, -1)


def delta(data: np.ndarray, *, width: int) -> np.ndarray:
    """Least-squares slope ``sum_k k * x[t + k] / sum_k k**2`` of `data` over `width` frames along axis 0, edges
    repeated, as ``librosa.feature.delta(mode="nearest")``."""
    half = width // 2
    padded = np.pad(np.asarray(data, dtype=np.float64), [(half, half)] + [(0, 0)] * (data.ndim - 1), mode="edge")
    n = len(data)
    steps = (k * (padded[half + k : half + k + n] - padded[half - k : half - k + n]) for k in range(1, half + 1))
    out = sum(steps, np.zeros(data.shape))
    return (out / (2 * sum(k * k for k in range(1, half + 1)))).astype(data.dtype)
