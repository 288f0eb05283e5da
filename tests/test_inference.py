"""vowels.inference: the NumPy forward pass against Keras, the weights file in the bundle, and
`vowels classify` as a new process that never imports TensorFlow, Keras, librosa or scikit-learn.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from test_recordings import SMALL, render_voices

from vowels.bundle import write_metadata
from vowels.classifier import SpeakerClassifier
from vowels.errors import BundleError
from vowels.features import FeatureConfig
from vowels.inference import MODES, FastClassifier, NumpyNetwork
from vowels.preprocessing import Preprocessing
from vowels.recordings import RecordingClassifier
from vowels.training import TrainingOptions

HEAVY = ("tensorflow", "keras", "librosa", "sklearn", "numba", "scipy.signal", "scipy.interpolate", "matplotlib")


def _sequences(seed, n=40, n_features=5):
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((int(rng.integers(1, 15)), n_features)).astype(np.float32) for _ in range(n)]


@pytest.mark.slow
@pytest.mark.parametrize("padding", ["right", "left"])
@pytest.mark.parametrize("mode", ["matlab", "padded", "masked"])
def test_numpy_probabilities_equal_keras_in_every_mode(tmp_path, mode, padding):
    X = _sequences(0)
    options = TrainingOptions(max_epochs=3, mini_batch_size=7, sequence_padding_direction=padding)
    clf = SpeakerClassifier(mode=mode, n_hidden=8, options=options).fit(X, [str(i % 3) for i in range(len(X))])
    clf.save(tmp_path / "bundle")
    fast = FastClassifier.load(tmp_path / "bundle")
    test = _sequences(1)
    np.testing.assert_allclose(fast.predict_proba(test), clf.predict_proba(test), rtol=0, atol=1e-5)
    assert list(fast.predict(test)) == list(clf.predict(test))
    one = test[:1]  # a single recording is its own batch, unpadded
    np.testing.assert_allclose(fast.predict_proba(one), clf.predict_proba(one), rtol=0, atol=1e-5)


@pytest.mark.parametrize("mode", ["matlab", "masked"])
def test_numpy_ensemble_equals_keras_and_stores_every_member(tmp_path, mode):
    X = _sequences(2)
    options = TrainingOptions(max_epochs=2, mini_batch_size=7)
    clf = SpeakerClassifier(mode=mode, n_hidden=6, n_members=3, dropout=0.2, delta_width=3, standardize=True)
    clf.set_params(options=options).fit(X, [str(i % 3) for i in range(len(X))])
    clf.save(tmp_path / "bundle")
    with np.load(tmp_path / "bundle" / "weights.npz") as stored:
        assert sorted(stored.files)[:2] == ["member0_backward_bias", "member0_backward_kernel"]
        assert len(stored.files) == 3 * 8
    fast, keras_loaded = FastClassifier.load(tmp_path / "bundle"), SpeakerClassifier.load(tmp_path / "bundle")
    assert fast.n_members == keras_loaded.n_members == 3
    test = _sequences(3)
    expected = clf.predict_proba(test)
    np.testing.assert_allclose(fast.predict_proba(test), expected, rtol=0, atol=1e-5)
    np.testing.assert_allclose(keras_loaded.predict_proba(test), expected, rtol=0, atol=1e-6)
    members = [NumpyNetwork(m, mode=mode) for m in _members_of(tmp_path / "bundle", 3)]
    batch = np.stack([s[:4] for s in clf.preprocessing_.apply(test) if len(s) >= 4])
    averaged = np.mean([member(batch) for member in members], axis=0)
    np.testing.assert_allclose(fast.network_(batch), averaged, rtol=0, atol=1e-6)
    assert np.abs(members[0](batch) - members[1](batch)).max() > 1e-3
    metadata = json.loads((tmp_path / "bundle" / "metadata.json").read_text())
    metadata["params"]["n_members"] = 2
    write_metadata(tmp_path / "bundle", metadata)
    with pytest.raises(BundleError, match=r"weights.npz: holds 24 arrays, not the 16 of the 2 network\(s\)"):
        FastClassifier.load(tmp_path / "bundle")


def _members_of(bundle, n):
    from vowels.inference import WEIGHT_NAMES

    with np.load(bundle / "weights.npz") as stored:
        return [{name: stored[f"member{m}_{name}"] for name in WEIGHT_NAMES} for m in range(n)]


def test_modes_are_those_of_vowels_model():
    from vowels.model import MODES as KERAS_MODES

    assert MODES == KERAS_MODES


@pytest.fixture(scope="module")
def voices(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    root = tmp_path_factory.mktemp("voices")
    render_voices(root / "train", ["ah", "ee", "oh", "hello", "water", "seven", "morning", "yellow", "open", "river"])
    render_voices(root / "test", ["oo", "eh", "market", "number"])
    return root


@pytest.fixture(scope="module", params=[FeatureConfig(deltas=True), FeatureConfig(kind="lpcc")], ids=["mfcc", "lpcc"])
def bundle(request, voices, tmp_path_factory):
    settings = SMALL | {"max_epochs": 5}
    model = RecordingClassifier(feature_config=request.param, validation_fraction=0, **settings).fit(voices / "train")
    return model, model.save(tmp_path_factory.mktemp("models") / "voices")


@pytest.mark.slow
def test_bundle_records_the_weights_file_and_its_sha256(bundle):
    from vowels.files import sha256_of

    _, path = bundle
    metadata = json.loads((path / "metadata.json").read_text())
    assert metadata["numpy_weights_sha256"] == sha256_of(path / "weights.npz")
    with np.load(path / "weights.npz", allow_pickle=False) as data:
        n_inputs = Preprocessing.from_dict(metadata["preprocessing"]).n_outputs(metadata["n_features"])  # deltas
        assert data["forward_kernel"].shape == (n_inputs, 4 * SMALL["n_hidden"])


def test_loaded_engines_give_the_same_answers(bundle, voices):
    model, path = bundle
    files = sorted((voices / "test").glob("*/*.wav"))
    fast = RecordingClassifier.load(path, engine="fast")
    assert isinstance(fast.classifier_, FastClassifier) and fast.dsp_ == "numpy"
    assert isinstance(RecordingClassifier.load(path, engine="fast").classifier_, FastClassifier)
    expected, _ = model.classify_files(files)
    got, _ = fast.classify_files(files)
    assert [r.speaker for r in got] == [r.speaker for r in expected]
    assert max(abs(a.probability - b.probability) for a, b in zip(got, expected, strict=True)) < 1e-5
    assert max(abs(a.score - b.score) for a, b in zip(got, expected, strict=True)) < 1e-4
    assert all(r.threshold == -1.0 for r in got)  # no validation split: nothing calibrated, every answer named
    evaluation, _ = fast.evaluate_folder(voices / "test")
    assert evaluation.closed_set.accuracy == model.evaluate_folder(voices / "test")[0].closed_set.accuracy


@pytest.mark.slow
def test_classify_as_a_new_process_imports_no_heavy_library(bundle, voices):
    model, path = bundle
    files = [str(p) for p in sorted((voices / "test").glob("*/market.wav"))]
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-X", "importtime", "-m", "vowels", "classify", "--model", str(path), *files, "--json"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "vowels.inference" in imported and "soxr" in imported
    assert not [m for m in imported if m.split(".")[0] in HEAVY or m in HEAVY]
    expected, _ = model.classify_files(files)
    for answer, reference in zip(json.loads(done.stdout), expected, strict=True):
        assert answer["path"] == reference.path and answer["speaker"] == reference.speaker
        assert abs(answer["probability"] - reference.probability) < 1e-5
        assert abs(answer["runner_up_probability"] - reference.runner_up_probability) < 1e-5

    keras_command = [sys.executable, "-m", "vowels", "classify", "--model", str(path), *files, "--json"]
    keras_run = subprocess.run([*keras_command, "--engine", "keras"], capture_output=True, text=True, env=env)
    assert keras_run.returncode == 0
    for a, b in zip(json.loads(keras_run.stdout), json.loads(done.stdout), strict=True):
        assert a["speaker"] == b["speaker"] and abs(a["probability"] - b["probability"]) < 1e-5


def _copy(path, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    return copy


def test_tampered_weights_file_is_refused_by_both_engines(bundle, tmp_path):
    copy = _copy(bundle[1], tmp_path)
    with open(copy / "weights.npz", "ab") as handle:
        handle.write(b"\0")
    for engine in ("fast", "keras"):
        with pytest.raises(BundleError, match=r"weights\.npz: sha256 .* was changed or damaged"):
            RecordingClassifier.load(copy, engine=engine)


def test_missing_weights_file_is_an_incomplete_bundle(bundle, tmp_path):
    copy = _copy(bundle[1], tmp_path)
    (copy / "weights.npz").unlink()
    with pytest.raises(BundleError, match="bundle is incomplete, weights.npz is missing"):
        RecordingClassifier.load(copy, engine="fast")


def test_bundle_recording_no_fast_file_is_refused_by_both_engines(bundle, voices, tmp_path, capsys):
    """Every bundle of this format holds weights.npz or model.onnx: one whose metadata records neither is not one."""
    from vowels.cli import main

    copy = _copy(bundle[1], tmp_path)
    (copy / "weights.npz").unlink()
    metadata = json.loads((copy / "metadata.json").read_text())
    del metadata["numpy_weights_sha256"], metadata["metadata_sha256"]
    write_metadata(copy, metadata)
    expected = f"{copy / 'metadata.json'}: must record the sha256 of one of ['model.onnx', 'weights.npz']."
    for engine in ("fast", "keras"):
        with pytest.raises(BundleError) as refused:
            RecordingClassifier.load(copy, engine=engine)
        assert str(refused.value) == expected
    assert main(["classify", "--model", str(copy), str(voices / "test/m1/market.wav")]) == 2
    assert capsys.readouterr().err == f"vowels: error: {expected}\n"


def test_model_loaded_with_the_fast_engine_cannot_be_saved(bundle, tmp_path):
    from vowels.errors import ParameterError

    with pytest.raises(ParameterError, match="engine='fast' cannot be saved"):
        RecordingClassifier.load(bundle[1], engine="fast").save(tmp_path / "again")


@pytest.mark.parametrize("command", ["", "reproduce", "evaluate", "plot", "report", "extract", "train", "classify"])
def test_help_as_a_new_process_imports_no_heavy_library(command):
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "vowels", *command.split(), "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "usage: vowels" in done.stdout, done.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "vowels.cli" in imported
    assert not [m for m in imported if m.split(".")[0] in (*HEAVY, "numpy") or m in HEAVY]
