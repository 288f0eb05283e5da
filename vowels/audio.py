"""Reading recordings: decode, mix down to mono, resample, trim silence; any problem a file can have raises
`vowels.errors.AudioError` with a one-line message that starts with its path."""

from __future__ import annotations

import os
import re
import stat
import warnings
from collections.abc import Callable
from functools import cache, partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

from .errors import AudioError, unreadable
from .names import DSP_CHOICES
from .validation import check_choice, check_int, check_number, check_seconds

__all__ = [
    "MAX_CHANNELS",
    "MAX_RATE",
    "MAX_SAMPLE",
    "MAX_SECONDS",
    "SILENCE_PEAK_DBFS",
    "read_audio",
    "readable_extensions",
    "sample_rate_of",
]

SILENCE_PEAK_DBFS = -60.0
"""A recording whose loudest sample is below this level (dB re full scale) is silence."""
MAX_SECONDS = 1200.0
"""Longest recording `read_audio` accepts by default, in s (20 minutes), checked from the header before decoding."""
MAX_SAMPLE = 2.0**31
"""Largest sample magnitude `read_audio` accepts: even 32-bit integer scaling stays below; beyond is damage."""
MAX_CHANNELS = 16
"""Most channels `read_audio` accepts, checked from the header before decoding (a voice needs one or two)."""
MAX_RATE = 192_000
"""Highest sample rate `read_audio` accepts, in Hz, checked from the header before decoding."""
_BLOCK_FRAMES = 65_536  # frames decoded, checked and mixed down at a time
_TRIM_FRAME_S, _TRIM_HOP_S = 0.025, 0.010  # frame and hop (s) of the silence detector
_STREAMING_SIZES = (0, 0xFFFFFFFF, 0x7FFFFFFF)  # data sizes written by streaming WAV writers


@cache
def readable_extensions() -> tuple[str, ...]:
    """File extensions (lower case, with the dot) that the installed libsndfile decodes (asked once: it is asked
    for every file of a folder)."""
    import soundfile as sf

    extensions = {f".{name.lower()}" for name in sf.available_formats()}
    extensions |= {".aif", ".aiff", ".oga", ".opus"} if ".ogg" in extensions else {".aif", ".aiff"}
    extensions -= {".raw", ".wavex"}  # RAW has no header; WAVEX files are named .wav
    return tuple(sorted(extensions))


def sample_rate_of(path: str | os.PathLike[str]) -> int | None:
    """The rate a file was recorded at, in Hz, from its header; None when libsndfile cannot tell."""
    import soundfile as sf

    try:
        return int(sf.info(str(path)).samplerate)
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError):
        return None


def _too_long(path: Path, seconds: float, max_seconds: float, *, at_least: bool = False) -> AudioError:
    """The error for a recording of `seconds` (at least, if not decoded whole) beyond `max_seconds`."""
    shown = f"at least {seconds:.1f}" if at_least else f"{seconds:.1f}"
    return AudioError(
        f"{path}: {shown} s long, longer than the {max_seconds:g} s allowed; cut it into shorter "
        "recordings (or raise max_seconds)."
    )


def _check_shape(path: Path, channels: int, rate: float) -> None:
    """Refuse a header whose channels or rate (Hz) would make decoding take far more memory than a voice needs."""
    if channels > MAX_CHANNELS:
        raise AudioError(
            f"{path}: {channels} channels, more than the {MAX_CHANNELS} allowed; mix it down to mono or stereo first."
        )
    if rate > MAX_RATE:
        raise AudioError(
            f"{path}: {rate:g} Hz sample rate, above the {MAX_RATE} Hz allowed; resample it to 16 or 48 kHz first."
        )


