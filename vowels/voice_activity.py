"""Is there speech in a recording at all? Noise, tones and hums are answered ``unknown``, not named.

Speech rises and falls by syllable and its pitch moves; steady noise, tones and hums do neither
(`has_speech`). docs/speech.md says what it was measured on.
"""

from __future__ import annotations

import numpy as np

__all__ = ["drop_long_pauses", "has_speech"]

FRAME_SECONDS = 0.03
SOUNDING_DB = 40.0  # frames within this of the loudest are the sounding part
MIN_LEVEL_SPREAD_DB = 3.0
MIN_VOICED = 0.5
MIN_VOICED_LEVEL_SPREAD_DB = 1.0
MIN_PITCH_SPREAD = 0.1
PITCH_RANGE_HZ = (50.0, 400.0)
PAUSE_SMOOTHING = 8
PAUSE_MAX_WINDOWS = 6
PAUSE_BELOW_PEAK_DB = 40.0  # a 30 ms window this far below the loudest is a pause (Resemblyzer asks webrtcvad)


def _frames(samples: np.ndarray, sr: int) -> np.ndarray:
    """`samples` as rows of whole 30 ms frames (the incomplete last one dropped)."""
    length = max(1, round(FRAME_SECONDS * sr))
    n = len(samples) // length
    return np.asarray(samples[: n * length]).reshape(n, length)


def has_speech(samples: np.ndarray, sr: int) -> bool:
    """Whether `samples` (mono, at `sr` Hz) sound like speech.

    Over the sounding 30 ms frames, the level spreads by `MIN_LEVEL_SPREAD_DB`, or `MIN_VOICED` of them are
    voiced (their unbiased autocorrelation peaks above 0.5 at a pitch in `PITCH_RANGE_HZ`) and the level
    spreads by `MIN_VOICED_LEVEL_SPREAD_DB` or the pitch by `MIN_PITCH_SPREAD` octaves.
    """
    frames = _frames(samples, sr).astype(np.float64)
    n, length = frames.shape
    if n < 3:
        return False
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    sounding = level > level.max() - SOUNDING_DB
    frames = frames[sounding] - frames[sounding].mean(axis=1, keepdims=True)
    power = np.abs(np.fft.rfft(frames, 2 * length)) ** 2
    autocorrelation = np.fft.irfft(power)[:, :length]
    autocorrelation /= np.maximum(autocorrelation[:, :1], 1e-20)
    autocorrelation *= length / (length - np.arange(length))  # unbiased: a long lag overlaps less of the frame
    low, high = int(sr / PITCH_RANGE_HZ[1]), min(length - 2, int(sr / PITCH_RANGE_HZ[0]))
    inside = autocorrelation[:, low - 1 : high + 2]
    middle = inside[:, 1:-1]
    peaks = np.where((middle > inside[:, :-2]) & (middle >= inside[:, 2:]), middle, -np.inf)  # local maxima only
    best = peaks.max(axis=1)
    voiced = best > 0.5
    first = np.argmax(peaks >= 0.9 * best[:, np.newaxis], axis=1)  # the shortest period, not a multiple of it
    pitch = sr / (first[voiced] + low)
    pitch_spread = float(np.std(np.log2(pitch))) if voiced.sum() > 2 else 0.0
    level_spread = float(np.std(level[sounding]))
    moving = level_spread >= MIN_VOICED_LEVEL_SPREAD_DB or pitch_spread >= MIN_PITCH_SPREAD
    return level_spread >= MIN_LEVEL_SPREAD_DB or (float(voiced.mean()) >= MIN_VOICED and moving)


def drop_long_pauses(wav: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """`wav` (at `sr` Hz) without pauses longer than about 0.4 s, and the index of every 30 ms window kept.

    A window is speech when its RMS is within `PAUSE_BELOW_PEAK_DB` of the loudest window's; the
    flags are smoothed (moving average of 8) and dilated by 7 windows, as Resemblyzer's
    ``trim_long_silences`` does with webrtcvad's.
    """
    windows = _frames(wav, sr)
    n_windows, length = windows.shape
    if n_windows == 0:
        return wav, np.zeros(0, dtype=np.int64)
    level = 10 * np.log10(np.maximum(np.einsum("ij,ij->i", windows, windows) / length, 1e-20))
    flags = (level > level.max() - PAUSE_BELOW_PEAK_DB).astype(float)
    width = PAUSE_SMOOTHING
    padded = np.concatenate((np.zeros((width - 1) // 2), flags, np.zeros(width // 2)))
    smoothed = np.round(np.convolve(padded, np.ones(width) / width, mode="valid")).astype(bool)
    dilated = np.convolve(smoothed, np.ones(PAUSE_MAX_WINDOWS + 1), mode="same") > 0
    kept = np.flatnonzero(dilated[:n_windows])
    if kept.size == 0:
        return wav, np.arange(n_windows)
    return windows[kept].ravel(), kept
