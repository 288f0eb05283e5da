from __future__ import annotations

import librosa
import numpy as np
import pytest

from vowels import SpeakerClassifier, TrainingOptions
from vowels.datasets import load_japanese_vowels
from vowels.errors import ParameterError
from vowels.inference import FastClassifier
from vowels.preprocessing import Preprocessing, Standardization


@pytest.fixture(scope="module")
def train():
    return load_japanese_vowels("train")


def test_deltas_equal_librosa_and_standardisation_uses_training_frames(train):
    pre = Preprocessing.fit(train.sequences, delta_width=3, standardize=True)
    out = pre.apply(train.sequences[:5])
    assert out[0].shape == (len(train.sequences[0]), 24) and out[0].dtype == np.float32
    for seq, raw in zip(pre.apply(train.sequences), train.sequences):
        slope = librosa.feature.delta(raw, width=3, axis=0, mode="nearest")
        expanded = np.concatenate([raw, slope], axis=1)
        np.testing.assert_allclose(
            seq, (expanded - pre.standardization.mean) / pre.standardization.std, rtol=1e-4, atol=1e-4
        )
    frames = np.concatenate(pre.apply(train.sequences))
    np.testing.assert_allclose(frames.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(frames.std(axis=0), 1, atol=1e-4)
    assert Preprocessing.from_dict(pre.to_dict()) == pre
    assert Preprocessing.from_dict(Preprocessing().to_dict()).is_identity


def test_normalization_standardises_each_feature():
    rng = np.random.default_rng(0)
    sequences = [rng.normal(5.0, 3.0, size=(n, 4)).astype(np.float32) for n in (10, 20, 30)]
    norm = Standardization.fit(sequences)
    stacked = np.concatenate([norm.apply(s) for s in sequences])
    np.testing.assert_allclose(stacked.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(stacked.std(axis=0), 1, atol=1e-5)
    assert Standardization.from_dict(norm.to_dict()) == norm


@pytest.mark.parametrize("width", [2, 1, -3, True])
def test_bad_delta_width_is_named(width):
    with pytest.raises(ParameterError, match="delta_width must be 0 or an odd whole number >= 3"):
        Preprocessing(delta_width=width)


@pytest.mark.slow
def test_classifier_applies_the_same_transform_after_save_in_both_engines(train, tmp_path):
    test = load_japanese_vowels("test")
    clf = SpeakerClassifier(
        mode="masked",
        n_hidden=8,
        delta_width=3,
        standardize=True,
        dropout=0.3,
        options=TrainingOptions(max_epochs=2),
        random_state=0,
    ).fit(train)
    assert clf.model_.input_shape == (None, None, 24)
    assert clf.n_features_in_ == 12
    expected = clf.predict_proba(test)
    clf.save(tmp_path / "model")
    keras_loaded = SpeakerClassifier.load(tmp_path / "model")
    assert keras_loaded.get_params()["delta_width"] == 3 and keras_loaded.get_params()["standardize"]
    np.testing.assert_allclose(keras_loaded.predict_proba(test), expected, atol=1e-6)
    np.testing.assert_allclose(FastClassifier.load(tmp_path / "model").predict_proba(test), expected, atol=1e-5)
