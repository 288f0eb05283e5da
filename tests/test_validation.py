"""vowels.validation: one check per kind of parameter, one wording, the same checks as argparse types."""

import argparse
import math

import numpy as np
import pytest

from vowels.errors import ParameterError
from vowels.validation import (
    argument_type,
    check_choice,
    check_int,
    check_number,
    check_seconds,
    check_seed,
    check_threshold,
    check_verbose,
)


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (lambda: check_int(0, "n_hidden"), "n_hidden must be a whole number >= 1; got 0."),
        (lambda: check_int(2.0, "n_hidden"), "n_hidden must be a whole number >= 1; got 2.0."),
        (lambda: check_int(True, "n_hidden"), "n_hidden must be a whole number >= 1; got True."),
        (lambda: check_int(11, "k", low=0, high=10), "k must be a whole number from 0 to 10; got 11."),
        (lambda: check_int(0, "sr", unit="Hz"), "sr must be a whole number of Hz >= 1; got 0."),
        (lambda: check_int("3", "n", none_ok=True), "n must be a whole number >= 1 or None; got '3'."),
        (lambda: check_number(1.0, "p", low=0, high=1, high_open=True), r"p must be a number in [0, 1); got 1.0."),
        (lambda: check_number(math.nan, "noise", low=0), "noise must be a number >= 0; got nan."),
        (lambda: check_number("0.2", "rate", low=0, low_open=True), "rate must be a number > 0; got '0.2'."),
        (
            lambda: check_number(-3, "trim_db", low=0, low_open=True, unit="dB", none_ok=True),
            "trim_db must be a number of dB > 0 or None; got -3.",
        ),
        (
            lambda: check_seconds(0, "max_seconds", hint="math.inf for no limit"),
            "max_seconds must be a number of s > 0 (math.inf for no limit); got 0.",
        ),
        (lambda: check_threshold(1.5), "threshold must be a score in [-1, 1]; got 1.5."),
        (lambda: check_threshold("0.5", auto=True), "threshold must be a score in [-1, 1] or 'auto'; got '0.5'."),
        (
            lambda: check_threshold(-0.5, low=0),
            "threshold must be a score in [0, 1] for this model (it scores probabilities); got -0.5.",
        ),
        (
            lambda: check_seed(2**32, name="random_state"),
            "random_state must be a whole number from 0 to 4294967295; got 4294967296.",
        ),
        (lambda: check_seed(2**32 - 1, 2), "seeds 4294967295..4294967296 go above the largest seed"),
        (lambda: check_verbose(-1), "verbose must be 0 (silent), 1 (progress) or 'auto'; got -1."),
        (
            lambda: check_choice("gru", "architecture", ("bilstm", "lstm")),
            "architecture must be one of ['bilstm', 'lstm']; got 'gru'.",
        ),
        (
            lambda: check_choice("gru", "architecture", ("bilstm", "lstm"), hint="see vowels train --help"),
            "architecture must be one of ['bilstm', 'lstm'] (see vowels train --help); got 'gru'.",
        ),
    ],
)
def test_each_check_names_the_value_and_what_is_allowed(check, message):
    with pytest.raises(ParameterError) as raised:
        check()
    assert str(raised.value).startswith(message)


def test_allowed_values_pass_numpy_ones_too():
    check_int(np.int64(3), "n", low=2)
    check_int(None, "n", none_ok=True)
    check_number(np.float32(0.5), "p", low=0, high=1)
    check_number(math.inf, "max_seconds", low=0, low_open=True)
    check_seconds(None, "window_seconds", none_ok=True)
    check_threshold(-1)
    check_threshold("auto", auto=True)
    check_seed(0, 10)
    check_verbose("auto")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        # each of these was a TypeError traceback (a comparison of a str with a number) before the checks were shared
        ({"l2_regularization": "x"}, "l2_regularization must be a number >= 0; got 'x'."),
        ({"gradient_decay_factor": None}, r"gradient_decay_factor must be a number in [0, 1); got None."),
    ],
)
def test_training_options_of_a_wrong_type_are_named_not_a_traceback(settings, message):
    from vowels.training import TrainingOptions

    with pytest.raises(ParameterError) as raised:
        TrainingOptions(**settings)
    assert str(raised.value) == message


def test_features_and_windows_of_a_wrong_type_are_named_not_a_traceback():
    from vowels.features import FeatureConfig
    from vowels.recordings import RecordingClassifier

    with pytest.raises(ParameterError, match=r"^preemphasis must be a number in \[0, 1\); got '0.9'\.$"):
        FeatureConfig(preemphasis="0.9")
    with pytest.raises(ParameterError, match=r"^calibration_folds must be a whole number >= 2; got 1\.$"):
        RecordingClassifier(calibration_folds=1)._check_params()
    RecordingClassifier(calibration_folds=np.int64(3))._check_params()


def test_an_argument_type_is_the_check_and_shows_the_text_as_typed():
    parse = argument_type(int, check_int, low=1, high=1000)
    assert parse("12") == 12
    for text in ("0", "ten", "1e3", "1001"):
        with pytest.raises(argparse.ArgumentTypeError) as raised:
            parse(text)
        assert str(raised.value) == f"must be a whole number from 1 to 1000; got {text!r}"
    either = argument_type(lambda t: t if t == "auto" else float(t), check_threshold, auto=True)
    assert either("auto") == "auto" and either("-0.5") == -0.5
    with pytest.raises(argparse.ArgumentTypeError, match=r"^must be a score in \[-1, 1\] or 'auto'; got 'x'$"):
        either("x")


def test_choices_in_the_networks_progress_and_voiceprints_are_refused_in_the_one_wording():
    from vowels.model import build_network
    from vowels.progress import ProgressPrinter
    from vowels.recordings import RecordingClassifier
    from vowels.voiceprints import VoiceprintScorer

    refusals = {
        "architecture must be one of ['bilstm', 'lstm'] (build_fcn and build_frame_network build the others); "
        "got 'dnn'.": lambda: build_network(12, 9, architecture="dnn"),
        "architecture must be one of ['bilstm', 'lstm'] (the open-set score reads the LSTM's states); got 'fcn'.": (
            lambda: RecordingClassifier(architecture="fcn")._check_params()
        ),
        "display must be one of ['terminal', 'lines', 'notebook', None]; got 'fancy'.": (
            lambda: ProgressPrinter(display="fancy")
        ),
        "scoring must be one of ['cosine', 'cohort', 'wccn']; got 'plda'.": (
            lambda: VoiceprintScorer.fit(np.zeros((0, 256)), [], [], scoring="plda")
        ),
    }
    for message, call in refusals.items():
        with pytest.raises(ParameterError) as raised:
            call()
        assert str(raised.value) == message
    assert ProgressPrinter(display="lines").display == "lines"