def _decode(path: Path, max_seconds: float, to_mono: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, int]:
    """Mono float32 samples (mixed by `to_mono`) and rate (Hz), decoded a block at a time after the header's checks."""
    import soundfile as sf

    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError) as exc:
        return _decode_fallback(path, str(exc), max_seconds, to_mono)
    _check_shape(path, info.channels, info.samplerate)
    max_frames = int(max_seconds * info.samplerate) if np.isfinite(max_seconds) and info.samplerate > 0 else -2
    if max_frames >= 0 and info.frames > max_frames:
        raise _too_long(path, info.frames / info.samplerate, max_seconds)
    blocks: list[np.ndarray] = []
    n_frames, bad, loudest = 0, 0, 0.0
    try:
        with sf.SoundFile(str(path)) as audio:
            while max_frames < 0 or n_frames <= max_frames:
                block = audio.read(_BLOCK_FRAMES, dtype="float32", always_2d=True)
                if len(block) == 0:
                    break
                n_frames += len(block)
                block_bad, block_loudest = _damage(block)
                bad, loudest = bad + block_bad, max(loudest, block_loudest)
                if not bad and loudest <= MAX_SAMPLE:  # else refused below: mixing could overflow
                    blocks.append(to_mono(block.T) if block.shape[1] > 1 else block[:, 0].copy())
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"{path}: damaged or truncated {info.format} file ({_libsndfile_reason(exc)}).") from None
    rate = int(info.samplerate)
    # A WAV/AIFF data chunk whose header overstates it, from libsndfile's log.
    match = re.search(r"^(?:data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", info.extra_info, re.MULTILINE)
    declared, actual = (int(match.group(1)), int(match.group(2))) if match else (0, 0)
    if declared not in _STREAMING_SIZES and declared > actual:
        raise AudioError(
            f"{path}: truncated {info.format} file (header declares {declared} bytes of audio, "
            f"the file holds {actual}); re-export or re-copy it."
        )
    if max_frames >= 0 and n_frames > max_frames:
        raise _too_long(path, n_frames / rate, max_seconds, at_least=True)
    if 0 < n_frames < info.frames and info.format not in ("WAV", "AIFF"):
        raise AudioError(
            f"{path}: truncated {info.format} file (header declares {info.frames} samples, "
            f"{n_frames} could be decoded); re-export or re-copy it."
        )
    _check_samples(path, bad, n_frames * info.channels, loudest)
    y = np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)
    return y.astype(np.float32, copy=False), rate


def _damage(samples: np.ndarray) -> tuple[int, float]:
    """How many samples are NaN or infinite, and the largest magnitude of the others."""
    finite = np.isfinite(samples)
    loudest = float(np.max(np.abs(np.where(finite, samples, 0)))) if samples.size else 0.0
    return int(samples.size - np.count_nonzero(finite)), loudest


def _check_samples(path: Path, bad: int, size: int, loudest: float) -> None:
    """Refuse `bad` NaN or infinite samples of `size`, or a `loudest` magnitude beyond `MAX_SAMPLE`."""
    if size == 0:
        raise AudioError(f"{path}: holds no samples (the header is there, the audio is not).")
    if bad:
        raise AudioError(f"{path}: holds NaN or infinite samples ({bad} of {size}).")
    if loudest > MAX_SAMPLE:
        raise AudioError(
            f"{path}: holds samples of magnitude up to {loudest:.3g}, beyond any audio scale (at most 2**31); "
            "the file is damaged or its samples are not audio."
        )


def _libsndfile_reason(exc: Exception) -> str:
    """libsndfile's reason in an error, without its prefix."""
    text = str(exc)
    return text.split("Error : ", 1)[-1].split(": ", 1)[-1].strip().rstrip(".") or type(exc).__name__


def _decode_fallback(
    path: Path, soundfile_error: str, max_seconds: float, to_mono: Callable[[np.ndarray], np.ndarray]
) -> tuple[np.ndarray, int]:
    """Decode what libsndfile cannot, through librosa's audioread fallback (ffmpeg if installed)."""
    suffix = path.suffix.lower()
    reason = _libsndfile_reason(RuntimeError(soundfile_error))
    if suffix in readable_extensions() or not suffix:
        if "malformed" in soundfile_error or "decoder" in soundfile_error:
            raise AudioError(f"{path}: damaged or truncated audio file ({reason}).")
        if "does not exist" in reason:  # libsndfile's words for a header it gave up on
            reason = "no readable audio header"
        raise AudioError(f"{path}: not an audio file (libsndfile: {reason}).")
    import audioread
    import librosa

    try:
        with audioread.audio_open(str(path)) as header:
            _check_shape(path, header.channels, header.samplerate)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # librosa's deprecation notice for audioread
            duration = max_seconds + 1 if np.isfinite(max_seconds) else None
            y, rate = librosa.load(path, sr=None, mono=False, dtype=np.float32, duration=duration)
    except (audioread.exceptions.DecodeError, EOFError, OSError, RuntimeError, ValueError):
        known = " ".join(readable_extensions())
        raise AudioError(
            f"{path}: unsupported format {suffix!r}; this installation reads {known} "
            "(install ffmpeg for others, or convert the file to .wav or .flac)."
        ) from None
    if y.shape[-1] > max_seconds * rate:
        raise _too_long(path, y.shape[-1] / rate, max_seconds, at_least=True)
    bad, loudest = _damage(y)
    _check_samples(path, bad, int(y.size), loudest)
    return (to_mono(y) if y.ndim > 1 else y).astype(np.float32), int(rate)


