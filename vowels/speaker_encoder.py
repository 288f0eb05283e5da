"""Resemblyzer's pretrained GE2E speaker encoder (0.1.4, Apache-2.0) in NumPy, without torch: its mel front end,
1.6 s partial utterances, embeddings. Weights: ``vowels/data/ge2e/ge2e.npz`` (``scripts/convert_ge2e.py``);
long pauses are cut by `drop_long_pauses` from the signal's energy instead of webrtcvad.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .dsp import mel_power
from .errors import BundleError
from .inference import lstm
from .voice_activity import FRAME_SECONDS, drop_long_pauses

__all__ = [
    "SAMPLE_RATE",
    "Embedding",
    "SpeakerEncoder",
    "load_encoder",
    "mel_frames",
    "normalize_volume",
    "partial_starts",
]

SAMPLE_RATE = 16000
"""Hz: the rate the encoder was trained on; recordings are resampled to it."""
N_MELS = 40
WINDOW = 400  # 25 ms
HOP = 160  # 10 ms
PARTIAL_FRAMES = 160  # 1.6 s
PARTIALS_PER_SECOND = 1.3
MIN_COVERAGE = 0.75
TARGET_DBFS = -30.0
PAUSE_WINDOW = round(FRAME_SECONDS * SAMPLE_RATE)  # samples of drop_long_pauses's 30 ms windows
BATCH = 64  # partials through the network at once, bounding memory
MEL_BLOCK = 3000  # frames (30 s) of mel spectrum computed at once
WEIGHTS = Path(__file__).resolve().parent / "data" / "ge2e" / "ge2e.npz"


def normalize_volume(wav: np.ndarray, target_dbfs: float = TARGET_DBFS) -> np.ndarray:
    """`wav` raised (never lowered) to `target_dbfs` RMS, as Resemblyzer's ``normalize_volume(increase_only=True)``."""
    int16_max = 2**15 - 1
    rms = np.sqrt(np.mean((wav * int16_max) ** 2))
    change = target_dbfs - 20 * np.log10(rms / int16_max) if rms > 0 else 0.0
    return wav if change < 0 else wav * (10 ** (change / 20))


