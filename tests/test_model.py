from __future__ import annotations

import keras
import numpy as np
import pytest

from vowels.errors import ParameterError
from vowels.model import MODES, build_network, copy_weights, mode_of


@pytest.fixture(scope="module")
def networks():
    """The three modes, built small, all holding the weights of the matlab one."""
    keras.utils.set_random_seed(1)
    nets = {mode: build_network(12, 4, mode=mode, n_hidden=8) for mode in MODES}
    for mode in ("padded", "masked"):
        copy_weights(nets["matlab"], nets[mode])
    return nets


@pytest.fixture(scope="module")
def frames():
    return np.random.default_rng(0).normal(size=(3, 6, 12)).astype(np.float32)


def _features(net, x):
    """The BiLSTM's (batch, 2 * n_hidden) output, before the Dense layer."""
    return np.asarray(keras.Model(net.input, net.get_layer("bilstm_last").output)(x))


def _pad(x, n, side):
    zeros = np.zeros((x.shape[0], n, x.shape[2]), dtype=x.dtype)
    return np.concatenate([x, zeros] if side == "right" else [zeros, x], axis=1)


def test_without_padding_padded_and_masked_agree_and_matlab_differs_only_backward(networks, frames):
    out = {mode: _features(net, frames) for mode, net in networks.items()}
    np.testing.assert_allclose(out["padded"], out["masked"], atol=1e-6)
    np.testing.assert_allclose(out["matlab"][:, :8], out["masked"][:, :8], atol=1e-6)
    assert np.abs(out["matlab"][:, 8:] - out["masked"][:, 8:]).max() > 1e-3


def test_one_frame_sequences_give_the_same_output_in_every_mode(networks, frames):
    x = frames[:, :1]
    out = [np.asarray(net(x)) for net in networks.values()]
    for other in out[1:]:
        np.testing.assert_allclose(out[0], other, atol=1e-6)


@pytest.mark.parametrize("side", ["right", "left"])
def test_masked_output_does_not_change_when_padding_is_added(networks, frames, side):
    net = networks["masked"]
    base = np.asarray(net(frames))
    for n in (1, 5, 20):
        np.testing.assert_allclose(np.asarray(net(_pad(frames, n, side))), base, atol=1e-6)


@pytest.mark.parametrize("mode", ["matlab", "padded"])
def test_padding_changes_the_unmasked_modes(networks, frames, mode):
    net = networks[mode]
    assert np.abs(np.asarray(net(_pad(frames, 5, "right"))) - np.asarray(net(frames))).max() > 1e-4


def test_matlab_mode_is_the_last_time_step_of_a_full_bidirectional_sequence(networks, frames):
    """Reading A: MATLAB's 'last' output is the BiLSTM output sequence at the last padded step."""
    net = networks["matlab"]
    padded = _pad(frames, 4, "right")
    bidirectional = keras.layers.Bidirectional(
        keras.layers.LSTM(8, return_sequences=True),
        backward_layer=keras.layers.LSTM(8, return_sequences=True, go_backwards=True),
    )
    bidirectional(padded)
    bidirectional.forward_layer.set_weights(net.get_layer("forward_lstm").get_weights())
    bidirectional.backward_layer.set_weights(net.get_layer("backward_lstm").get_weights())
    sequence = np.asarray(bidirectional(padded))
    np.testing.assert_allclose(_features(net, padded), sequence[:, -1, :], atol=1e-6)


def test_l2_penalises_weights_with_half_the_matlab_factor_and_not_biases():
    net = build_network(12, 3, mode="masked", n_hidden=4, l2=1e-4)
    lstm = net.get_layer("bilstm_last").forward_layer
    assert lstm.kernel_regularizer.l2 == pytest.approx(5e-5)
    assert lstm.recurrent_regularizer.l2 == pytest.approx(5e-5)
    assert lstm.bias_regularizer is None
    assert net.get_layer("speaker").kernel_regularizer.l2 == pytest.approx(5e-5)
    assert net.get_layer("speaker").bias_regularizer is None
    assert lstm.unit_forget_bias


def test_mode_round_trips_and_bad_arguments_are_named():
    assert all(mode_of(build_network(12, 2, mode=m, n_hidden=2)) == m for m in MODES)
    with pytest.raises(ParameterError, match=r"mode must be one of \['matlab', 'padded', 'masked'\]; got 'last'"):
        build_network(12, 9, mode="last")
    with pytest.raises(ParameterError, match="n_classes must be at least 2"):
        build_network(12, 1)


def test_an_ensemble_averages_its_members_and_counts_them():
    from vowels.model import member_outputs, n_members_of

    keras.utils.set_random_seed(2)
    net = build_network(12, 4, mode="masked", n_hidden=3, n_members=3)
    assert n_members_of(net) == 3 and n_members_of(build_network(12, 4, n_hidden=3)) == 1
    assert {"speaker_0", "speaker_2", "bilstm_last_1", "ensemble_mean"} <= {layer.name for layer in net.layers}
    x = np.random.default_rng(3).normal(size=(2, 5, 12)).astype(np.float32)
    members = [np.asarray(p) for p in member_outputs(net)(x)]
    assert len(members) == 3 and np.abs(members[0] - members[1]).max() > 1e-4
    np.testing.assert_allclose(np.asarray(net(x)), np.mean(members, axis=0), atol=1e-6)
    with pytest.raises(ParameterError, match="n_members must be a whole number >= 1; got 0"):
        build_network(12, 4, n_members=0)
