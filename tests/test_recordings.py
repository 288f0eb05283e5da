"""vowels.recordings and the extract / train / classify / evaluate DIR commands, on real files.

Speakers are voices rendered by espeak-ng (voice variants and pitch settings; words and
vowels as content) and synthetic vowels of known pitch and formants. Models are trained on
one set of utterances per speaker and classify unseen ones. The networks are small (32
hidden units, 20 epochs, learning rate 0.01) so the module runs in about a minute.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import lfilter

from vowels.bundle import write_metadata
from vowels.cli import main
from vowels.errors import BundleError, DataError, ParameterError
from vowels.extraction import extract_files, list_speaker_files, load_features, load_speaker_folders, save_features
from vowels.features import FeatureConfig
from vowels.names import UNKNOWN
from vowels.openset import SCORING, ThresholdChoice
from vowels.preprocessing import Preprocessing
from vowels.recordings import RecordingClassifier

VOICES = {  # speaker -> (espeak-ng voice, pitch 0-99)
    "m3": ("en+m3", 25),
    "m7": ("en+m7", 55),
    "f2": ("en+f2", 50),
    "m1": ("en-us+m1", 40),
    "f4": ("en+f4", 75),
}
TRAIN_WORDS = [
    "ah",
    "ee",
    "oh",
    "hello",
    "water",
    "seven",
    "morning",
    "yellow",
    "open",
    "river",
    "garden",
    "people",
    "table",
    "summer",
    "basket",
    "coffee",
    "mountain",
    "silver",
    "pencil",
    "orange",
    "window",
    "candle",
    "monkey",
    "rainbow",
]
TEST_WORDS = ["oo", "eh", "market", "number", "letter", "simple", "forest", "doctor", "button", "paper"]
SMALL = {"n_hidden": 32, "max_epochs": 20, "mini_batch_size": 8, "learning_rate": 0.01}


def render_voices(root, words):
    for speaker, (voice, pitch) in VOICES.items():
        folder = root / speaker
        folder.mkdir(parents=True)
        for word in words:
            subprocess.run(
                ["espeak-ng", "-v", voice, "-p", str(pitch), "-w", str(folder / f"{word}.wav"), word],
                check=True,
                capture_output=True,
            )


def synthetic_vowel(f0, formants, *, rng, sr=16000, seconds=0.35):
    """A pulse train at f0 (Hz, with 5 Hz vibrato) through resonators at `formants` (Hz)."""
    n = round(sr * seconds)
    t = np.arange(n) / sr
    f = f0 * (1 + 0.02 * np.sin(2 * np.pi * 5 * t)) * (1 + 0.02 * rng.standard_normal())
    y = lfilter([1.0], [1.0, -0.95], np.diff(np.floor(np.cumsum(f) / sr), prepend=0.0))
    for formant, bandwidth in zip(formants, (80, 100, 120), strict=True):
        r, theta = np.exp(-np.pi * bandwidth / sr), 2 * np.pi * formant / sr
        y = lfilter([1 - r], [1, -2 * r * np.cos(theta), r * r], y)
    y = 0.5 * y / np.max(np.abs(y)) + 0.002 * rng.standard_normal(n)  # noise 48 dB below the peak
    return y.astype(np.float32)


VOWEL_FORMANTS = {
    "a": (730, 1090, 2440),
    "e": (530, 1840, 2480),
    "i": (270, 2290, 3010),
    "o": (570, 840, 2410),
    "u": (300, 870, 2240),
}
SYNTHETIC_SPEAKERS = {"low": (105, 0.95), "mid": (170, 1.1), "high": (240, 1.25)}  # f0 Hz, formant scale


def write_synthetic(root, *, per_vowel, seed):
    rng = np.random.default_rng(seed)
    for speaker, (f0, scale) in SYNTHETIC_SPEAKERS.items():
        (root / speaker).mkdir(parents=True)
        for vowel, formants in VOWEL_FORMANTS.items():
            for k in range(per_vowel):
                y = synthetic_vowel(f0, np.array(formants) * scale, rng=rng, seconds=rng.uniform(0.25, 0.5))
                sf.write(root / speaker / f"{vowel}{k}.wav", y, 16000)


@pytest.fixture(scope="module")
def voices(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    root = tmp_path_factory.mktemp("voices")
    render_voices(root / "train", TRAIN_WORDS)
    render_voices(root / "test", TEST_WORDS)
    return root


@pytest.fixture(scope="module")
def trained(voices, tmp_path_factory):
    """A small model trained on the espeak voices (seed 0), and its saved bundle."""
    model = RecordingClassifier(random_state=0, **SMALL).fit(voices / "train")
    bundle = model.save(tmp_path_factory.mktemp("models") / "voices")
    return model, bundle


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


# --- accuracy on unseen utterances -------------------------------------------------------


@pytest.mark.slow
def test_espeak_voices_are_recognised_in_unseen_words(trained, voices):
    model, _ = trained
    evaluation, failures = model.evaluate_folder(voices / "test")
    assert failures == []
    assert evaluation.n_enrolled == len(VOICES) * len(TEST_WORDS) and evaluation.n_strangers == 0
    assert evaluation.closed_set.accuracy >= 0.9, evaluation.closed_set.confusion
    v = model.validation_
    assert v["n_validation"] == 24 and v["n_train"] == 96  # 20 % of each speaker's 24, stratified
    assert v["refit"] and v["n_final_train"] == 120 and model.threshold_choice_.how == "calibrated"
    point = model.operating_point_
    assert point.rule == "eer" and model.threshold_ == point.threshold
    assert len(point.genuine) + len(point.impostor) == 5 * 24  # every held-out recording, once per fold


@pytest.mark.slow
def test_synthetic_vowels_of_known_pitch_and_formants_are_recognised(tmp_path):
    write_synthetic(tmp_path / "train", per_vowel=4, seed=0)
    write_synthetic(tmp_path / "test", per_vowel=2, seed=1)
    config = FeatureConfig(kind="lpcc")
    model = RecordingClassifier(feature_config=config, random_state=0, validation_fraction=0, **SMALL)
    model.fit(tmp_path / "train")
    evaluation, _ = model.evaluate_folder(tmp_path / "test")
    assert evaluation.n_enrolled == 30
    assert evaluation.closed_set.accuracy >= 0.9, evaluation.closed_set.confusion


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_espeak_accuracy_holds_over_seeds(voices, seed):
    model = RecordingClassifier(random_state=seed, **SMALL).fit(voices / "train")
    evaluation, _ = model.evaluate_folder(voices / "test")
    assert evaluation.closed_set.accuracy >= 0.9, (seed, evaluation.closed_set.confusion)


# --- one answer from Python, from the CLI, and after save / load ------------------------


def test_same_answer_from_python_cli_and_reloaded_bundle(trained, voices, capsys):
    model, bundle = trained
    files = sorted(str(p) for p in (voices / "test").glob("*/market.wav")) + [str(voices / "test/f2/oo.wav")]
    before, failures = model.classify_files(files)
    assert failures == []
    after, _ = RecordingClassifier.load(bundle).classify_files(files)
    status, out, err = run(capsys, "classify", "--model", bundle, *files, "--json")
    assert status == 0 and err == ""
    from_cli = json.loads(out)
    for a, b, c in zip(before, after, from_cli, strict=True):
        assert a.path == b.path == c["path"]
        assert a.speaker == b.speaker == c["speaker"]
        assert a.runner_up == b.runner_up == c["runner_up"]
        assert abs(a.probability - b.probability) < 1e-5 and abs(a.probability - c["probability"]) < 1e-5
        assert abs(a.score - b.score) < 1e-4 and abs(a.score - c["score"]) < 1e-4
        assert a.probability >= a.runner_up_probability
        assert a.threshold == b.threshold == c["threshold"] == model.threshold_


def test_bundle_stores_the_feature_config_preprocessing_and_threshold(trained):
    """The features' standardisation is the network's own preprocessing, saved once, as SpeakerClassifier saves it."""
    model, bundle = trained
    metadata = json.loads((bundle / "metadata.json").read_text())
    assert FeatureConfig.from_dict(metadata["features"]) == model.feature_config_ == FeatureConfig()
    assert "standardization" not in metadata
    assert Preprocessing.from_dict(metadata["preprocessing"]) == model.preprocessing_
    assert model.preprocessing_.delta_width == 0 and len(model.preprocessing_.standardization.mean) == 13
    assert metadata["n_features"] == 13
    assert (metadata["params"]["standardize"], metadata["params"]["delta_width"]) == (True, 0)
    assert metadata["unknown_threshold"] == model.threshold_ == metadata["open_set"]["threshold_choice"]["threshold"]
    point = metadata["open_set"]["operating_point"]
    assert point["rule"] == "eer" and point["threshold"] == model.threshold_
    assert point["n_genuine"] == len(point["genuine"]) > 0 and point["n_impostor"] == len(point["impostor"]) > 0
    assert metadata["open_set"]["scoring"] == SCORING
    assert model.fusion_ is not None  # the default fuses the speaker encoder's score, kept beside the references
    assert set(metadata["extra_files"]) == {"openset.npz", "voiceprints.npz"}
    assert metadata["open_set"]["fusion"] == model.fusion_.to_dict()
    assert metadata["source_rates"] == {"22050": len(VOICES) * len(TRAIN_WORDS)}  # espeak-ng's rate
    assert metadata["params"]["mode"] == "masked"
    assert metadata["validation"]["accuracy"] == model.validation_["accuracy"]


def test_training_settings_and_feature_settings_go_by_one_name_each(trained):
    """max_epochs, mini_batch_size, learning_rate as in SpeakerClassifier; standardize; dsp_ (not backend)."""
    import dataclasses

    model, bundle = trained
    names = {f.name for f in dataclasses.fields(RecordingClassifier) if f.init}
    assert {"max_epochs", "mini_batch_size", "learning_rate"} <= names
    assert not names & {"epochs", "batch_size", "learn_rate"}
    with pytest.raises(TypeError, match="unexpected keyword argument 'epochs'"):
        RecordingClassifier(epochs=3)
    params = model.classifier_.get_params()
    assert (params["max_epochs"], params["mini_batch_size"], params["learning_rate"]) == (20, 8, 0.01)
    metadata = json.loads((bundle / "metadata.json").read_text())
    options = metadata["params"]["options"]
    assert (options["max_epochs"], options["mini_batch_size"], options["initial_learn_rate"]) == (20, 8, 0.01)
    assert metadata["features"]["standardize"] is True and "normalize" not in metadata["features"]
    for engine, dsp in (("keras", "librosa"), ("fast", "numpy")):
        loaded = RecordingClassifier.load(bundle, engine=engine)
        assert (loaded.max_epochs, loaded.mini_batch_size, loaded.learning_rate) == (20, 8, 0.01)
        assert loaded.dsp_ == dsp and not hasattr(loaded, "feature_backend_")


def test_bad_training_setting_is_refused_by_its_name_before_any_work(tmp_path):
    for bad, message in (
        ({"max_epochs": 0}, "max_epochs must be a whole number >= 1; got 0"),
        ({"mini_batch_size": 2.5}, "mini_batch_size must be a whole number >= 1; got 2.5"),
        ({"learning_rate": -1}, "learning_rate must be a number > 0; got -1"),
    ):
        with pytest.raises(ParameterError, match=re.escape(message)):
            RecordingClassifier(**bad).fit(tmp_path / "no such folder")


def test_a_bundle_keeps_every_parameter_the_model_was_given(voices, tmp_path):
    """Saved as `get_params()`, loaded as ``cls(**params)``, not a hand-picked few."""
    model = RecordingClassifier(n_hidden=4, max_epochs=1, validation_fraction=0, threshold=0.3, calibration_folds=3)
    model.voice_encoder, model.window_seconds, model.random_state, model.verbose = False, None, 2, 0
    loaded = RecordingClassifier.load(model.fit(voices / "test").save(tmp_path / "model"))
    assert loaded.get_params() == {**model.get_params(), "feature_config": model.feature_config_, "verbose": "auto"}
    assert loaded.threshold_choice_ == model.threshold_choice_ == ThresholdChoice("given", 0.3)


def test_bundle_of_an_older_format_version_is_refused_by_both_engines_naming_the_command(
    trained, voices, tmp_path, capsys
):
    """Version 1 never shipped: its bundles are refused with what to run, not read through shims."""
    old = _copy_bundle(trained[1], tmp_path)
    metadata = json.loads((old / "metadata.json").read_text())
    del metadata["metadata_sha256"]
    write_metadata(old, {**metadata, "format_version": 1})
    expected = (
        f"{old / 'metadata.json'}: format version 1, written by an older vowels (this one reads version 2); "
        "retrain or regenerate it with: vowels train (or vowels reproduce)."
    )
    for engine in ("keras", "fast"):
        with pytest.raises(BundleError) as refused:
            RecordingClassifier.load(old, engine=engine)
        assert str(refused.value) == expected
    status, _, err = run(capsys, "classify", "--model", old, voices / "test/m1/paper.wav")
    assert (status, err) == (2, f"vowels: error: {expected}\n")


_LOAD_AS_NOBODY = """
import os, sys
if not os.access(os.path.dirname(sys.argv[1]), os.X_OK):
    sys.exit(f"cannot enter the folder of {sys.argv[1]} as uid {os.getuid()}")
