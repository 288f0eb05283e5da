from __future__ import annotations

import numpy as np
import pytest

from vowels.augmentation import Augmentation, time_warp
from vowels.classifier import SpeakerClassifier
from vowels.datasets import load_japanese_vowels
from vowels.errors import ParameterError
from vowels.training import TrainingOptions


def test_time_warp_interpolates_linearly_and_keeps_the_ends():
    sequence = np.array([[0.0, 10.0], [1.0, 20.0], [2.0, 30.0]], dtype=np.float32)
    stretched = time_warp(sequence, 5)
    np.testing.assert_allclose(stretched[:, 0], [0.0, 0.5, 1.0, 1.5, 2.0])
    np.testing.assert_allclose(stretched[:, 1], [10.0, 15.0, 20.0, 25.0, 30.0])
    np.testing.assert_allclose(time_warp(sequence, 2), sequence[[0, 2]])
    np.testing.assert_allclose(time_warp(sequence[:1], 3), np.repeat(sequence[:1], 3, axis=0))
    with pytest.raises(ParameterError, match="n_frames must be a whole number >= 1; got 0"):
        time_warp(sequence, 0)


def test_lengths_stay_within_the_warp_and_noise_has_the_asked_spread():
    rng = np.random.default_rng(0)
    sequences = [np.zeros((20, 4), dtype=np.float32) for _ in range(300)]
    warped = Augmentation(time_warp=0.2).apply(sequences, rng)
    lengths = np.array([len(s) for s in warped])
    assert lengths.min() >= 16 and lengths.max() <= 24 and len(set(lengths)) > 5
    assert all(np.all(s == 0) for s in warped)
    noised = Augmentation(noise=0.5).apply(sequences, rng)
    values = np.concatenate(noised)
    assert values.shape == (6000, 4) and abs(values.std() - 0.5) < 0.02 and abs(values.mean()) < 0.02
    assert all(s.dtype == np.float32 for s in warped + noised)


def test_the_same_generator_state_gives_the_same_variation():
    sequences = [np.arange(30, dtype=np.float32).reshape(10, 3)] * 4
    augmentation = Augmentation(time_warp=0.3, noise=0.1)
    first = augmentation.apply(sequences, np.random.default_rng(7))
    again = augmentation.apply(sequences, np.random.default_rng(7))
    other = augmentation.apply(sequences, np.random.default_rng(8))
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(a.shape == b.shape and np.allclose(a, b) for a, b in zip(first, other))
    assert Augmentation().is_identity and not augmentation.is_identity


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"time_warp": 1.0}, r"time_warp must be a number in \[0, 1\); got 1.0"),
        ({"time_warp": -0.1}, r"time_warp must be a number in \[0, 1\); got -0.1"),
        ({"time_warp": "0.2"}, r"time_warp must be a number in \[0, 1\); got '0.2'"),
        ({"noise": -1.0}, "noise must be a number >= 0; got -1.0"),
        ({"noise": float("nan")}, "noise must be a number >= 0; got nan"),
    ],
)
def test_bad_settings_are_named(settings, message):
    with pytest.raises(ParameterError, match=message):
        Augmentation(**settings)


@pytest.fixture(scope="module")
def small_train():
    data = load_japanese_vowels("train")
    return data.subset(np.concatenate([np.arange(s * 30, s * 30 + 9) for s in range(3)]))


def _fit(data, **params):
    options = TrainingOptions(max_epochs=2, mini_batch_size=9)
    return SpeakerClassifier(mode="masked", n_hidden=5, options=options, **params).fit(data)


def test_augmented_training_is_reproducible_changes_the_model_and_is_saved(small_train, tmp_path):
    plain = _fit(small_train)
    augmented = _fit(small_train, time_warp=0.2, noise=0.05)
    again = _fit(small_train, time_warp=0.2, noise=0.05)
    for a, b in zip(augmented.model_.get_weights(), again.model_.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert augmented.history_.iteration_loss != plain.history_.iteration_loss
    augmented.save(tmp_path / "bundle")
    loaded = SpeakerClassifier.load(tmp_path / "bundle")
    assert (loaded.time_warp, loaded.noise) == (0.2, 0.05)
    np.testing.assert_allclose(loaded.predict_proba(small_train), augmented.predict_proba(small_train), atol=1e-6)
    with pytest.raises(ParameterError, match=r"time_warp must be a number in \[0, 1\); got 2.0"):
        _fit(small_train, time_warp=2.0)


def test_warped_epochs_are_sorted_by_their_new_lengths(small_train, monkeypatch):
    """With time warping, each epoch's mini-batches are cut from sequences sorted by warped length."""
    import vowels.training as training

    seen_orders = []
    real = training.padded_batches

    def spy(sequences, *, order, **batching):
        seen_orders.append([len(sequences[i]) for i in order])
        return real(sequences, order=order, **batching)

    monkeypatch.setattr(training, "padded_batches", spy)
    _fit(small_train, time_warp=0.3)
    assert len(seen_orders) == 2 and seen_orders[0] != seen_orders[1]
    assert all(lengths == sorted(lengths) for lengths in seen_orders)
