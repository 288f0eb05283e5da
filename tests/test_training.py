from __future__ import annotations

import numpy as np
import pytest

from vowels.classifier import SpeakerClassifier
from vowels.datasets import load_japanese_vowels
from vowels.errors import ParameterError
from vowels.training import TrainingHistory, TrainingOptions


def test_defaults_mirror_the_matlab_tutorial():
    options = TrainingOptions()
    assert (options.max_epochs, options.mini_batch_size, options.shuffle) == (100, 27, "never")
    assert (options.initial_learn_rate, options.l2_regularization, options.epsilon) == (1e-3, 1e-4, 1e-8)
    assert options.gradient_threshold == 1.0 and options.sequence_padding_direction == "right"
    adam = options.optimizer()
    assert adam.clipnorm == 1.0 and adam.global_clipnorm is None
    assert adam.epsilon == 1e-8 and adam.beta_1 == 0.9 and adam.beta_2 == 0.999
    assert TrainingOptions(gradient_threshold_method="global-l2norm").optimizer().global_clipnorm == 1.0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"max_epochs": 0}, "max_epochs must be a whole number >= 1; got 0"),
        ({"mini_batch_size": 2.5}, "mini_batch_size must be a whole number >= 1; got 2.5"),
        ({"initial_learn_rate": -1.0}, "initial_learn_rate must be a number > 0; got -1.0"),
        ({"shuffle": "always"}, r"shuffle must be one of \['never', 'once', 'every-epoch'\]; got 'always'"),
        ({"sequence_padding_direction": "up"}, "sequence_padding_direction must be one of"),
        ({"gradient_decay_factor": 1.0}, r"gradient_decay_factor must be a number in \[0, 1\); got 1.0"),
    ],
)
def test_bad_options_are_named(changes, message):
    with pytest.raises(ParameterError, match=message):
        TrainingOptions(**changes)


def test_options_round_trip_and_reject_unknown_keys():
    options = TrainingOptions(max_epochs=3, shuffle="every-epoch")
    assert TrainingOptions.from_dict(options.to_dict()) == options
    with pytest.raises(ParameterError, match=r"unknown training options \['learning_rate'\]"):
        TrainingOptions.from_dict({"learning_rate": 0.1})


@pytest.fixture(scope="module")
def small_train():
    data = load_japanese_vowels("train")
    return data.subset(np.concatenate([np.arange(s * 30, s * 30 + 9) for s in range(3)]))  # 27, 3 speakers


def _fit(data, seed, **options):
    clf = SpeakerClassifier(
        mode="masked",
        n_hidden=6,
        options=TrainingOptions(max_epochs=2, mini_batch_size=9, **options),
        random_state=seed,
    )
    return clf.fit(data.sequences, data.labels)


