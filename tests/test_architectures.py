"""The network architectures beside the tutorial's BiLSTM (stacked, forward-only and streaming, frame-level DNN,
FCN, and their ensemble): real training on the real Japanese Vowels data (few epochs), their bundles
read back by Keras and by the fast path (ONNX Runtime or NumPy) to within 1e-5, and streaming's last
answer equal to the whole sequence's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
from scipy.interpolate import interp1d

from vowels.bundle import METADATA_FILE, ONNX_FILE, write_metadata
from vowels.classifier import SpeakerClassifier
from vowels.datasets import load_japanese_vowels
from vowels.ensemble import RecipeEnsemble
from vowels.errors import BundleError, ParameterError
from vowels.inference import FastClassifier
from vowels.model import build_fcn, build_frame_network, build_network
from vowels.names import ARCHITECTURES
from vowels.recipes import RECIPES
from vowels.resampling import resample
from vowels.training import PLATEAU
from vowels.tutorial import make_classifier

HEAVY = ("tensorflow", "keras", "librosa", "sklearn", "matplotlib", "scipy.interpolate")


@pytest.fixture(scope="module")
def data():
    """A third of the training utterances (every speaker) and the first 60 test utterances."""
    train, test = load_japanese_vowels("train"), load_japanese_vowels("test")
    return train.subset(range(0, len(train), 3)), test.subset(range(60))


@pytest.fixture(scope="module")
def bundles(tmp_path_factory, data):
    """One small trained model per architecture that the fast path runs through ONNX, saved: {name: (clf, path)}."""
    train, _ = data
    settings = {
        "stacked": {"n_layers": 2, "mode": "masked", "max_epochs": 2},
        "dnn": {"architecture": "dnn", "standardize": True, "max_epochs": 2},
        "fcn": {"architecture": "fcn", "max_epochs": 3},
    }
    out = {}
    for name, params in settings.items():
        clf = SpeakerClassifier(**params, verbose=0).fit(train)
        out[name] = (clf, clf.save(tmp_path_factory.mktemp(name) / "model"))
    return out


@pytest.mark.parametrize("name", ["stacked", "dnn", "fcn"])
def test_onnx_fast_path_equals_keras(bundles, data, name):
    clf, path = bundles[name]
    _, test = data
    assert (path / ONNX_FILE).is_file() and not (path / "weights.npz").exists()
    expected = clf.predict_proba(test)
    fast = FastClassifier.load(path)
    np.testing.assert_allclose(fast.predict_proba(test), expected, atol=1e-5)
    np.testing.assert_allclose(SpeakerClassifier.load(path).predict_proba(test), expected, atol=1e-5)
    assert fast.architecture == clf.architecture
    assert list(fast.predict(test)) == list(clf.predict(test))


def test_fast_path_of_an_onnx_bundle_imports_no_tensorflow_nor_the_training_stage(bundles, data):
    _, path = bundles["fcn"]
    _, test = data
    np.save(path.parent / "x.npy", np.stack([s[:7] for s in test.sequences[:5]]))
    script = (
        "import json, sys, numpy as np\n"
        "from vowels.inference import FastClassifier\n"
        f"clf = FastClassifier.load({str(path)!r})\n"
        f"p = clf.predict_proba(list(np.load({str(path.parent / 'x.npy')!r})))\n"
        "print(json.dumps({'p': p.tolist(), 'modules': sorted(sys.modules)}))\n"
    )
    env = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    answer = json.loads(done.stdout)
    assert "onnxruntime" in answer["modules"]
    assert not [m for m in answer["modules"] if m.split(".")[0] in HEAVY or m in HEAVY]
    assert "vowels.training" not in answer["modules"]  # the fast engine reads the batching of the saved options
    clf, _ = bundles["fcn"]
    np.testing.assert_allclose(answer["p"], clf.predict_proba([s[:7] for s in test.sequences[:5]]), atol=1e-5)


def test_tampered_onnx_file_is_refused(bundles, tmp_path):
    _, path = bundles["dnn"]
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    with open(copy / ONNX_FILE, "ab") as f:
        f.write(b"\0")
    with pytest.raises(BundleError, match="sha256"):
        FastClassifier.load(copy)


def test_unknown_architecture_in_a_bundle_is_refused(bundles, tmp_path):
    _, path = bundles["dnn"]
    copy = tmp_path / "copy"
    shutil.copytree(path, copy)
    metadata = json.loads((copy / METADATA_FILE).read_text())
    metadata["params"]["architecture"] = "transformer"
    write_metadata(copy, {k: v for k, v in metadata.items() if k != "metadata_sha256"})
    with pytest.raises(BundleError, match="architecture.*one of .*; got .transformer."):
        FastClassifier.load(copy)


def test_stacked_network_has_a_sequence_layer_under_the_last():
    model = build_network(12, 9, mode="matlab", n_layers=3)
    names = [layer.name for layer in model.layers]
    assert "bilstm_1" in names and "bilstm_2" in names and "forward_lstm" in names
    assert model.get_layer("bilstm_2").output.shape[1] is None  # a sequence, one step per frame
    forward_only = build_network(12, 9, architecture="lstm", mode="masked", n_layers=2)
    assert [type(layer).__name__ for layer in forward_only.layers].count("LSTM") == 2
    assert not any(isinstance(layer, keras.layers.Bidirectional) for layer in forward_only.layers)


def test_stream_ends_at_the_whole_sequence_answer(data, tmp_path):
    train, test = data
    clf = SpeakerClassifier(architecture="lstm", mode="masked", standardize=True, max_epochs=3, verbose=0).fit(train)
    sequence = test.sequences[0]
    whole = clf.predict_proba([sequence])[0]
    for chunk in (1, 4, len(sequence)):
        rows = clf.stream_proba(sequence, chunk_frames=chunk)
        assert rows.shape == (-(-len(sequence) // chunk), len(clf.classes_))
        np.testing.assert_allclose(rows[-1], whole, atol=1e-5)
        np.testing.assert_allclose(rows.sum(axis=1), 1, atol=1e-5)
    # Each row is the answer to the frames seen so far, computed afresh.
    np.testing.assert_allclose(clf.stream_proba(sequence)[4], clf.predict_proba([sequence[:5]])[0], atol=1e-5)
    fast = FastClassifier.load(clf.save(tmp_path / "model"))
    np.testing.assert_allclose(fast.stream_proba(sequence, chunk_frames=3), clf.stream_proba(sequence, chunk_frames=3))
    assert fast.architecture == clf.to_numpy().architecture == "lstm"


def test_only_a_forward_only_lstm_without_slopes_streams(data):
    train, test = data
    bilstm = SpeakerClassifier(max_epochs=1, verbose=0).fit(train.subset(range(18)))
    with pytest.raises(ParameterError, match="forward-only"):
        bilstm.stream_proba(test.sequences[0])
    sloped = SpeakerClassifier(architecture="lstm", delta_width=3, max_epochs=1, verbose=0).fit(train.subset(range(18)))
    with pytest.raises(ParameterError, match="delta_width=0"):
        sloped.stream_proba(test.sequences[0])
    with pytest.raises(ParameterError, match="chunk_frames"):
        SpeakerClassifier(architecture="lstm", max_epochs=1, verbose=0).fit(train.subset(range(18))).stream_proba(
            test.sequences[0], chunk_frames=0
        )


def test_dnn_trains_on_frames_and_answers_with_their_mean_log_probability(data):
    train, test = data
    frame_network, sequence_network = build_frame_network(12, 9)
    assert frame_network.input_shape == (None, 12) and sequence_network.input_shape == (None, None, 12)
    sequences = test.sequences[:3]
    frames = [frame_network.predict(s, verbose=0) for s in sequences]
    expected = []
    for p in frames:
        mean = np.log(np.maximum(p, 1e-7)).mean(axis=0)
        expected.append(np.exp(mean - mean.max()) / np.exp(mean - mean.max()).sum())
    longest = max(len(s) for s in sequences)
    padded = np.zeros((3, longest, 12), dtype=np.float32)
    for i, s in enumerate(sequences):
        padded[i, : len(s)] = s
    np.testing.assert_allclose(sequence_network.predict(padded, verbose=0), expected, atol=1e-5)

    clf = SpeakerClassifier(architecture="dnn", max_epochs=1, verbose=0).fit(train)
    assert len(clf.history_.iteration_epoch) == 1 and clf.model_.name == "dnn_masked"
    # A one-frame utterance's answer is that frame's own probabilities: the frames are what was trained.
    frame = train.sequences[0][:1]
    np.testing.assert_allclose(clf.predict_proba([frame])[0].sum(), 1, atol=1e-5)


def test_resampling_is_dl4tscs_cubic_interpolation(data):
    train, _ = data
    sequences = [*train.sequences[:5], np.random.default_rng(0).standard_normal((4, 12)), train.sequences[0][:5]]
    for sequence, resampled in zip(sequences, resample(sequences, 29)):
        assert resampled.shape == (29, 12)
        grid = np.linspace(0, len(sequence) - 1, 29)
        reference = interp1d(np.arange(len(sequence)), sequence, kind="cubic", axis=0)(grid)
        np.testing.assert_allclose(resampled, reference, atol=1e-5)
    short = resample([np.ones((1, 3)), np.arange(6.0).reshape(2, 3)], 5)
    assert [s.shape for s in short] == [(5, 3), (5, 3)]
    np.testing.assert_allclose(short[1][:, 0], np.linspace(0, 3, 5))
    three = np.array([[0.0], [1.0], [0.0]])  # a parabola through three frames, as make_interp_spline(k=2)
    np.testing.assert_allclose(resample([three], 5)[0][:, 0], 1 - (np.linspace(-1, 1, 5)) ** 2, atol=1e-6)
    with pytest.raises(ParameterError, match="length"):
        resample(sequences, 0)


def test_fcn_is_wang_et_al_trained_as_dl4tsc_does(data):
    model = build_fcn(12, 9)
    convolutions = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv1D)]
    assert [(c.filters, c.kernel_size[0], c.padding) for c in convolutions] == [
        (128, 8, "same"),
        (256, 5, "same"),
        (128, 3, "same"),
    ]
    assert sum(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers) == 3
    options = SpeakerClassifier(architecture="fcn").options_
    assert (options.max_epochs, options.mini_batch_size, options.initial_learn_rate) == (2000, 16, 1e-3)
    assert options.gradient_threshold is None and options.shuffle == "every-epoch"
    assert PLATEAU == {"factor": 0.5, "patience": 50, "min_lr": 1e-4}
    train, _ = data
    clf = SpeakerClassifier(architecture="fcn", max_epochs=2, verbose=0).fit(train)
    assert clf.resample_length_ == max(len(s) for s in train.sequences)


def test_every_recipe_is_named_and_builds_an_estimator():
    for name in RECIPES:
        clf = make_classifier(name, random_state=3, verbose=0)
        assert clf.get_params()["random_state"] == 3
    assert {RECIPES[n].get("architecture", "bilstm") for n in RECIPES if "recipes" not in RECIPES[n]} == set(
        ARCHITECTURES
    )
    with pytest.raises(ParameterError, match="architecture must be one of"):
        SpeakerClassifier(architecture="rnn").fit([np.zeros((3, 2))] * 2, ["a", "b"])


def test_ensemble_averages_its_members_and_round_trips(data, tmp_path):
    train, test = data
    ensemble = RecipeEnsemble(recipes=("dnn", "lstm"), random_state=1, verbose=0)
    for member in ("dnn", "lstm"):
        assert "recipes" not in RECIPES[member]
    ensemble.fit(train)
    members = [m.predict_proba(test) for m in ensemble.members_]
    np.testing.assert_allclose(ensemble.predict_proba(test), np.mean(members, axis=0), atol=1e-6)
    assert [m.random_state for m in ensemble.members_] == [1, 1]
    path = ensemble.save(tmp_path / "ensemble")
    for engine in ("keras", "fast"):
        loaded = RecipeEnsemble.load(path, engine=engine)
        np.testing.assert_allclose(loaded.predict_proba(test), ensemble.predict_proba(test), atol=1e-5)
    with open(path / "member_0" / METADATA_FILE, "a") as f:
        f.write(" ")
    with pytest.raises(BundleError, match="member_0"):
        RecipeEnsemble.load(path)
    with pytest.raises(ParameterError, match="at least two"):
        RecipeEnsemble(recipes=("fcn",)).fit(train)


@pytest.fixture(scope="module")
def streaming_model(tmp_path_factory, fsdd_dir):
    """A forward-only LSTM trained on real recordings of three FSDD speakers (few epochs), saved."""
    from vowels.recordings import RecordingClassifier

    root = tmp_path_factory.mktemp("fsdd")
    for speaker in ("george", "jackson", "lucas"):
        (root / speaker).mkdir()
        for digit in range(3):
            for take in range(10, 16):
                name = f"{digit}_{speaker}_{take}.wav"
                shutil.copyfile(fsdd_dir / speaker / name, root / speaker / name)
    model = RecordingClassifier(architecture="lstm", max_epochs=8, validation_fraction=0, threshold=-1, verbose=0)
    return model.fit(root).save(tmp_path_factory.mktemp("models") / "lstm"), root


def test_classify_stream_prints_answers_that_end_at_the_final_one(streaming_model, fsdd_dir, capsys):
    from vowels.cli import main

    streaming_model, _ = streaming_model
    recording = fsdd_dir / "lucas" / "7_lucas_40.wav"
    assert main(["classify", "--model", str(streaming_model), "--stream", "--chunk", "0.05", str(recording)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"{recording}, as it arrives:"
    steps = [line.split() for line in lines[1:-1]]
    times = [float(step[0]) for step in steps]
    assert len(steps) >= 3 and times == sorted(times) and times[0] == pytest.approx(0.05, abs=0.011)
    final = lines[-1]
    speaker, p = steps[-1][2], steps[-1][3]
    assert final.startswith(f"{recording}: {speaker} ") and f" {p};" in final


def test_stream_needs_a_forward_only_model(streaming_model, fsdd_dir, tmp_path, capsys):
    from vowels.cli import main
    from vowels.recordings import RecordingClassifier

    _, folder = streaming_model
    bilstm = RecordingClassifier(max_epochs=1, validation_fraction=0, threshold=-1, verbose=0)
    bilstm_path = bilstm.fit(folder).save(tmp_path / "bilstm")
    recording = str(fsdd_dir / "george" / "5_george_20.wav")
    assert main(["classify", "--model", str(bilstm_path), "--stream", recording]) == 2
    assert "--stream needs a forward-only model" in capsys.readouterr().err
    assert main(["classify", "--model", str(bilstm_path), "--chunk", "0.2", recording]) == 2
    assert "--chunk sets the step of --stream" in capsys.readouterr().err
    assert main(["plot", "stream", "--model", str(bilstm_path), "--audio", recording, "--out", str(tmp_path)]) == 2
    assert "forward-only" in capsys.readouterr().err
    with pytest.raises(ParameterError, match="architecture must be one of"):
        RecordingClassifier(architecture="fcn").fit(folder)


def test_stream_figure_draws_each_answer(streaming_model, fsdd_dir, tmp_path):
    from vowels.extraction import extract_files
    from vowels.plots import stream_data, write_figures
    from vowels.recordings import RecordingClassifier
    from vowels.workflows.figures import figure_sources, stream_of_file

    streaming_model, _ = streaming_model
    recording = fsdd_dir / "jackson" / "8_jackson_30.wav"
    data = stream_data(**stream_of_file(streaming_model, recording, chunk_seconds=0.1))
    model = RecordingClassifier.load(streaming_model)
    (features,), _ = extract_files([recording], model.feature_config_)
    np.testing.assert_allclose(data.probabilities[-1], model.predict_proba([features])[0], atol=1e-5)
    assert data.answers[-1] == model.classes_[np.argmax(data.probabilities[-1])]
    assert data.seconds[-1] == pytest.approx(len(features) * model.feature_config_.hop_ms / 1000)
    written = write_figures(figure_sources(["stream"], model=streaming_model, audio=recording), tmp_path)
    assert written == [tmp_path / "stream.png"] and written[0].stat().st_size > 10_000


def test_bundle_metadata_is_parsed_once_and_needs_the_architecture(bundles, tmp_path):
    from vowels.bundle import read_bundle

    _, path = bundles["fcn"]
    metadata = read_bundle(path)
    assert (metadata.architecture, metadata.mode, metadata.fast_file) == ("fcn", None, ONNX_FILE)
    assert metadata.n_features == 12 and len(metadata.classes) == 9 and not metadata.trained_on_recordings
    assert metadata.options["max_epochs"] == 3
    copy = tmp_path / "old"
    shutil.copytree(bundles["stacked"][1], copy)
    entries = json.loads((copy / METADATA_FILE).read_text())
    del entries["params"]["architecture"]
    write_metadata(copy, {k: v for k, v in entries.items() if k != "metadata_sha256"})
    for load in (read_bundle, SpeakerClassifier.load, FastClassifier.load):
        with pytest.raises(BundleError, match=r"'params.architecture' must be one of \['bilstm'.*; got None"):
            load(copy)


def test_an_ensemble_folder_is_evaluated_drawn_and_reported(data, tmp_path, capsys):
    from vowels.cli import main

    train, _ = data
    path = RecipeEnsemble(recipes=("dnn", "lstm"), verbose=0).fit(train).save(tmp_path / "ensemble")
    assert main(["evaluate", "--model", str(path), "--json"]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["n"] == 370 and 0 < scored["accuracy"] <= 1
    assert main(["plot", "confusion", "--model", str(path), "--out", str(tmp_path / "figures")]) == 0
    assert (tmp_path / "figures" / "confusion.png").is_file()
    assert main(["report", "--model", str(path), "--out", str(tmp_path / "report")]) == 0
    text = (tmp_path / "report" / "report.md").read_text()
    assert "ensemble of recipes dnn and lstm" in text and "| ensemble | dnn, lstm |" in text
