"""vowels.dsp against the librosa calls it replaces, on real recordings written to disk.

Recordings: espeak-ng voices (22.05 kHz mono), synthetic vowels, stereo files at 44.1 and
48 kHz, an 8 kHz file and one at the model's own rate (no resampling). Each step of
`vowels.dsp` is held to its librosa counterpart, then whole files through `read_audio` and
`features_of_file` with ``dsp="numpy"`` against ``dsp="librosa"`` (`read_audio`'s ``dsp``).
"""

from __future__ import annotations

import shutil
import subprocess

import librosa
import numpy as np
import pytest
import scipy.signal
import soundfile as sf
from test_recordings import synthetic_vowel

from vowels import dsp
from vowels.audio import read_audio
from vowels.errors import AudioError, ParameterError
from vowels.features import FeatureConfig, compute_features, features_of_file


@pytest.fixture(scope="module")
def recordings(tmp_path_factory):
    """Paths of real files of several rates and channel counts."""
    root = tmp_path_factory.mktemp("dsp")
    paths = []
    if shutil.which("espeak-ng") is not None:
        for voice, word in (("en+m3", "ah"), ("en+f2", "hello"), ("en-us+m1", "seven")):
            path = root / f"{voice}-{word}.wav"
            subprocess.run(["espeak-ng", "-v", voice, "-w", str(path), word], check=True, capture_output=True)
            paths.append(path)
        y, sr = sf.read(paths[1], dtype="float32")
        sf.write(root / "stereo44k.flac", np.stack([y, 0.3 * y[::-1]], axis=1), 44100)
        sf.write(root / "stereo8k.wav", np.stack([y, -0.5 * y], axis=1)[::3], 8000)
        paths += [root / "stereo44k.flac", root / "stereo8k.wav"]
    rng = np.random.default_rng(0)
    vowel = synthetic_vowel(170, np.array([730, 1090, 2440]), rng=rng, sr=48000)
    sf.write(root / "vowel48k.wav", np.stack([vowel, 0.8 * vowel], axis=1), 48000)
    sf.write(root / "vowel16k.wav", synthetic_vowel(105, np.array([300, 870, 2240]), rng=rng), 16000)
    sf.write(root / "vowel10k.ogg", synthetic_vowel(240, np.array([530, 1840, 2480]), rng=rng, sr=10000), 10000)
    return [*paths, root / "vowel48k.wav", root / "vowel16k.wav", root / "vowel10k.ogg"]


def _samples(path, sr=16000):
    y, rate = sf.read(path, dtype="float32", always_2d=True)
    return librosa.resample(librosa.to_mono(y.T), orig_sr=rate, target_sr=sr, res_type="soxr_hq")


# --- each step against librosa -------------------------------------------------------------


@pytest.mark.parametrize("sr", [8000, 10000, 16000, 22050])
def test_resample_equals_librosa_soxr_hq(recordings, sr):
    for path in recordings:
        y, rate = sf.read(path, dtype="float32", always_2d=True)
        mono = y.mean(axis=1)
        expected = librosa.resample(mono, orig_sr=rate, target_sr=sr, res_type="soxr_hq")
        np.testing.assert_array_equal(dsp.resample(mono, orig_sr=rate, target_sr=sr), expected)


def test_to_mono_equals_librosa(recordings):
    for path in recordings:
        y, _ = sf.read(path, dtype="float32", always_2d=True)
        np.testing.assert_array_equal(dsp.to_mono(y.T), librosa.to_mono(y.T))


@pytest.mark.parametrize(("top_db", "frame_length", "hop_length"), [(30, 400, 160), (20, 256, 100), (60, 250, 100)])
def test_trim_equals_librosa(recordings, top_db, frame_length, hop_length):
    for path in recordings:
        y = _samples(path)
        expected, _ = librosa.effects.trim(y, top_db=top_db, frame_length=frame_length, hop_length=hop_length)
        np.testing.assert_array_equal(
            dsp.trim(y, top_db=top_db, frame_length=frame_length, hop_length=hop_length), expected
        )


@pytest.mark.parametrize("case", ["zeros", "click", "too short"])
def test_trim_edge_cases_equal_librosa(case):
    y = np.zeros(3000 if case != "too short" else 50, dtype=np.float32)
    if case == "click":
        y[1700] = 0.5
    expected, _ = librosa.effects.trim(y, top_db=30, frame_length=400, hop_length=160)
    np.testing.assert_array_equal(dsp.trim(y, top_db=30, frame_length=400, hop_length=160), expected)


@pytest.mark.parametrize("coef", [0.97, 0.5])
def test_preemphasis_equals_librosa_with_its_default_zi(recordings, coef):
    for path in recordings:
        y = _samples(path)
        np.testing.assert_array_equal(dsp.preemphasis(y, coef=coef), librosa.effects.preemphasis(y, coef=coef))


@pytest.mark.parametrize(("sr", "n_fft", "n_mels"), [(16000, 400, 40), (10000, 256, 26), (22050, 512, 64)])
def test_mel_filters_equal_librosa(sr, n_fft, n_mels):
    expected = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)
    np.testing.assert_array_equal(dsp.mel_filters(sr=sr, n_fft=n_fft, n_mels=n_mels), expected)


