"""vowels.openset: WCCN cosine scoring, thresholds at an operating point, equal error rates.

The arithmetic is checked on small arrays whose answers are known by construction; the whole
open-set path on real speech is in tests/test_speech.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from vowels.errors import BundleError, DataError, ParameterError
from vowels.evaluation import evaluate_open_set
from vowels.openset import (
    OpenSetScorer,
    OperatingPoint,
    SpeakerScorer,
    ThresholdChoice,
    choose_threshold,
    equal_error_rate,
    error_rates,
    parse_operating_point,
    utterance_statistics,
)


def clusters(rng, centres, n, spread=0.1):
    points = np.concatenate([c + spread * rng.standard_normal((n, len(c))) for c in centres])
    labels = np.repeat([f"s{i}" for i in range(len(centres))], n)
    return points, labels


def test_each_recording_is_nearest_to_its_own_speaker():
    rng = np.random.default_rng(0)
    centres = 3 * rng.standard_normal((3, 6))
    train, labels = clusters(rng, centres, 20)
    scorer = SpeakerScorer.fit(train, labels, ["s0", "s1", "s2"])
    test, truth = clusters(rng, centres, 5)
    scores = scorer.scores(test)
    assert scores.shape == (15, 3) and np.all(scores <= 1 + 1e-6) and np.all(scores >= -1 - 1e-6)
    assert np.array_equal(np.array(["s0", "s1", "s2"])[scores.argmax(axis=1)], truth)
    # an enrolment recording is its own nearest reference
    np.testing.assert_allclose(scorer.scores(train[:3]).max(axis=1), 1.0, atol=1e-5)


def test_whitening_discounts_the_direction_a_speaker_varies_in():
    rng = np.random.default_rng(1)
    # both speakers vary a lot along axis 0 and differ only along axis 1
    a = np.c_[10 * rng.standard_normal(50), 1 + 0.05 * rng.standard_normal(50), np.zeros(50)]
    b = np.c_[10 * rng.standard_normal(50), -1 + 0.05 * rng.standard_normal(50), np.zeros(50)]
    scorer = SpeakerScorer.fit(np.r_[a, b], ["a"] * 50 + ["b"] * 50, ["a", "b"])
    probe = np.array([[25.0, 1.0, 0.0]])  # far along the nuisance axis, on a's side of axis 1
    assert scorer.scores(probe).argmax() == 0
    assert scorer.transform[0, 0] < scorer.transform[1, 1] / 10


def test_a_speaker_with_one_recording_cannot_be_enrolled():
    with pytest.raises(DataError, match=r"speakers \['b'\] need at least two enrolment recordings"):
        SpeakerScorer.fit(np.eye(3), ["a", "a", "b"], ["a", "b"])


def test_utterance_statistics_are_mean_and_standard_deviation():
    x = np.array([[1.0, 2.0], [3.0, 6.0]])
    np.testing.assert_allclose(utterance_statistics([x]), [[2.0, 4.0, 1.0, 2.0]])


def test_open_set_scorer_round_trips_through_npz(tmp_path):
    rng = np.random.default_rng(3)
    embeddings, labels = clusters(rng, rng.standard_normal((3, 5)), 6)
    sequences = [rng.standard_normal((int(rng.integers(3, 9)), 4)) for _ in labels]
    scorer = OpenSetScorer.fit(embeddings, sequences, labels, ["s0", "s1", "s2"])
    expected = (scorer.network.scores(embeddings) + scorer.statistics.scores(utterance_statistics(sequences))) / 2
    np.testing.assert_allclose(scorer.scores(embeddings, sequences), expected)
    path = tmp_path / "openset.npz"
    path.write_bytes(scorer.to_npz())
    with np.load(path, allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)
    loaded = OpenSetScorer.from_npz(path)
    np.testing.assert_array_equal(loaded.scores(embeddings, sequences), scorer.scores(embeddings, sequences))
    path.write_bytes(b"PK\x03\x04 not a zip")
    with pytest.raises(BundleError, match=f"^{path}: not readable as open-set references"):
        OpenSetScorer.from_npz(path)


def test_equal_error_rate_of_known_scores():
    genuine = np.array([0.9, 0.8, 0.7, 0.6, 0.3])
    impostor = np.array([0.1, 0.2, 0.4, 0.5, 0.65])
    eer, threshold = equal_error_rate(genuine, impostor)
    far, frr = error_rates(genuine, impostor, threshold)
    assert eer == pytest.approx(0.2) and far == frr == pytest.approx(0.2)
    assert equal_error_rate(np.array([2.0, 3.0]), np.array([0.0, 1.0]))[0] == 0.0  # separable


def test_threshold_at_a_target_false_accept_rate():
    genuine = np.linspace(0.5, 1.0, 20)
    impostor = np.linspace(0.0, 0.9, 100)
    point = choose_threshold(genuine, impostor, "far=0.05")
    assert point.false_accept_rate <= 0.05 and np.sum(impostor >= point.threshold) == 5
    assert point.rule == "far=0.05" and len(point.genuine) == 20 and len(point.impostor) == 100
    strict = choose_threshold(genuine, impostor, "far=0")
    assert strict.false_accept_rate == 0 and strict.threshold > impostor.max()
    eer = choose_threshold(genuine, impostor)
    assert eer.rule == "eer" and abs(eer.false_accept_rate - eer.false_reject_rate) < 0.05
    assert OperatingPoint.from_dict(eer.to_dict()).threshold == eer.threshold


@pytest.mark.parametrize("rule", ["far=1", "far=-0.1", "far=x", "frr=0.1", "EER", ""])
def test_bad_operating_points_are_refused(rule):
    with pytest.raises(ParameterError, match="operating point must be 'eer' or 'far=<rate>'"):
        parse_operating_point(rule)


def test_open_set_evaluation_counts_each_outcome():
    truth = ["a", "a", "a", "b", "x", "x", "y"]
    nearest = ["a", "a", "b", "b", "a", "b", "a"]
    scores = [0.9, 0.2, 0.8, 0.7, 0.1, 0.9, 0.3]
    ev = evaluate_open_set(truth, nearest, scores, enrolled=["a", "b"], threshold=0.5)
    assert (ev.n_enrolled, ev.n_strangers) == (4, 3)
    assert ev.closed_set.accuracy == 0.75  # the third "a" was named "b"
    assert ev.identified == 0.5 and ev.false_rejection == 0.25 and ev.misnamed == 0.25
    assert ev.true_rejection == pytest.approx(2 / 3)
    assert ev.strangers == {"x": (1, 2), "y": (1, 1)}
    assert [r["outcome"] for r in ev.rows] == [
        "correct",
        "rejected",
        "misnamed",
        "correct",
        "stranger rejected",
        "stranger accepted",
        "stranger rejected",
    ]
    assert [r["answer"] for r in ev.errors] == ["unknown", "b", "b"]
    assert ev.equal_error_rate == equal_error_rate(np.array(scores[:4]), np.array(scores[4:]))[0]
    only_enrolled = evaluate_open_set(truth[:4], nearest[:4], scores[:4], enrolled=["a", "b"], threshold=0.5)
    assert only_enrolled.true_rejection is None and only_enrolled.equal_error_rate is None


def test_how_a_threshold_was_chosen_is_stored_and_said_in_one_line():
    """`ThresholdChoice`: one record (in a bundle's metadata), one wording (the CLI's, the page's, the report's)."""
    genuine, impostor = np.linspace(0.5, 0.9, 30), np.linspace(-0.2, 0.55, 30)
    point = choose_threshold(genuine, impostor, "far=0.1")
    calibrated = ThresholdChoice.calibrated(point)
    assert ThresholdChoice.from_dict(calibrated.to_dict()) == calibrated
    far, frr = point.false_accept_rate, point.false_reject_rate
    assert calibrated.describe() == (
        f"threshold {point.threshold:.3f} (far=0.1, calibrated with each speaker left out in turn): "
        f"{100 * (1 - far):.1f}% of 30 held-out recordings of left-out speakers rejected, "
        f"{100 * frr:.1f}% of 30 of enrolled speakers rejected"
    )
    few = ThresholdChoice.calibrated(choose_threshold(genuine[:8], impostor[:8]))
    assert "(eer; only 8 + 8 calibration scores, so a normal fit to them, calibrated" in few.describe()
    assert ThresholdChoice("given", 0.25).describe() == "threshold 0.250 (given)"
    named = ThresholdChoice("default", -1.0, reason="needs at least 3 speakers")
    assert (
        named.describe() == "threshold -1.000, so every recording is named (not calibrated: needs at least 3 speakers)"
    )
    assert ThresholdChoice("default", 0.75, reason="too few").describe() == "threshold 0.750 (the default: too few)"
    encoder = ThresholdChoice("calibrated", 0.2, rule="eer", n_genuine=12, n_impostor=40, scale="cosine")
    assert encoder.describe() == (
        "threshold 0.200 on the cosine (fitted to 12 genuine and 40 stranger scores of the enrolment recordings)"
    )
    with pytest.raises(ValueError, match="how must be one of"):
        ThresholdChoice.from_dict({"how": "guessed", "threshold": 0.1})
