"""Figures of one recording: its waveform, spectrogram and features (computed with the `FeatureConfig` a model
uses) on one time axis, and a forward-only LSTM's answers as its frames arrive (`stream_proba`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ParameterError
from ..features import FeatureConfig
from ..preprocessing import Preprocessing
from ..validation import check_number
from ._style import LINE_COLOURS, MATRIX_CMAP, OKABE_ITO, new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["RecordingData", "StreamData", "plot_recording", "plot_stream", "recording_data", "stream_data"]

_SCALING = {  # scaling -> (title of the features panel, label of its colour bar)
    "model": ("Features as the model sees them", "standardised\n(model's training statistics)"),
    "recording": ("Features, standardised over this recording (no model)", "standardised"),
    "none": ("Features as the model sees them", "coefficient value"),
}


@dataclass(frozen=True)
class RecordingData:
    """One recording as read, its spectrogram and its features, with their time axes.

    Attributes
    ----------
    path : Path
    config : FeatureConfig
        How the features were computed.
    y : np.ndarray of shape (n_samples,), float32
        Mono samples at ``config.sample_rate`` Hz, silence trimmed as ``config.trim_db`` says.
    spectrogram_db : np.ndarray of shape (n_frequencies, n_frames)
        Power of each frequency bin (centred at `frequencies`, Hz) and frame, in dB below the loudest bin.
    frequencies, frame_times : np.ndarray of shape (n_frequencies,) and (n_frames,)
        Centre of each bin (Hz) and of each analysis window (s from the first sample of `y`).
    features : np.ndarray of shape (n_frames, n_features), float32
        `compute_features` of `y`, before deltas and standardisation.
    shown : np.ndarray of shape (n_frames, n_shown)
        The features as drawn, with the config's deltas, standardised by the model's preprocessing
        (``scaling="model"``), over this recording's frames (``"recording"``), or not at all (``"none"``).
    scaling : {"model", "recording", "none"}
    """

    path: Path
    config: FeatureConfig
    y: np.ndarray
    spectrogram_db: np.ndarray
    frequencies: np.ndarray
    frame_times: np.ndarray
    features: np.ndarray
    shown: np.ndarray
    scaling: str

    @property
    def times(self) -> np.ndarray:
        """Time of each sample of `y`, in s."""
        return np.arange(len(self.y)) / self.config.sample_rate


def recording_data(
    path: str | os.PathLike[str],
    feature_config: FeatureConfig | None = None,
    *,
    preprocessing: Preprocessing | None = None,
    top_db: float = 80.0,
) -> RecordingData:
    """Read one recording and compute what `plot_recording` draws.

    Parameters
    ----------
    path : path-like
        An audio file `vowels.audio.read_audio` reads.
    feature_config : FeatureConfig, default=None
        None is ``FeatureConfig()`` (13 MFCCs at 16 kHz, 25 ms window, 10 ms hop).
    preprocessing : Preprocessing, default=None
        A model's deltas and standardisation (its bundle's `Preprocessing`); None applies the config's
        deltas and, when ``feature_config.standardize``, standardises over this recording's frames.
    top_db : float > 0, default=80.0
        Dynamic range of the spectrogram, in dB below its loudest bin.

    Raises
    ------
    AudioError
        The file cannot be used; the one-line message starts with its path.
    """
    from ..features import compute_features, samples_of_file

    config = FeatureConfig() if feature_config is None else feature_config
    if not isinstance(config, FeatureConfig):
        raise ParameterError(f"feature_config must be a FeatureConfig or None; got {type(config).__name__}.")
    if preprocessing is not None and preprocessing.standardization is not None:
        n_expected = preprocessing.n_outputs(config.n_features)
        if len(preprocessing.standardization.mean) != n_expected:
            raise ParameterError(
                f"preprocessing standardises {len(preprocessing.standardization.mean)} features per frame; the "
                f"config gives {n_expected}."
            )
    check_number(top_db, "top_db", low=0, low_open=True, unit="dB")
    import librosa

    y = samples_of_file(path, config)
    values = compute_features(y, config)
    # The spectrogram frames are the feature frames: same window length, hop and no centring.
    spectrum = librosa.stft(y, n_fft=config.window_length, hop_length=config.hop_length, window="hann", center=False)
    frame_times = (np.arange(spectrum.shape[1]) * config.hop_length + config.window_length / 2) / config.sample_rate
    if preprocessing is not None:
        scaling = "model" if preprocessing.standardization is not None else "none"
    else:
        scaling = "recording" if config.standardize else "none"
        preprocessing = Preprocessing.fit([values], delta_width=config.delta_width, standardize=config.standardize)
    return RecordingData(
        Path(path),
        config,
        y,
        librosa.power_to_db(np.abs(spectrum) ** 2, ref=np.max, top_db=top_db),
        librosa.fft_frequencies(sr=config.sample_rate, n_fft=config.window_length),
        frame_times,
        values,
        preprocessing.apply([values])[0],
        scaling,
    )


def plot_recording(data: RecordingData) -> Figure:
    """Waveform, spectrogram and features of one recording (`recording_data`), stacked on a shared time axis (s).

    Returns
    -------
    matplotlib.figure.Figure
        Axes 0 the waveform (`RecordingData.times`, `RecordingData.y`), 1 the spectrogram (``spectrogram_db``, kHz),
        2 the features (``shown.T``, feature 1 at the bottom), 3 and 4 their colour bars.
    """
    config = data.config
    sr, hop = config.sample_rate, config.hop_length
    n_frames, n_features = data.shown.shape
    left = data.frame_times[0] - hop / 2 / sr  # each frame drawn one hop wide around its centre
    right = left + n_frames * hop / sr
    fig = new_figure(9, 7.8)
    grid = fig.add_gridspec(3, 2, width_ratios=[1, 0.025], height_ratios=[1, 1.25, 1.25])
    ax_wave = fig.add_subplot(grid[0, 0])
    ax_spec = fig.add_subplot(grid[1, 0], sharex=ax_wave)
    ax_feat = fig.add_subplot(grid[2, 0], sharex=ax_wave)

    ax_wave.plot(data.times, data.y, color=OKABE_ITO["blue"], linewidth=0.6)
    peak = float(np.max(np.abs(data.y))) or 1.0
    ax_wave.set(ylim=(-1.1 * peak, 1.1 * peak), xlim=(0, len(data.y) / sr), ylabel="Amplitude\n(full scale = 1)")
    ax_wave.set_title("Waveform", loc="left", fontsize="medium")
    ax_wave.grid(True, color="0.9")

    bin_khz = (data.frequencies[1] - data.frequencies[0]) / 1000 if len(data.frequencies) > 1 else 0.0
    pixels: dict[str, Any] = {"origin": "lower", "aspect": "auto", "cmap": MATRIX_CMAP, "interpolation": "nearest"}
    top_khz = data.frequencies[-1] / 1000 + bin_khz / 2
    image = ax_spec.imshow(data.spectrogram_db, **pixels, extent=(left, right, -bin_khz / 2, top_khz))
    fig.colorbar(image, cax=fig.add_subplot(grid[1, 1]), label="dB below the loudest bin")
    ax_spec.set_ylabel("Frequency (kHz)")
    spectrogram = f"Spectrogram (Hann window {config.window_ms:g} ms, hop {config.hop_ms:g} ms, before pre-emphasis)"
    ax_spec.set_title(spectrogram, loc="left", fontsize="medium")

    image = ax_feat.imshow(data.shown.T, **pixels, extent=(left, right, 0.5, n_features + 0.5))
    if data.scaling != "none":  # standardised: 0 (the mean) in the middle of the colour map
        limit = float(np.max(np.abs(data.shown))) or 1.0
        image.set_clim(-limit, limit)
    title, label = _SCALING[data.scaling]
    fig.colorbar(image, cax=fig.add_subplot(grid[2, 1]), label=label)
    if config.deltas:
        ax_feat.axhline(config.n_coefficients + 0.5, color="white", linewidth=1, linestyle="--")
    first = "c0, log energy" if config.kind == "mfcc" else "c1"
    delta_note = f"; {config.n_coefficients + 1}+: deltas" if config.deltas else ""
    ax_feat.set_ylabel(f"Feature\n(1 = {first}{delta_note})")
    step = max(1, int(np.ceil(n_features / 13)))
    ax_feat.set_yticks(np.arange(1, n_features + 1, step))
    coefficients = f"{config.n_coefficients} {'MFCC' if config.kind == 'mfcc' else 'LPC cepstrum'}"
    frames = f"{' + deltas' if config.deltas else ''}, {config.window_ms:g} ms window, {config.hop_ms:g} ms hop"
    ax_feat.set_title(f"{title}: {coefficients}{frames}", loc="left", fontsize="medium")
    ax_feat.set_xlabel("Time (s; each frame drawn one hop wide around the centre of its window)")
    for ax in (ax_wave, ax_spec):
        ax.tick_params(labelbottom=False)

    trim = "silence kept" if config.trim_db is None else f"silence trimmed at {config.trim_db:g} dB"
    fig.suptitle(f"{data.path.name}: {len(data.y) / sr:.2f} s at {sr / 1000:g} kHz ({trim}), {n_frames} frames")
    return fig


@dataclass(frozen=True)
class StreamData:
    """The numbers behind `plot_stream`.

    Attributes
    ----------
    seconds : np.ndarray of float, shape (n_chunks,)
        Time (s) at the end of each chunk, from the utterance's start.
    probabilities : np.ndarray of float, shape (n_chunks, n_classes)
    classes : tuple of str
    title : str
    """

    seconds: np.ndarray
    probabilities: np.ndarray
    classes: tuple[str, ...]
    title: str

    @property
    def answers(self) -> list[str]:
        """The most probable speaker after each chunk."""
        return [self.classes[i] for i in np.argmax(self.probabilities, axis=1)]

    @property
    def settled_at(self) -> float:
        """The time from which the answer no longer changes (the first chunk's end if it never does)."""
        changes = np.flatnonzero(np.diff(np.argmax(self.probabilities, axis=1)))
        return float(self.seconds[changes[-1] + 1 if len(changes) else 0])


def stream_data(seconds: np.ndarray, probabilities: np.ndarray, classes: Sequence[str], *, title: str) -> StreamData:
    """`StreamData` from the times answers were given and `stream_proba`'s rows, checked to fit together."""
    seconds = np.asarray(seconds, dtype=float)
    probabilities = np.asarray(probabilities, dtype=float)
    if probabilities.ndim != 2 or probabilities.shape[1] != len(classes) or not len(probabilities):
        raise ParameterError(
            f"probabilities must have shape (n_chunks, {len(classes)}) with at least one chunk; "
            f"got {probabilities.shape}."
        )
    if seconds.shape != (len(probabilities),) or np.any(np.diff(seconds) <= 0):
        raise ParameterError(f"seconds must be {len(probabilities)} increasing times, one per answer.")
    return StreamData(seconds, probabilities, tuple(str(c) for c in classes), title)


def plot_stream(data: StreamData) -> Figure:
    """Each speaker's probability against time, the final answer and when it settled marked; the speakers past
    `LINE_COLOURS` in peak probability are grey."""
    fig = new_figure(7.5, 3.8)
    ax = fig.add_subplot()
    peak = data.probabilities.max(axis=0)
    shown = list(np.argsort(-peak, kind="stable")[: len(LINE_COLOURS)])
    for k, name in enumerate(data.classes):
        if k in shown:
            colour = OKABE_ITO[LINE_COLOURS[shown.index(k)]]
            ax.step(data.seconds, data.probabilities[:, k], where="post", color=colour, lw=1.8, label=name)
            ax.plot(data.seconds, data.probabilities[:, k], "o", color=colour, ms=3)
        else:
            ax.step(data.seconds, data.probabilities[:, k], where="post", color="#BBBBBB", lw=0.8)
    ax.axvline(data.settled_at, color=OKABE_ITO["black"], ls=":", lw=1)
    late = data.settled_at > 0.6 * data.seconds[-1]
    box = {"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none", "alpha": 0.8}
    answer, at = f"answer {data.answers[-1]} from {data.settled_at:.2f} s", (data.settled_at, 0.5)
    shift, ha = ((-4, 0), "right") if late else ((4, 0), "left")
    ax.annotate(answer, xy=at, xytext=shift, textcoords="offset points", ha=ha, fontsize=8, bbox=box)
    ax.set(xlim=(0, data.seconds[-1] * 1.02), ylim=(0, 1.05), ylabel="probability")
    ax.set_xlabel("time since the start of the recording (s)")
    hidden = len(data.classes) - len(shown)
    ax.set_title(data.title + (f" ({hidden} more speakers in grey)" if hidden > 0 else ""), fontsize=10)
    ax.legend(title="speaker", fontsize=8, title_fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.grid(alpha=0.3)
    return fig