def mel_frames(wav: np.ndarray) -> np.ndarray:
    """Mel power spectrogram (n_frames, 40), float32, of 16 kHz `wav`, as Resemblyzer's ``wav_to_mel_spectrogram``."""
    padded = np.pad(np.asarray(wav, dtype=np.float32), (WINDOW // 2, WINDOW // 2))
    n_frames = 1 + (len(padded) - WINDOW) // HOP
    out = np.empty((n_frames, N_MELS), dtype=np.float32)
    for first in range(0, n_frames, MEL_BLOCK):
        last = min(n_frames, first + MEL_BLOCK)
        block = padded[first * HOP : (last - 1) * HOP + WINDOW]
        out[first:last] = mel_power(block, sr=SAMPLE_RATE, n_fft=WINDOW, hop_length=HOP, n_mels=N_MELS, center=False).T
    return out


def partial_starts(n_samples: int) -> np.ndarray:
    """First frame of each 160-frame partial of `n_samples` samples (Resemblyzer's ``compute_partial_slices``):
    every 77 frames, the last kept if 75 % of it is audio, at least one (zero-padded)."""
    n_frames = int(np.ceil((n_samples + 1) / HOP))
    step = round(SAMPLE_RATE / PARTIALS_PER_SECOND / HOP)
    starts = np.arange(0, max(1, n_frames - PARTIAL_FRAMES + step + 1), step)
    coverage = (n_samples - starts[-1] * HOP) / (PARTIAL_FRAMES * HOP)
    if coverage < MIN_COVERAGE and len(starts) > 1:
        starts = starts[:-1]
    return starts


@dataclass(frozen=True)
class Embedding:
    """One recording through the encoder.

    Attributes
    ----------
    vector : np.ndarray of float32, shape (256,)
        The L2-normed mean of the partial embeddings.
    partials : np.ndarray of float32, shape (n_partials, 256)
        Each 1.6 s partial's embedding (each L2-normed, non-negative).
    starts, ends : np.ndarray of float, shape (n_partials,)
        Where each partial lies in the recording as read, in s (dropped pauses counted back in).
    """

    vector: np.ndarray
    partials: np.ndarray
    starts: np.ndarray
    ends: np.ndarray


@dataclass(frozen=True)
class SpeakerEncoder:
    """The GE2E network's weights in Keras' layout: (kernel, recurrent kernel, bias) per LSTM layer, then the
    linear layer's (kernel, bias)."""

    layers: tuple[tuple[np.ndarray, np.ndarray, np.ndarray], ...]
    linear: tuple[np.ndarray, np.ndarray]

    def embed_mels(self, mels: np.ndarray) -> np.ndarray:
        """Embeddings (n, 256) of partials `mels` (n, 160, 40), in batches of `BATCH`."""
        out = np.empty((len(mels), len(self.linear[1])), dtype=np.float32)
        for begin in range(0, len(mels), BATCH):
            x = np.asarray(mels[begin : begin + BATCH], dtype=np.float32)
            for weights in self.layers[:-1]:
                states = np.empty((x.shape[0], x.shape[1], weights[1].shape[0]), dtype=np.float32)
                lstm(x, None, weights, backwards=False, states=states)
                x = states
            h = lstm(x, None, self.layers[-1], backwards=False)
            raw = np.maximum(h @ self.linear[0] + self.linear[1], 0)
            out[begin : begin + BATCH] = raw / np.maximum(np.linalg.norm(raw, axis=1, keepdims=True), 1e-12)
        return out

    def embed_waveform(self, wav: np.ndarray, *, window_starts: np.ndarray | None = None) -> Embedding:
        """The embedding of 16 kHz `wav` as prepared (volume normalised, pauses dropped); `window_starts`
        (from `drop_long_pauses`) maps the partials' times back to the recording, None takes `wav` as it."""
        wav = np.asarray(wav, dtype=np.float32)
        n_samples = len(wav)
        starts = partial_starts(n_samples)
        wav = np.pad(wav, (0, max(0, (int(starts[-1]) + PARTIAL_FRAMES) * HOP - n_samples)))
        windows = np.lib.stride_tricks.sliding_window_view(mel_frames(wav), PARTIAL_FRAMES, axis=0)[starts]
        partials = self.embed_mels(np.swapaxes(windows, 1, 2))
        mean = partials.mean(axis=0)
        vector = (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)
        begin, end = starts * HOP, np.minimum((starts + PARTIAL_FRAMES) * HOP, max(1, n_samples))
        if window_starts is not None and len(window_starts):
            begin, end = (_original_sample(s, window_starts) for s in (begin, end - 1))
            end = end + 1
        return Embedding(vector, partials, begin / SAMPLE_RATE, end / SAMPLE_RATE)

    def embed_samples(self, samples: np.ndarray) -> Embedding:
        """The embedding of a 16 kHz recording as read: volume normalised, long pauses dropped, then embedded."""
        prepared, kept = drop_long_pauses(normalize_volume(np.asarray(samples, dtype=np.float32)), SAMPLE_RATE)
        return self.embed_waveform(prepared, window_starts=kept)


def _original_sample(position: np.ndarray, window_starts: np.ndarray) -> np.ndarray:
    """Sample index in the recording of sample `position` of its pause-free version."""
    window = np.minimum(position // PAUSE_WINDOW, len(window_starts) - 1)
    return window_starts[window] * PAUSE_WINDOW + position - window * PAUSE_WINDOW


@lru_cache(maxsize=2)
def load_encoder(path: str | os.PathLike[str] | None = None) -> SpeakerEncoder:
    """The GE2E encoder from its converted weights (default: the copy shipped with vowels).

    Raises
    ------
    BundleError
        The file is missing or does not hold a 3-layer LSTM and a linear layer.
    """
    where = Path(path) if path is not None else WEIGHTS
    try:
        with np.load(where, allow_pickle=False) as arrays:
            w = {name: np.asarray(arrays[name], dtype=np.float32) for name in arrays.files}
    except FileNotFoundError:
        raise BundleError(f"{where}: speaker encoder weights not found; reinstall vowels.") from None
    except (OSError, ValueError) as exc:
        raise BundleError(f"{where}: not a speaker encoder weights file ({exc}).") from None
    layers = []
    try:
        for i in range(3):
            kernel, recurrent = w[f"lstm.weight_ih_l{i}"].T, w[f"lstm.weight_hh_l{i}"].T
            bias = w[f"lstm.bias_ih_l{i}"] + w[f"lstm.bias_hh_l{i}"]
            layers.append((np.ascontiguousarray(kernel), np.ascontiguousarray(recurrent), bias))
        linear = (np.ascontiguousarray(w["linear.weight"].T), w["linear.bias"])
    except KeyError as exc:
        raise BundleError(f"{where}: not the GE2E encoder's weights ({exc}).") from None
    return SpeakerEncoder(tuple(layers), linear)


def provenance() -> dict:
    """Where the shipped weights come from (``PROVENANCE.json`` beside them)."""
    return json.loads((WEIGHTS.parent / "PROVENANCE.json").read_text())