@pytest.mark.parametrize(("n", "periodic"), [(256, False), (400, True), (255, False), (401, True)])
def test_cosine_windows_equal_scipy(n, periodic):
    np.testing.assert_array_equal(
        dsp.cosine_window(n, (0.5, 0.5), periodic=periodic), scipy.signal.get_window("hann", n, fftbins=periodic)
    )
    np.testing.assert_array_equal(
        dsp.cosine_window(n, (0.54, 1 - 0.54), periodic=periodic),
        scipy.signal.get_window("hamming", n, fftbins=periodic),
    )


@pytest.mark.parametrize(("n_fft", "hop_length", "n_mels", "n_mfcc"), [(400, 160, 40, 13), (256, 64, 26, 20)])
def test_mfcc_equals_librosa(recordings, n_fft, hop_length, n_mels, n_mfcc):
    for path in recordings:
        y = librosa.effects.preemphasis(_samples(path), coef=0.97)
        expected = librosa.feature.mfcc(
            y=y, sr=16000, n_mfcc=n_mfcc, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, center=False
        )
        got = dsp.mfcc(y, sr=16000, n_mfcc=n_mfcc, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels)
        assert got.dtype == expected.dtype == np.float32
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("order", [1, 12, 20])
def test_burg_lpc_equals_librosa(recordings, order):
    for path in recordings:
        frames = librosa.util.frame(_samples(path, 10000).astype(np.float64), frame_length=256, hop_length=64, axis=0)
        frames = frames * np.hamming(256) + np.random.default_rng(0).standard_normal(frames.shape) * 1e-7
        np.testing.assert_allclose(
            dsp.lpc(frames, order=order), librosa.lpc(frames, order=order), rtol=1e-9, atol=1e-12
        )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_delta_equals_librosa_savgol(dtype):
    data = np.cumsum(np.random.default_rng(1).standard_normal((40, 13)), axis=0).astype(dtype)
    expected = librosa.feature.delta(data, width=9, axis=0, mode="nearest")
    got = dsp.delta(data, width=9)
    assert got.dtype == expected.dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


# --- whole files: read_audio and features_of_file with librosa and with vowels.dsp -------------


@pytest.mark.parametrize(("sr", "trim_db"), [(16000, 30.0), (10000, 30.0), (16000, None)])
def test_read_audio_numpy_backend_gives_librosa_samples(recordings, sr, trim_db):
    for path in recordings:
        expected = read_audio(path, sr=sr, trim_db=trim_db)
        np.testing.assert_array_equal(read_audio(path, sr=sr, trim_db=trim_db, dsp="numpy"), expected)


CONFIGS = [
    FeatureConfig(),
    FeatureConfig(deltas=True),
    FeatureConfig(n_mels=26, n_coefficients=20, trim_db=None, preemphasis=0.0),
    FeatureConfig(kind="lpcc"),
    FeatureConfig(kind="lpcc", deltas=True, preemphasis=0.0),
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: f"{c.kind}-deltas{c.deltas}-pre{c.preemphasis}")
def test_features_of_file_numpy_dsp_gives_librosa_features(recordings, config):
    for path in recordings:
        expected = features_of_file(path, config)
        got = features_of_file(path, config, dsp="numpy")
        assert got.shape == expected.shape and got.dtype == np.float32
        # measured: equal to the last bit except MFCC deltas (float32 rounding, < 5e-7)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("name", ["empty.wav", "notes.flac", "silence.wav", "short.wav"])
def test_numpy_dsp_reports_bad_files_in_the_same_words(tmp_path, name):
    path = tmp_path / name
    if name == "empty.wav":
        path.write_bytes(b"")
    elif name == "notes.flac":
        path.write_text("not audio")
    elif name == "silence.wav":
        sf.write(path, np.zeros(16000, dtype=np.float32), 16000)
    else:
        sf.write(path, 0.5 * np.ones(100, dtype=np.float32), 16000)
    config = FeatureConfig()
    with pytest.raises(AudioError) as librosa_error:
        features_of_file(path, config)
    with pytest.raises(AudioError) as numpy_error:
        features_of_file(path, config, dsp="numpy")
    assert str(numpy_error.value) == str(librosa_error.value)


def test_unknown_dsp_is_refused_by_its_name(tmp_path):
    with pytest.raises(ParameterError, match=r"dsp must be one of \['librosa', 'numpy'\]; got 'scipy'"):
        compute_features(np.zeros(1000, dtype=np.float32), FeatureConfig(), dsp="scipy")
    with pytest.raises(ParameterError, match=r"^dsp must be one of \['librosa', 'numpy'\]; got 'scipy'"):
        features_of_file(tmp_path / "x.wav", FeatureConfig(), dsp="scipy")
    with pytest.raises(ParameterError, match="dsp must be one of"):
        read_audio(tmp_path / "x.wav", sr=16000, dsp="scipy")
