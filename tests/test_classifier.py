from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.base import clone

from vowels import SpeakerClassifier
from vowels.batching import padded_batches
from vowels.bundle import write_metadata
from vowels.datasets import load_japanese_vowels
from vowels.errors import BundleError, DataError, NotFittedError, ParameterError
from vowels.training import TrainingOptions


@pytest.fixture(scope="module")
def data():
    train = load_japanese_vowels("train")
    return train.subset(np.concatenate([np.arange(s * 30, s * 30 + 12) for s in range(9)]))


@pytest.fixture(scope="module")
def fitted(data):
    clf = SpeakerClassifier(mode="matlab", n_hidden=8, options=TrainingOptions(max_epochs=3), random_state=0)
    return clf.fit(data)


def test_estimator_params_and_clone():
    clf = SpeakerClassifier(mode="masked", n_hidden=20, random_state=5)
    params = clf.get_params()
    assert params["mode"] == "masked" and params["n_hidden"] == 20 and params["random_state"] == 5
    assert clone(clf).get_params() == params
    assert clf.set_params(mode="padded").mode == "padded"


@pytest.mark.slow
def test_predict_proba_classifies_sorted_batches_and_returns_input_order(fitted, data):
    proba = fitted.predict_proba(data)
    assert proba.shape == (len(data), 9)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    by_hand = np.zeros_like(proba)
    for indices, batch in padded_batches(data.sequences, batch_size=27, sort=True):
        by_hand[indices] = np.asarray(fitted.model_(batch))
    np.testing.assert_allclose(proba, by_hand, atol=1e-6)
    assert list(fitted.classes_) == [str(i) for i in range(1, 10)]
    assert set(fitted.predict(data)) <= set(fitted.classes_)
    assert fitted.score(data) == pytest.approx(np.mean(fitted.predict(data) == data.labels))


def test_three_dimensional_arrays_are_accepted(fitted, data):
    same_length = [s for s in data.sequences if len(s) == 15][:4]
    np.testing.assert_allclose(
        fitted.predict_proba(np.stack(same_length)), fitted.predict_proba(same_length), atol=1e-6
    )


def test_saved_and_loaded_bundle_predicts_identically(fitted, data, tmp_path):
    path = fitted.save(tmp_path / "model")
    assert sorted(p.name for p in path.iterdir()) == ["metadata.json", "model.keras", "weights.npz"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "staging folder left behind"
    loaded = SpeakerClassifier.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(data), fitted.predict_proba(data))
    assert loaded.get_params() == {**fitted.get_params(), "verbose": 0}
    metadata = json.loads((path / "metadata.json").read_text())
    assert metadata["classes"] == list(fitted.classes_) and metadata["params"]["mode"] == "matlab"
    from vowels.inference import FastClassifier  # the same network without Keras (vowels.inference)

    np.testing.assert_allclose(FastClassifier.load(path).predict_proba(data), fitted.predict_proba(data), atol=1e-5)


def test_a_bundle_keeps_every_parameter_the_model_was_given(data, tmp_path):
    """Saved as `get_params()`, loaded as ``cls(**params)``: flat training settings too, not only their options."""
    clf = SpeakerClassifier(architecture="lstm", mode="masked", n_hidden=4, max_epochs=1, mini_batch_size=16)
    clf.set_params(learning_rate=0.01, dropout=0.1, noise=0.05, random_state=3, verbose=0).fit(data)
    loaded = SpeakerClassifier.load(clf.save(tmp_path / "model"))
    assert loaded.get_params() == {**clf.get_params(), "options": clf.options_}
    assert (loaded.max_epochs, loaded.mini_batch_size, loaded.learning_rate) == (1, 16, 0.01)


