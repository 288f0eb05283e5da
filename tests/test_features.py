"""vowels.features: the configuration, the LPC -> cepstrum recursion, MFCC / LPCC shapes."""

from __future__ import annotations

import re

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import lfilter

from vowels.errors import ParameterError
from vowels.features import DELTA_WIDTH, FeatureConfig, compute_features, features_of_file, lpc_to_cepstrum


def test_lpc_cepstrum_of_a_one_pole_model_is_the_log_series():
    # 1 / (1 + a z^-1): log H = -log(1 + a z^-1) = sum_n (-a)^n / n z^-n, so c_n = (-a)^n / n.
    a = 0.5
    expected = [-0.5, 0.125, -(0.5**3) / 3, 0.5**4 / 4, -(0.5**5) / 5]
    np.testing.assert_allclose(lpc_to_cepstrum(np.array([1.0, a]), 5), expected, rtol=1e-12)


def test_lpc_cepstrum_of_a_two_pole_model_by_hand():
    # A(z) = 1 - 0.5 z^-1 + 0.25 z^-2, by the recursion written out:
    # c1 = -a1 = 0.5
    # c2 = -a2 - (1/2) c1 a1 = -0.25 + 0.125 = -0.125
    # c3 = -(1/3) c1 a2 - (2/3) c2 a1 = -(1/3)(0.5)(0.25) - (2/3)(-0.125)(-0.5) = -1/24 - 1/24 = -1/12
    # c4 = -(2/4) c2 a2 - (3/4) c3 a1 = -(1/2)(-0.125)(0.25) - (3/4)(-1/12)(-0.5) = 1/64 - 1/32 = -1/64
    c = lpc_to_cepstrum(np.array([1.0, -0.5, 0.25]), 4)
    np.testing.assert_allclose(c, [0.5, -0.125, -1 / 12, -1 / 64], rtol=1e-12)


def test_lpc_cepstrum_matches_the_cepstrum_of_the_spectrum():
    a = np.array([1.0, -1.2, 0.8, -0.3])
    n_fft = 4096
    log_spectrum = -np.log(np.fft.fft(a, n_fft))  # log(1 / A(e^jw))
    reference = np.fft.ifft(log_spectrum).real[1:15]
    np.testing.assert_allclose(lpc_to_cepstrum(a, 14), reference, atol=1e-10)
    # works on stacks of polynomials, one per frame
    np.testing.assert_allclose(lpc_to_cepstrum(np.stack([a, a]), 14)[1], reference, atol=1e-10)


def test_lpcc_default_is_the_japanese_vowels_analysis():
    config = FeatureConfig(kind="lpcc")
    assert (config.sample_rate, config.window_ms, config.hop_ms, config.n_coefficients) == (10000, 25.6, 6.4, 12)
    assert (config.window_length, config.hop_length, config.n_features) == (256, 64, 12)
    mfcc = FeatureConfig()
    assert (mfcc.kind, mfcc.sample_rate, mfcc.window_length, mfcc.hop_length) == ("mfcc", 16000, 400, 160)


def test_config_round_trips_through_plain_values():
    config = FeatureConfig(kind="lpcc", deltas=True, trim_db=None, preemphasis=0.0)
    assert FeatureConfig.from_dict(config.to_dict()) == config
    assert config.n_features == 12 and config.delta_width == DELTA_WIDTH == 9  # the classifier appends the deltas
    assert FeatureConfig(kind="lpcc").delta_width == 0


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"kind": "plp"}, "kind must be one of ['mfcc', 'lpcc']; got 'plp'"),
        ({"window_ms": 0}, "window_ms must be a number of ms > 0; got 0"),
        ({"kind": "lpcc", "n_coefficients": 300}, "n_coefficients (the LPC order) must be below the window of 256"),
        ({"n_coefficients": 50}, "n_coefficients must be <= n_mels=40; got 50"),
        ({"preemphasis": 1.0}, "preemphasis must be a number in [0, 1); got 1.0"),
        ({"deltas": "yes"}, "deltas must be True or False; got 'yes'"),
    ],
)
def test_config_rejects_bad_values(kwargs, expected):
    with pytest.raises(ParameterError, match=re.escape(expected)):
        FeatureConfig(**kwargs)


def test_config_rejects_unknown_keys():
    with pytest.raises(ParameterError, match=re.escape("unknown feature settings ['n_fft']")):
        FeatureConfig.from_dict({"kind": "mfcc", "n_fft": 512})


