from __future__ import annotations

import numpy as np
import pytest

from vowels.batching import length_order, minibatch_indices, pad_batch, padded_batches, padding_stats
from vowels.datasets import load_japanese_vowels
from vowels.errors import ParameterError


def _seq(n, value=1.0, features=2):
    return np.full((n, features), value, dtype=np.float32)


def test_length_order_is_ascending_and_stable():
    order = length_order([5, 3, 5, 1, 3])
    assert list(order) == [3, 1, 4, 0, 2]


def test_minibatches_keep_or_drop_the_short_last_batch():
    assert [list(b) for b in minibatch_indices(7, 3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [list(b) for b in minibatch_indices(7, 3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(ParameterError, match="batch_size must be a whole number >= 1; got 0"):
        minibatch_indices(7, 0)


def test_right_and_left_padding_place_zeros_on_their_side():
    a, b = _seq(3, 1.0), _seq(1, 2.0)
    right = pad_batch([a, b])
    left = pad_batch([a, b], padding="left")
    assert right.shape == left.shape == (2, 3, 2)
    np.testing.assert_array_equal(right[1, :, 0], [2, 0, 0])
    np.testing.assert_array_equal(left[1, :, 0], [0, 0, 2])
    np.testing.assert_array_equal(right[0], a)
    assert pad_batch([b], value=-1.0, length=3)[0, 1:, 0].tolist() == [-1, -1]


def test_truncation_to_a_fixed_length_drops_frames_on_the_padding_side():
    a = np.arange(5, dtype=np.float32)[:, None]
    assert pad_batch([a], length=3)[0, :, 0].tolist() == [0, 1, 2]
    assert pad_batch([a], length=3, padding="left")[0, :, 0].tolist() == [2, 3, 4]


def test_bad_padding_direction_is_named():
    with pytest.raises(ParameterError, match=r"padding must be one of \['right', 'left'\]; got 'middle'"):
        pad_batch([_seq(2)], padding="middle")


def test_padded_batches_return_original_indices_sorted_by_length():
    seqs = [_seq(n, float(n)) for n in (4, 2, 3, 1)]
    batches = padded_batches(seqs, batch_size=2)
    assert [list(i) for i, _ in batches] == [[3, 1], [2, 0]]
    assert [b.shape[1] for _, b in batches] == [2, 4]
    unsorted = padded_batches(seqs, batch_size=2, sort=False)
    assert [list(i) for i, _ in unsorted] == [[0, 1], [2, 3]]


def _padding_by_hand(lengths, batch_size):
    padded = 0
    for start in range(0, len(lengths), batch_size):
        chunk = lengths[start : start + batch_size]
        padded += max(chunk) * len(chunk) - sum(chunk)
    return padded


def test_padding_stats_of_the_training_set_sorted_and_unsorted():
    lengths = load_japanese_vowels("train").lengths.tolist()
    sorted_stats = padding_stats(lengths, batch_size=27, sort=True)
    unsorted_stats = padding_stats(lengths, batch_size=27, sort=False)
    assert sorted_stats.n_frames == unsorted_stats.n_frames == 4274
    assert sorted_stats.n_padded_frames == _padding_by_hand(sorted(lengths), 27)
    assert unsorted_stats.n_padded_frames == _padding_by_hand(lengths, 27)
    assert sorted_stats.n_padded_frames < unsorted_stats.n_padded_frames / 3
    total = 4274 + sorted_stats.n_padded_frames
    assert sorted_stats.padding_fraction == pytest.approx(sorted_stats.n_padded_frames / total)
    assert len(sorted_stats.batch_lengths) == 10
    assert list(sorted_stats.batch_lengths) == sorted(sorted_stats.batch_lengths)
    assert sorted_stats.batch_lengths[-1] == 26