def test_existing_bundle_is_kept_unless_forced(fitted, tmp_path):
    path = fitted.save(tmp_path / "model")
    before = (path / "model.keras").read_bytes()
    with pytest.raises(BundleError, match="already exists; pass force=True to replace it"):
        fitted.save(path)
    assert (path / "model.keras").read_bytes() == before
    fitted.save(path, force=True, metrics={"accuracy": 0.5})
    assert json.loads((path / "metadata.json").read_text())["metrics"] == {"accuracy": 0.5}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_tampered_incomplete_and_incompatible_bundles_are_refused(fitted, tmp_path):
    path = fitted.save(tmp_path / "model")
    with open(path / "model.keras", "ab") as handle:
        handle.write(b"\0")
    with pytest.raises(BundleError, match=r"model\.keras: sha256 .* does not match"):
        SpeakerClassifier.load(path)
    path = fitted.save(tmp_path / "model2")
    metadata = json.loads((path / "metadata.json").read_text())
    write_metadata(path, {**metadata, "format_version": 99})
    with pytest.raises(
        BundleError,
        match=r"format version 99, written by a newer vowels \(this one reads version 2\); upgrade vowels to read it\.",
    ):
        SpeakerClassifier.load(path)
    (path / "metadata.json").unlink()
    with pytest.raises(BundleError, match=r"bundle is incomplete, metadata\.json is missing"):
        SpeakerClassifier.load(path)
    with pytest.raises(BundleError, match="no model bundle there"):
        SpeakerClassifier.load(tmp_path / "absent")


def test_bad_inputs_are_named(fitted, data):
    with pytest.raises(NotFittedError, match="not fitted yet"):
        SpeakerClassifier().predict(data)
    with pytest.raises(DataError, match="sequence 1 has 5 features per frame; expected 12"):
        fitted.predict([data.sequences[0], np.zeros((4, 5))])
    with pytest.raises(DataError, match="sequence 0 holds NaN"):
        fitted.predict([np.full((3, 12), np.nan)])
    with pytest.raises(DataError, match="sequence 0 has no frames"):
        fitted.predict([np.zeros((0, 12))])
    with pytest.raises(DataError, match="X holds no sequences"):
        fitted.predict([])
    with pytest.raises(DataError, match="X has 2 sequences but y has 1 labels"):
        SpeakerClassifier().fit(data.sequences[:2], ["1"])
    with pytest.raises(DataError, match="at least 2 speakers"):
        SpeakerClassifier().fit(data.sequences[:2], ["1", "1"])
    with pytest.raises(ParameterError, match="mode must be one of"):
        SpeakerClassifier(mode="bogus").fit(data)


def test_flat_training_settings_override_options_and_grid_search_tunes_them(data):
    from sklearn.model_selection import GridSearchCV, StratifiedKFold

    clf = SpeakerClassifier(n_hidden=4, max_epochs=2, learning_rate=0.01, options=TrainingOptions(mini_batch_size=9))
    assert (clf.options_.max_epochs, clf.options_.initial_learn_rate, clf.options_.mini_batch_size) == (2, 0.01, 9)
    assert SpeakerClassifier().options_ == TrainingOptions()
    with pytest.raises(ParameterError, match="learning_rate must be a number > 0; got 0"):
        SpeakerClassifier(learning_rate=0).fit(data)
    with pytest.raises(ParameterError, match="max_epochs must be a whole number >= 1; got 0"):
        SpeakerClassifier(max_epochs=0).fit(data)

    sequences, labels = list(data.sequences), np.asarray(data.labels)
    search = GridSearchCV(
        SpeakerClassifier(n_hidden=4, mini_batch_size=12, random_state=0),
        {"max_epochs": [1, 3], "learning_rate": [1e-3, 3e-2]},
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
    ).fit(sequences, labels)
    assert len(search.cv_results_["params"]) == 4
    assert len(search.best_estimator_.history_.epoch_seconds) == search.best_params_["max_epochs"]
    assert search.best_estimator_.options_.initial_learn_rate == search.best_params_["learning_rate"]
    # Ten times the learning rate for three times the epochs must fit these 108 utterances better.
    scores = dict(zip(map(str, search.cv_results_["params"]), search.cv_results_["mean_test_score"], strict=True))
    assert (
        scores[str({"learning_rate": 0.03, "max_epochs": 3})] > scores[str({"learning_rate": 0.001, "max_epochs": 1})]
    )