@pytest.mark.slow
def test_same_seed_same_weights_and_different_seed_different_weights(small_train):
    a, b, c = _fit(small_train, 3), _fit(small_train, 3), _fit(small_train, 4)
    for wa, wb in zip(a.model_.get_weights(), b.model_.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert a.history_.iteration_loss == b.history_.iteration_loss
    assert any(not np.array_equal(wa, wc) for wa, wc in zip(a.model_.get_weights(), c.model_.get_weights()))


@pytest.mark.slow
def test_history_has_one_entry_per_iteration(small_train):
    history = _fit(small_train, 0).history_
    assert len(history.iteration_loss) == len(history.iteration_accuracy) == 2 * 3
    assert history.iteration_epoch == [1, 1, 1, 2, 2, 2]
    assert len(history.epoch_loss) == len(history.epoch_seconds) == 2
    assert all(0.0 <= a <= 1.0 for a in history.iteration_accuracy)
    assert history.epoch_loss[0] == pytest.approx(np.mean(history.iteration_loss[:3]))
    assert TrainingHistory.from_dict(history.to_dict()).iteration_loss == history.iteration_loss


@pytest.mark.slow
def test_shuffling_changes_training_and_the_short_last_batch_is_dropped(small_train):
    data = small_train.subset(range(25))  # 25 utterances, batches of 9: 2 full batches, 7 dropped
    never = _fit(data, 0).history_
    assert len(never.iteration_loss) == 4
    shuffled = _fit(data, 0, shuffle="every-epoch").history_
    assert shuffled.iteration_loss != never.iteration_loss
    kept = _fit(data, 0, drop_last=False).history_
    assert len(kept.iteration_loss) == 6


@pytest.mark.slow
@pytest.mark.parametrize(("mode", "n_members"), [("matlab", 1), ("masked", 1), ("masked", 2)])
@pytest.mark.parametrize("padding", ["right", "left"])
def test_graph_loop_computes_the_same_updates_as_train_on_batch(small_train, mode, n_members, padding):
    """One graph per epoch must equal Keras' train_on_batch on each padded mini-batch."""
    from vowels.model import build_network
    from vowels.training import seed_everything, train_network

    data = small_train.subset(range(25))  # batches of 9, 9 and a short one of 7
    options = TrainingOptions(max_epochs=2, mini_batch_size=9, drop_last=False, sequence_padding_direction=padding)
    results = {}
    for loop in ("graph", "batch"):
        seed_everything(0)
        model = build_network(12, 3, mode=mode, n_hidden=5, n_members=n_members)
        history = train_network(model, data.sequences, data.codes, options, verbose=0, loop=loop)
        results[loop] = (model.get_weights(), history)
    for graph_w, batch_w in zip(results["graph"][0], results["batch"][0]):
        np.testing.assert_allclose(graph_w, batch_w, atol=2e-5)
    np.testing.assert_allclose(results["graph"][1].iteration_loss, results["batch"][1].iteration_loss, rtol=1e-5)
    np.testing.assert_allclose(
        results["graph"][1].iteration_accuracy, results["batch"][1].iteration_accuracy, atol=1e-6
    )


@pytest.mark.parametrize("mode", ["matlab", "masked"])
def test_each_member_of_an_ensemble_trains_as_it_would_alone(small_train, mode):
    """Members share mini-batches and a graph, nothing else: each ends where it would trained on its own."""
    from vowels.model import build_network, copy_weights
    from vowels.training import seed_everything, train_network

    options = TrainingOptions(max_epochs=2, mini_batch_size=9)
    seed_everything(0)
    ensemble = build_network(12, 3, mode=mode, n_hidden=5, n_members=3)
    alone = []
    for member in range(3):
        single = build_network(12, 3, mode=mode, n_hidden=5)
        assert len(_member_variables(ensemble, member)) == len(single.trainable_variables) == 8
        for src, dst in zip(_member_variables(ensemble, member), single.trainable_variables):
            dst.assign(src)
        alone.append(single)
    assert not np.allclose(alone[0].get_weights()[0], alone[1].get_weights()[0])
    train_network(ensemble, small_train.sequences, small_train.codes, options, verbose=0)
    for member, single in enumerate(alone):
        train_network(single, small_train.sequences, small_train.codes, options, verbose=0)
        for trained_together, trained_alone in zip(_member_variables(ensemble, member), single.trainable_variables):
            np.testing.assert_allclose(np.asarray(trained_together), np.asarray(trained_alone), atol=2e-5)
    probabilities = np.mean([single(small_train.sequences[0][None]) for single in alone], axis=0)
    np.testing.assert_allclose(ensemble(small_train.sequences[0][None]), probabilities, atol=1e-6)
    single = build_network(12, 3, mode=mode, n_hidden=5)
    with pytest.raises(ParameterError, match="source has 3 members but target has 1"):
        copy_weights(ensemble, single)


def _member_variables(model, member):
    """One member's trainable variables, in the order a single network lists its own."""
    return [v for layer in model.layers if layer.name.endswith(f"_{member}") for v in layer.trainable_variables]