from vowels.errors import DataError
from vowels.extraction import load_features
try:
    load_features(sys.argv[1])
except DataError as exc:
    print(str(exc))
"""


def test_unreadable_features_file_says_permission_denied(as_unprivileged):
    """Worded as the audio reader and the UCI parser word it (vowels.errors.unreadable)."""
    command = as_unprivileged([sys.executable, "-c", _LOAD_AS_NOBODY])
    folder = tempfile.mkdtemp(prefix="vowels-permissions-")  # pytest's tmp_path is closed to other users
    path = os.path.join(folder, "features.npz")
    try:
        os.chmod(folder, 0o755)
        with open(path, "wb") as file:
            file.write(b"PK")
        os.chmod(path, 0o000)
        result = subprocess.run([*command, path], capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(folder)
    if result.returncode != 0:
        pytest.skip(f"cannot run the package as an unprivileged user here: {result.stderr.strip().splitlines()[-1:]}")
    assert result.stdout == f"{path}: cannot be read: permission denied; give your user read access to it.\n"


def test_features_file_of_an_older_format_version_is_refused_naming_the_command(tmp_path):
    from vowels.datasets import Utterances
    from vowels.extraction import Extraction

    rng = np.random.default_rng(0)
    utterances = Utterances(
        sequences=[rng.standard_normal((n, 12)).astype(np.float32) for n in (5, 7, 6)],
        labels=np.array(["a", "b", "a"]),
        speakers=("a", "b"),
        sources=("a/1.wav", "b/1.wav", "a/2.wav"),
    )
    path = save_features(tmp_path / "new.npz", Extraction(utterances, FeatureConfig(kind="lpcc"), (), {16000: 3}))
    assert len(load_features(path).utterances) == 3
    with np.load(path, allow_pickle=False) as data:
        arrays = {k: data[k] for k in data.files}
    np.savez_compressed(tmp_path / "old.npz", **{**arrays, "format_version": np.array(1)})
    with pytest.raises(DataError) as refused:
        load_features(tmp_path / "old.npz")
    assert str(refused.value) == (
        f"{tmp_path / 'old.npz'}: format version 1, written by an older vowels (this one reads version 2); "
        "retrain or regenerate it with: vowels extract."
    )


def test_cli_evaluate_dir_matches_python(trained, voices, capsys):
    model, bundle = trained
    evaluation, _ = model.evaluate_folder(voices / "test")
    status, out, _ = run(capsys, "evaluate", "--model", bundle, voices / "test")
    assert status == 0
    closed = evaluation.closed_set
    correct = closed.n - closed.n_errors
    assert f"Closed-set accuracy: {100 * closed.accuracy:.2f}% ({correct}/{closed.n} recordings" in out
    assert f"rejected as unknown {100 * evaluation.false_rejection:.2f}%" in out
    assert "Strangers rejected" not in out and "Equal error rate" not in out  # no strangers in the folder


def test_classify_reports_bad_files_and_classifies_the_good(trained, voices, tmp_path, capsys):
    _, bundle = trained
    empty, text = tmp_path / "empty.wav", tmp_path / "notes.flac"
    empty.write_bytes(b"")
    text.write_text("not audio")
    good = voices / "test/m1/paper.wav"
    status, out, err = run(capsys, "classify", "--model", bundle, empty, good, text, "--csv")
    assert status == 1
    assert err.splitlines() == [
        f"vowels: error: {empty}: empty file (0 bytes).",
        f"vowels: error: {text}: not an audio file (libsndfile: Format not recognised).",
    ]
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["path"] for r in rows] == [str(good)]
    assert set(rows[0]) == {
        "path",
        "speaker",
        "probability",
        "nearest",
        "runner_up",
        "runner_up_probability",
        "score",
        "threshold",
        "sample_rate",
    }
    status, out, _ = run(capsys, "classify", "--model", bundle, good)
    assert status == 0 and out.startswith(f"{good}: ") and "runner-up" in out


def test_classify_takes_folders_recursively_in_a_stable_order(trained, voices, tmp_path, capsys):
    """A folder stands for the audio files under it (subfolders too, sorted by path, other files left out),
    in the order the arguments give, mixed with files; each answer names the file by its path."""
    _, bundle = trained
    held = tmp_path / "held-out"
    (held / "strangers" / "later").mkdir(parents=True)
    shutil.copyfile(voices / "test/m1/paper.wav", held / "strangers" / "b.wav")
    shutil.copyfile(voices / "test/f2/paper.wav", held / "strangers" / "a.wav")
    shutil.copyfile(voices / "test/m3/paper.wav", held / "strangers" / "later" / "c.wav")
    shutil.copyfile(voices / "test/m7/paper.wav", held / "strangers" / ".hidden.wav")
    (held / "strangers" / "notes.txt").write_text("not audio")
    (held / "empty").mkdir()
    single = voices / "test/f4/paper.wav"
    status, out, err = run(capsys, "classify", "--model", bundle, single, f"{held}/strangers/", held / "empty")
    assert status == 1
    assert err.splitlines() == [f"vowels: error: {held / 'empty'}: folder holds no audio files; skipped."]
    paths = [line.split(": ")[0] for line in out.splitlines()]
    strangers = held / "strangers"
    assert paths == [str(single), str(strangers / "a.wav"), str(strangers / "b.wav"), str(strangers / "later/c.wav")]
    status, out, err = run(capsys, "classify", "--model", bundle, held / "empty")
    assert status == 2 and out == ""
    assert err.strip().endswith("no audio files to classify in the folders given")


def test_threshold_answers_unknown_below_it(trained, voices, capsys):
    model, bundle = trained
    files = [str(p) for p in sorted((voices / "test").glob("*/*.wav"))[:12]]
    results, _ = model.classify_files(files, threshold=-1)
    assert all(r.speaker == r.nearest != UNKNOWN for r in results)  # -1 always names a speaker
    threshold = float(np.median([r.score for r in results]))
    status, out, _ = run(capsys, "classify", "--model", bundle, *files, "--json", "--threshold", threshold)
    assert status == 0
    answers = json.loads(out)
    for r in answers:
        assert (r["speaker"] == UNKNOWN) == (r["score"] < threshold)
        assert r["nearest"] in VOICES
    assert any(r["speaker"] == UNKNOWN for r in answers) and any(r["speaker"] != UNKNOWN for r in answers)
    status, _, err = run(capsys, "classify", "--model", bundle, *files, "--threshold", "1.5")
    assert status == 2 and "must be a score in [-1, 1]; got '1.5'" in err


# --- the commands end to end, small ------------------------------------------------------


@pytest.mark.slow
def test_extract_then_train_from_features_file(voices, tmp_path, capsys):
    feats, bundle = tmp_path / "feats.npz", tmp_path / "model"
    status, out, _ = run(capsys, "extract", voices / "train", "--out", feats, "--kind", "lpcc", "-q")
    assert status == 0
    assert out.startswith(f"Extracted {5 * len(TRAIN_WORDS)} recordings of 5 speakers (lpcc, 12 features")
    status, out, _ = run(
        capsys, "train", feats, "--out", bundle, "--epochs", 2, "--hidden", 8, "--threshold", "0.25", "-q"
    )
    assert status == 0, out
    assert "Validation accuracy: " in out and "(" in out and "/24 held-out recordings, closed set)" in out
    assert "Unknown-speaker threshold 0.250 (given)." in out
    metadata = json.loads((bundle / "metadata.json").read_text())
    assert metadata["features"]["kind"] == "lpcc"
    assert metadata["unknown_threshold"] == 0.25 and metadata["open_set"]["operating_point"] is None
    status, _, err = run(capsys, "train", feats, "--out", tmp_path / "m2", "--kind", "mfcc", "-q")
    assert status == 2 and err == (
        f"vowels train: --kind mfcc does not match {feats}, whose features were extracted with --kind lpcc; "
        "drop --kind, or run 'vowels extract' again with it.\n"
    )
    assert not (tmp_path / "m2").exists()
    status, _, err = run(capsys, "train", feats, "--out", bundle, "--epochs", 1)
    assert status == 2 and err == f"vowels: error: {bundle}: output already exists; pass --force to replace it.\n"
    status, _, err = run(capsys, "extract", voices / "train", "--out", feats)
    assert status == 2 and "already exists" in err


def test_features_file_round_trips_without_pickle(voices, tmp_path):
    extraction = load_speaker_folders(voices / "test", FeatureConfig(kind="lpcc", deltas=True))
    path = save_features(tmp_path / "f.npz", extraction)
    loaded = load_features(path)
    assert loaded.config == extraction.config
    assert loaded.source_rates == extraction.source_rates == {22050: len(VOICES) * len(TEST_WORDS)}
    assert loaded.utterances.speakers == extraction.utterances.speakers == tuple(sorted(VOICES))
    assert loaded.utterances.sources == extraction.utterances.sources
    np.testing.assert_array_equal(loaded.utterances.labels, extraction.utterances.labels)
    for a, b in zip(loaded.utterances.sequences, extraction.utterances.sequences, strict=True):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == np.float32 and a.shape[1] == 12  # the coefficients; the classifier appends the deltas
    with np.load(path, allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)


@pytest.mark.slow
def test_parallel_jobs_give_the_same_features(voices):
    files = sorted((voices / "test").glob("*/*.wav"))[:6]
    config = FeatureConfig()
    one, _ = extract_files(files, config, n_jobs=1)
    done = []
    two, _ = extract_files(files, config, n_jobs=2, progress=lambda d, total: done.append((d, total)))
    assert done == [(d, 6) for d in range(1, 7)]
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_extraction_runs_on_a_dask_cluster_through_joblib(voices, tmp_path):
    from dask.distributed import Client, LocalCluster, get_task_stream
    from joblib import parallel_config

    files = sorted((voices / "test").glob("*/*.wav"))[:6]
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF not audio")
    config = FeatureConfig()
    here, _ = extract_files(files, config)
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
        parallel_config(backend="dask"),
        get_task_stream(client) as tasks,
    ):
        there, failures = extract_files([*files, bad], config, n_jobs=-1)
        workers = set(client.scheduler_info()["workers"])
    assert len(tasks.data) >= len(files) + 1  # every file was a task on the cluster
    assert {task["worker"] for task in tasks.data} <= workers and len(workers) == 2
    assert there[-1] is None and [f.path for f in failures] == [str(bad)]
    for a, b in zip(here, there[:-1], strict=True):
        np.testing.assert_array_equal(a, b)


# --- bad folders, bad files, bad bundles -------------------------------------------------


def test_bad_files_in_a_folder_are_skipped_and_reported(voices, tmp_path):
    shutil.copytree(voices / "test", tmp_path / "data")
    (tmp_path / "data/f2/broken.wav").write_bytes(b"RIFF1234WAVE")
    (tmp_path / "data/m1/.hidden.wav").write_bytes(b"")  # hidden files are not recordings
    extraction = load_speaker_folders(tmp_path / "data")
    assert len(extraction.utterances) == 5 * len(TEST_WORDS)
    assert [f.path for f in extraction.failures] == [str(tmp_path / "data/f2/broken.wav")]
    assert extraction.failures[0].message.startswith(f"{tmp_path / 'data/f2/broken.wav'}: ")


def test_folder_with_one_speaker_is_an_error(tmp_path):
    (tmp_path / "alice").mkdir()
    sf.write(tmp_path / "alice/a.wav", np.zeros(100), 16000)
    with pytest.raises(DataError, match=r"needs at least 2 speaker subfolders .*found 1 \(alice\)"):
        list_speaker_files(tmp_path)


def test_speaker_with_no_files_is_an_error(voices, tmp_path):
    shutil.copytree(voices / "test", tmp_path / "data")
    (tmp_path / "data/zoe").mkdir()
    with pytest.raises(DataError, match=f"^{tmp_path / 'data/zoe'}: speaker folder holds no recordings"):
        load_speaker_folders(tmp_path / "data")


def test_speaker_whose_every_file_fails_is_an_error(voices, tmp_path, capsys):
    shutil.copytree(voices / "test", tmp_path / "data")
    (tmp_path / "data/zoe").mkdir()
    (tmp_path / "data/zoe/silent.wav").write_bytes(b"")
    status, _, err = run(capsys, "train", tmp_path / "data", "--out", tmp_path / "m", "-q")
    assert status == 2
    assert err == (
        f"vowels: error: {tmp_path / 'data/zoe'}: none of this speaker's recordings could be used "
        f"(first problem: {tmp_path / 'data/zoe/silent.wav'}: empty file (0 bytes).).\n"
    )


def _copy_bundle(bundle, tmp_path):
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    return copy


def test_bundle_missing_a_file_is_an_error(trained, voices, tmp_path, capsys):
    copy = _copy_bundle(trained[1], tmp_path)
    (copy / "model.keras").unlink()
    status, out, err = run(capsys, "classify", "--model", copy, voices / "test/m1/paper.wav")
    assert status == 2 and out == ""
    assert err == f"vowels: error: {copy}: bundle is incomplete, model.keras is missing; retrain or re-copy it.\n"


def test_tampered_bundle_is_an_error(trained, voices, tmp_path, capsys):
    copy = _copy_bundle(trained[1], tmp_path)
    with open(copy / "model.keras", "ab") as handle:
        handle.write(b"\0")
    status, _, err = run(capsys, "evaluate", "--model", copy, voices / "test")
    assert status == 2
    assert err.startswith(f"vowels: error: {copy / 'model.keras'}: sha256 ") and "was changed or damaged" in err


def test_bundle_of_another_format_version_is_an_error(trained, voices, tmp_path, capsys):
    copy = _copy_bundle(trained[1], tmp_path)
    metadata = json.loads((copy / "metadata.json").read_text())
    metadata["format_version"] = 99
    write_metadata(copy, metadata)
    status, _, err = run(capsys, "classify", "--model", copy, voices / "test/m1/paper.wav")
    assert status == 2
    assert "format version 99, written by a newer vowels" in err and len(err.splitlines()) == 1


@pytest.mark.slow
def test_japanese_vowels_bundle_cannot_classify_recordings(tmp_path, voices, capsys):
    from vowels.classifier import SpeakerClassifier
    from vowels.training import TrainingOptions

    rng = np.random.default_rng(0)
    clf = SpeakerClassifier(n_hidden=4, options=TrainingOptions(max_epochs=1))
    clf.fit([rng.standard_normal((5, 12)) for _ in range(4)], ["1", "2", "1", "2"])
    clf.save(tmp_path / "jv")
    with pytest.raises(BundleError, match="trained on Japanese Vowels sequences, not recordings"):
        RecordingClassifier.load(tmp_path / "jv")
    status, _, err = run(capsys, "classify", "--model", tmp_path / "jv", voices / "test/m1/paper.wav")
    assert status == 2 and "train one with 'vowels train DIR'" in err


def test_speaker_named_unknown_is_refused(voices, tmp_path):
    shutil.copytree(voices / "test", tmp_path / "data")
    (tmp_path / "data/m1").rename(tmp_path / "data" / UNKNOWN)
    with pytest.raises(DataError, match="a speaker may not be named 'unknown'"):
        RecordingClassifier(**SMALL).fit(tmp_path / "data")