def read_audio(
    path: str | os.PathLike[str],
    *,
    sr: int,
    trim_db: float | None = 30.0,
    min_samples: int = 1,
    dsp: str = "librosa",
    max_seconds: float = MAX_SECONDS,
    silence_ok: bool = False,
) -> np.ndarray:
    """Read a recording as mono float32 samples at `sr`, with leading and trailing silence trimmed.

    Parameters
    ----------
    path : path-like
        Any format libsndfile reads (WAV, FLAC, OGG, MP3, AIFF, ...); others through ffmpeg if installed.
    sr : int > 0
        Sample rate of the result, in Hz; the file is resampled (soxr) if it differs.
    trim_db : float > 0 or None, default=30.0
        Trim leading and trailing frames this many dB below the loudest (25 ms frames, 10 ms hop); None keeps all.
    min_samples : int >= 1, default=1
        Fewest samples (at `sr`) the trimmed recording may have, e.g. one analysis window.
    dsp : {"librosa", "numpy"}, default="librosa"
        "numpy" mixes down, resamples and trims with `vowels.dsp`: the same samples without importing librosa.
    max_seconds : float > 0, default=`MAX_SECONDS` (1200.0)
        Longest recording accepted, in s, checked before decoding; ``math.inf`` accepts any length.
    silence_ok : bool, default=False
        Give a recording of silence only (peak below `SILENCE_PEAK_DBFS`) as zero samples instead of refusing it.

    Returns
    -------
    y : np.ndarray of shape (n_samples,), float32

    Raises
    ------
    AudioError
        The file is missing, unreadable, not audio, damaged, silence only, too long or too short; naming it.
    """
    check_int(sr, "sr", unit="Hz")
    check_number(trim_db, "trim_db", low=0, low_open=True, unit="dB", none_ok=True)
    check_int(min_samples, "min_samples")
    check_choice(dsp, "dsp", DSP_CHOICES)
    check_seconds(max_seconds, "max_seconds", hint="math.inf for no limit")
    path = Path(path)
    try:
        status = path.stat()
        if stat.S_ISDIR(status.st_mode):
            raise AudioError(f"{path}: is a folder, not an audio file.")
        if status.st_size == 0:
            raise AudioError(f"{path}: empty file (0 bytes).")
        with open(path, "rb"):  # libsndfile reports a file it may not open as a "System error"
            pass
    except FileNotFoundError:
        raise AudioError(f"{path}: file not found.") from None
    except OSError as exc:
        raise unreadable(path, exc, AudioError) from None
    if dsp == "numpy":
        from . import dsp as numpy_dsp

        signal: Any = numpy_dsp
    else:  # librosa's calls, with the signatures of their `vowels.dsp` twins
        import librosa

        signal = SimpleNamespace(
            to_mono=librosa.to_mono,
            resample=partial(librosa.resample, res_type="soxr_hq"),
            trim=lambda y, **options: librosa.effects.trim(y, **options)[0],
        )
    y, rate = _decode(path, float(max_seconds), signal.to_mono)
    peak = float(np.max(np.abs(y)))
    level = 20 * np.log10(peak) if peak > 0 else -np.inf
    if level < SILENCE_PEAK_DBFS:
        if silence_ok:
            return np.zeros(0, dtype=np.float32)
        shown = "digital silence" if peak == 0 else f"peak {level:.0f} dBFS"
        raise AudioError(f"{path}: silence only ({shown}, below {SILENCE_PEAK_DBFS:.0f} dBFS).")
    if rate != sr:
        y = signal.resample(y, orig_sr=rate, target_sr=sr)
    if trim_db is not None:
        frame = max(1, round(_TRIM_FRAME_S * sr))
        y = signal.trim(y, top_db=trim_db, frame_length=frame, hop_length=max(1, round(_TRIM_HOP_S * sr)))
    if len(y) < min_samples:
        raise AudioError(
            f"{path}: {1000 * len(y) / sr:.1f} ms of sound after trimming silence, shorter than one "
            f"{1000 * min_samples / sr:.1f} ms analysis window."
        )
    return np.ascontiguousarray(y, dtype=np.float32)
