"""vowels.audio: real files written to disk and read back; every bad input names the file."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import soundfile as sf

from vowels.audio import MAX_CHANNELS, MAX_RATE, MAX_SAMPLE, read_audio, readable_extensions
from vowels.errors import AudioError, DataError

SR = 16000


def tone(seconds: float, *, sr: int = SR, freq: float = 220.0, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(round(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_reads_mono_float32_at_the_file_rate(tmp_path):
    path = tmp_path / "a.wav"
    sf.write(path, tone(0.5), SR, subtype="PCM_16")
    y = read_audio(path, sr=SR, trim_db=None)
    assert y.dtype == np.float32 and y.ndim == 1 and len(y) == SR // 2
    np.testing.assert_allclose(y, tone(0.5), atol=1e-4)  # 16-bit quantisation


def test_stereo_is_mixed_down_to_the_mean_of_the_channels(tmp_path):
    path = tmp_path / "stereo.wav"
    left = tone(0.3)
    sf.write(path, np.stack([left, np.zeros_like(left)], axis=1), SR, subtype="FLOAT")
    np.testing.assert_allclose(read_audio(path, sr=SR, trim_db=None), left / 2, atol=1e-6)


def test_resampling_keeps_duration_and_pitch(tmp_path):
    path = tmp_path / "cd.wav"
    sf.write(path, tone(1.0, sr=44100, freq=440.0), 44100)
    y = read_audio(path, sr=10000, trim_db=None)
    assert abs(len(y) - 10000) <= 1
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    assert abs(np.argmax(spectrum) * 10000 / len(y) - 440.0) < 2.0


def test_leading_and_trailing_silence_is_trimmed(tmp_path):
    path = tmp_path / "padded.wav"
    quiet = np.zeros(SR // 2, dtype=np.float32)
    sf.write(path, np.concatenate([quiet, tone(0.4), quiet]), SR, subtype="FLOAT")
    y = read_audio(path, sr=SR)
    assert abs(len(y) / SR - 0.4) < 0.05  # trimmed to the tone, within a few 10 ms hops
    assert len(read_audio(path, sr=SR, trim_db=None)) == int(1.4 * SR)


@pytest.mark.parametrize("ext", [".flac", ".ogg", ".mp3"])
def test_compressed_formats_read_back(tmp_path, ext):
    if ext.lstrip(".").upper() not in sf.available_formats():
        pytest.skip(f"this libsndfile does not write {ext}")
    path = tmp_path / f"a{ext}"
    sf.write(path, tone(0.5), SR)
    y = read_audio(path, sr=SR, trim_db=None)
    assert abs(len(y) - SR // 2) < 0.05 * SR  # mp3 adds encoder padding
    assert 0.3 < np.max(np.abs(y)) < 0.7


def _truncated_wav(path):
    sf.write(path, tone(0.5), SR, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _truncated_flac(path):
    sf.write(path, tone(1.0) + 0.01 * np.random.default_rng(0).standard_normal(SR).astype(np.float32), SR)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _float_wav(values):
    def write(path):
        sf.write(path, values, SR, subtype="FLOAT")

    return write


def _with_nan():
    y = tone(0.5)
    y[100] = np.nan
    y[200] = np.inf
    return y


BAD = {
    "empty": ("empty.wav", lambda p: p.write_bytes(b""), "empty file (0 bytes)"),
    "not audio": ("notes.wav", lambda p: p.write_text("these are my notes\n" * 20), "not an audio file"),
    "truncated wav": ("cut.wav", _truncated_wav, "truncated WAV file (header declares 16000 bytes"),
    "truncated flac": ("cut.flac", _truncated_flac, "damaged or truncated FLAC file"),
    "header only": ("header.wav", _float_wav(np.zeros(0, np.float32)), "holds no samples"),
    "silence": ("silence.wav", _float_wav(np.zeros(SR, np.float32)), "silence only (digital silence"),
    "near silence": ("hiss.wav", _float_wav(tone(1.0, amplitude=1e-4)), "silence only (peak -80 dBFS"),
    "too short": (
        "click.wav",
        _float_wav(tone(0.01)),
        "10.0 ms of sound after trimming silence, shorter than one 25.6 ms",
    ),
    "nan": ("nan.wav", _float_wav(_with_nan()), "holds NaN or infinite samples (2 of 8000)"),
    "huge samples": (
        "huge.wav",
        _float_wav(tone(0.5) * 1e30),
        "holds samples of magnitude up to 5e+29, beyond any audio scale (at most 2**31); the file is damaged",
    ),
    "unsupported": (
        "voice.m4a",
        lambda p: p.write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(200)),
        "unsupported format '.m4a'",
    ),
    "missing": ("missing.wav", lambda p: None, "file not found"),
    "folder": ("folder.wav", lambda p: p.mkdir(), "is a folder, not an audio file"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_input_gives_one_line_naming_the_file(tmp_path, case):
    name, make, expected = BAD[case]
    path = tmp_path / name
    make(path)
    with pytest.raises(AudioError) as info:
        read_audio(path, sr=10000, min_samples=256)  # one 25.6 ms window at 10 kHz
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert "\n" not in message
    assert expected in message
    assert isinstance(info.value, DataError) and isinstance(info.value, ValueError)


def test_unsupported_message_lists_what_is_readable(tmp_path):
    path = tmp_path / "voice.m4a"
    path.write_bytes(bytes(100))
    with pytest.raises(AudioError, match=re.escape(".flac")):
        read_audio(path, sr=SR)
    assert ".wav" in readable_extensions() and ".m4a" not in readable_extensions()


@pytest.mark.parametrize(
    "name, channels, rate, expected",
    [
        ("wide.ogg", 255, 48000, f"255 channels, more than the {MAX_CHANNELS} allowed; mix it down"),
        ("fast.flac", 8, 655350, f"655350 Hz sample rate, above the {MAX_RATE} Hz allowed; resample it"),
    ],
)
def test_channels_and_rate_beyond_the_limits_are_refused_before_decoding(tmp_path, name, channels, rate, expected):
    """Issue 25: a 2.4 MB Ogg of 255 channels at 192 kHz took 11 GB to decode; the header says so first."""
    path = tmp_path / name
    sf.write(path, np.tile(tone(0.2, sr=rate)[:, None], (1, channels)), rate)
    with pytest.raises(AudioError) as info:
        read_audio(path, sr=SR)
    assert str(info.value).startswith(f"{path}: ") and expected in str(info.value)


def test_a_wide_recording_is_decoded_a_block_at_a_time(tmp_path):
    """16 channels at 192 kHz for 5 s are 61 MB as float32: mixing each block down as it is read
    keeps at most the mono signal (4 MB) and one block (4 MB) in memory."""
    import tracemalloc

    path = tmp_path / "wide.wav"
    with sf.SoundFile(path, "w", MAX_RATE, MAX_CHANNELS, subtype="PCM_16") as out:
        for _ in range(5):
            out.write(np.tile(tone(1.0, sr=MAX_RATE)[:, None], (1, MAX_CHANNELS)))
    tracemalloc.start()
    try:
        y = read_audio(path, sr=SR, trim_db=None, dsp="numpy")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(y) == 5 * SR
    assert peak < 25e6, f"{peak / 1e6:.0f} MB held while reading"


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"sr": 0}, "sr must be a whole number of Hz >= 1; got 0"),
        ({"sr": 16000, "trim_db": -3}, "trim_db must be a number of dB > 0 or None; got -3"),
        ({"sr": 16000, "min_samples": 0}, "min_samples must be a whole number >= 1; got 0"),
    ],
)
def test_bad_arguments_are_rejected_before_reading(tmp_path, kwargs, expected):
    with pytest.raises(ValueError, match=re.escape(expected)):
        read_audio(tmp_path / "never-read.wav", **kwargs)


def test_float_samples_scaled_like_integers_are_still_read(tmp_path):
    path = tmp_path / "int_scaled.wav"
    sf.write(path, np.stack([tone(0.5), tone(0.5)], axis=1) * (MAX_SAMPLE / 2), SR, subtype="FLOAT")
    y = read_audio(path, sr=SR, trim_db=None, dsp="numpy")
    assert np.isfinite(y).all() and 0.2 * MAX_SAMPLE < np.max(np.abs(y)) <= 0.25 * MAX_SAMPLE


_READ_AS_NOBODY = """
import os, sys
from vowels.audio import read_audio
from vowels.errors import AudioError
try:
    read_audio(sys.argv[1], sr=16000, dsp="numpy")