def test_config_says_standardize_only():
    """One word for subtracting the training frames' mean and dividing by their std, as in SpeakerClassifier."""
    config = FeatureConfig(standardize=False)
    values = config.to_dict()
    assert values["standardize"] is False and "normalize" not in values
    assert FeatureConfig.from_dict(values) == config
    with pytest.raises(ParameterError, match=re.escape("unknown feature settings ['normalize']")):
        FeatureConfig.from_dict({"kind": "lpcc", "normalize": True})
    with pytest.raises(TypeError, match="unexpected keyword argument 'normalize'"):
        FeatureConfig(normalize=False)
    with pytest.raises(ParameterError, match=re.escape("standardize must be True or False; got 1")):
        FeatureConfig(standardize=1)


@pytest.mark.parametrize(
    "kind, n_samples, frames, width",
    [
        ("lpcc", 10000, 1 + (10000 - 256) // 64, 12),
        ("lpcc", 256, 1, 12),
        ("mfcc", 16000, 1 + (16000 - 400) // 160, 13),
    ],
)
def test_sequences_are_frames_by_features_float32(kind, n_samples, frames, width):
    y = np.random.default_rng(0).standard_normal(n_samples).astype(np.float32)
    features = compute_features(y, FeatureConfig(kind=kind))
    assert features.shape == (frames, width) and features.dtype == np.float32
    assert np.all(np.isfinite(features))
    # Deltas and standardisation are the classifier's preprocessing, not part of the features.
    for config in (FeatureConfig(kind=kind, deltas=True), FeatureConfig(kind=kind, standardize=False)):
        np.testing.assert_array_equal(compute_features(y, config), features)


def test_lpcc_recovers_a_known_all_pole_filter():
    # White noise through 1 / A(z): the LPC cepstrum of every frame is close to A's own.
    a = np.array([1.0, -1.3, 0.9, -0.2])
    y = lfilter([1.0], a, np.random.default_rng(1).standard_normal(20000)).astype(np.float32)
    config = FeatureConfig(kind="lpcc", n_coefficients=3, preemphasis=0.0)
    features = compute_features(y, config)
    np.testing.assert_allclose(np.median(features, axis=0), lpc_to_cepstrum(a, 3), atol=0.15)


def _vowel(f0: float, formants: tuple[float, ...], *, sr: int = 10000, seconds: float = 0.3) -> np.ndarray:
    """A pulse train at f0 (Hz) through two-pole resonators at the formants (Hz)."""
    n = round(sr * seconds)
    y = np.diff(np.floor(np.arange(n) * f0 / sr), prepend=0.0)
    for formant, bandwidth in zip(formants, (80, 100, 120), strict=True):
        r, theta = np.exp(-np.pi * bandwidth / sr), 2 * np.pi * formant / sr
        y = lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], y)
    return (0.5 * y / np.max(np.abs(y))).astype(np.float32)


def test_lpcc_of_synthetic_vowel_files_find_their_formants(tmp_path):
    # The all-pole envelope log 1/|A| = 2 sum_n c_n cos(n w) (c_0 left out) from 12 coefficients
    # is smooth: /a/'s F1 (730 Hz) and F2 (1090 Hz) merge into one strongest peak between them;
    # /i/ (F1 270, F2 2290, F3 3010 Hz) peaks strongest near its F2.
    from scipy.signal import find_peaks

    config = FeatureConfig(kind="lpcc", preemphasis=0.0)
    freqs = np.linspace(0, 5000, 501)
    strongest = {}
    for name, formants in (("a", (730, 1090, 2440)), ("i", (270, 2290, 3010))):
        path = tmp_path / f"{name}.wav"
        sf.write(path, _vowel(120, formants), 10000)
        c = np.median(features_of_file(path, config), axis=0)
        envelope = 2 * np.cos(np.outer(2 * np.pi * freqs / 10000, np.arange(1, 13))) @ c
        peaks, _ = find_peaks(envelope)
        strongest[name] = freqs[peaks[np.argmax(envelope[peaks])]]
    assert 700 <= strongest["a"] <= 1100
    assert abs(strongest["i"] - 2290) <= 100


def test_features_of_file_refuses_a_recording_longer_than_max_seconds(tmp_path):
    from vowels.errors import AudioError

    path = tmp_path / "long.wav"
    sf.write(path, np.tile(_vowel(120, (730, 1090, 2440)), 3), 10000)
    assert features_of_file(path, FeatureConfig(), max_seconds=10.0).shape[1] == FeatureConfig().n_features
    with pytest.raises(AudioError, match=re.escape(str(path)) + r".*longer than the 0\.5 s allowed"):
        features_of_file(path, FeatureConfig(), max_seconds=0.5)