except AudioError as exc:
    print(str(exc))
"""


@pytest.mark.parametrize("closed", ["file", "folder"])
def test_unreadable_file_says_permission_denied(closed, as_unprivileged):
    """Root reads a mode-000 file, so the reading runs as uid 65534 (setpriv) when the tests run as root."""
    command = as_unprivileged([sys.executable, "-c", _READ_AS_NOBODY])
    top = tempfile.mkdtemp(prefix="vowels-permissions-")  # pytest's tmp_path is closed to other users
    try:
        os.chmod(top, 0o755)
        os.mkdir(os.path.join(top, "voices"), 0o755)
        path = os.path.join(top, "voices", "a.wav")
        sf.write(path, tone(0.5), SR)
        reachable = subprocess.run([*command[:-2], "-c", "import sys, vowels.audio; open(sys.argv[1], 'rb')", path])
        os.chmod(*((path, 0o000) if closed == "file" else (os.path.dirname(path), 0o700)))
        result = subprocess.run([*command, path], capture_output=True, text=True, timeout=120)
    finally:
        os.chmod(os.path.join(top, "voices"), 0o755)
        shutil.rmtree(top)
    if reachable.returncode != 0:
        pytest.skip(f"cannot run the package as an unprivileged user on a readable file here (uid {os.geteuid()})")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{path}: cannot be read: permission denied; give your user read access to it.\n"
