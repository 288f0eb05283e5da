"""Robustness fixes of issue 17: worker and seed bounds, non-UTF-8 file names, --out checked first,
plain speaker names in messages."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vowels.cli import main
from vowels.errors import DataError, ParameterError
from vowels.extraction import extract_files
from vowels.features import FeatureConfig
from vowels.recordings import RecordingClassifier

BAD_NAME = b"bad\xffbyte.wav"
BAD_SHOWN = "bad\\xffbyte.wav"


def _run(*args: str) -> subprocess.CompletedProcess:
    # A strict stdout, as under a UTF-8 locale other than C.UTF-8: a surrogate escape printed there crashes.
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}
    return subprocess.run([sys.executable, "-m", "vowels", *args], capture_output=True, text=True, timeout=120, env=env)


def _vowels_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("vowels")]


@pytest.fixture
def one_cpu(monkeypatch):
    """A process allowed on one CPU only."""
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 1)


# 1. --workers is capped at the CPUs available


def test_extract_caps_workers_at_the_cpus_with_one_warning(tmp_path, copy_fsdd, one_cpu, capsys):
    folder = copy_fsdd(tmp_path / "d", ["george", "jackson"], [0], [10])
    out = tmp_path / "f.npz"
    assert main(["extract", str(folder), "--out", str(out), "--workers", "1000", "--quiet"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warnings == ["vowels: warning: --workers 1000 is more than the 1 CPUs available to this process; using 1."]
    assert out.is_file()


def test_extract_files_caps_workers_with_a_warning(tmp_path, copy_fsdd, one_cpu):
    folder = copy_fsdd(tmp_path / "d", ["george"], [0], [10, 11])
    paths = sorted((folder / "george").iterdir())
    with pytest.warns(RuntimeWarning, match=r"n_jobs=400 is more than the 1 CPUs available .*; using 1\."):
        features, failures = extract_files(paths, FeatureConfig(sample_rate=8000), n_jobs=400)
    assert failures == [] and all(f is not None for f in features)


# 2. --seeds and --seed are bounded, before any folder is made


def test_seed_range_overflow_is_refused_before_the_out_folder_exists(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["reproduce", "--seed", str(2**32 - 1), "--seeds", "2", "--out", str(out)]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("vowels")]
    assert len(err) == 1
    assert "--seed 4294967295 with --seeds 2 reaches seed 4294967296, above the largest seed 4294967295" in err[0]
    assert not out.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"seed": 2**32}, "seed must be a whole number from 0 to"),
        ({"seed": -1}, "seed must be a whole number from 0 to"),
    ],
)
def test_reproduce_refuses_a_bad_seed_before_creating_out(tmp_path, kwargs, message):
    from vowels.tutorial import reproduce, reproduce_seeds

    with pytest.raises(ParameterError, match=message):
        reproduce(out=tmp_path / "one", epochs=1, **kwargs)
    with pytest.raises(ParameterError, match=message):
        reproduce_seeds(n_seeds=2, out=tmp_path / "many", epochs=1, **kwargs)
    with pytest.raises(ParameterError, match="go above the largest seed"):
        reproduce_seeds(n_seeds=2, seed=2**32 - 1, out=tmp_path / "many", epochs=1)
    assert list(tmp_path.iterdir()) == []


# 3. file names that are not valid UTF-8


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, copy_fsdd) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    folder = copy_fsdd(root / "d", ["george", "jackson"], [0, 1], [10, 11])
    model = RecordingClassifier(
        n_hidden=4, max_epochs=1, mini_batch_size=8, validation_fraction=0, threshold=-1, random_state=0
    ).fit(folder)
    model.save(root / "model")
    return root / "model"


@pytest.fixture
def good_and_bad(tmp_path, fsdd_dir) -> tuple[Path, bytes]:
    good = tmp_path / "good.wav"
    shutil.copyfile(fsdd_dir / "george" / "2_george_10.wav", good)
    bad = os.path.join(os.fsencode(tmp_path), BAD_NAME)
    shutil.copyfile(fsdd_dir / "george" / "2_george_10.wav", bad)
    return good, bad


@pytest.mark.parametrize("output", ["text", "--csv", "--json"])
def test_classify_reports_a_non_utf8_name_in_one_line_and_keeps_the_good_file(tiny_model, good_and_bad, output):
    good, bad = good_and_bad
    args = ["classify", "--model", str(tiny_model), str(good), os.fsdecode(bad)]
    result = _run(*args, *([] if output == "text" else [output]))
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stderr  # some inputs failed
    errors = _vowels_lines(result.stderr)
    assert len(errors) == 1 and f"{BAD_SHOWN}: file name is not valid UTF-8" in errors[0], result.stderr
    if output == "--json":
        (row,) = json.loads(result.stdout)
    elif output == "--csv":
        (row,) = csv.DictReader(io.StringIO(result.stdout))
    else:
        (line,) = result.stdout.splitlines()
        row = {"path": line.split(": ")[0], "speaker": line.split(": ")[1].split()[0]}
    assert row["path"] == str(good) and row["speaker"] in ("george", "jackson")


def test_extract_skips_a_non_utf8_name_in_one_line(tmp_path, copy_fsdd):
    folder = copy_fsdd(tmp_path / "d", ["george", "jackson"], [0], [10])
    bad = os.path.join(os.fsencode(folder / "george"), BAD_NAME)
    shutil.copyfile(folder / "george" / "0_george_10.wav", bad)
    result = _run("extract", str(folder), "--out", str(tmp_path / "f.npz"))
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stderr
    skipped = [line for line in _vowels_lines(result.stderr) if "skipped" in line]
    assert len(skipped) == 1 and BAD_SHOWN in skipped[0]
    assert "Extracted 2 recordings of 2 speakers" in result.stdout


def test_printed_paths_show_undecodable_bytes_as_escapes(capsys):
    from vowels.workflows.console import Console

    Console().result(os.fsdecode(BAD_NAME))
    assert capsys.readouterr().out == BAD_SHOWN + "\n"


# 4. extract --out is checked before any work


def test_extract_out_naming_a_folder_is_refused_before_extracting(tmp_path, capsys):
    out = tmp_path / "existing"
    out.mkdir()
    # DIR does not exist: the --out error must come first, before the folder is even read.
    assert main(["extract", str(tmp_path / "nowhere"), "--out", str(out), "--force"]) == 2
    (line,) = [x for x in capsys.readouterr().err.splitlines() if x.startswith("vowels")]
    assert line == (
        f"vowels extract: --out {out} is a folder; name a features file to write, e.g. {out / 'features.npz'}"
    )


def test_extract_out_in_an_unwritable_place_is_refused_before_extracting(tmp_path, capsys):
    # Tests may run as root, where a chmod'ed folder stays writable: a regular file as the parent
    # is a place nobody can write to.
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me")
    assert main(["extract", str(tmp_path / "nowhere"), "--out", str(blocker / "f.npz")]) == 2
    (line,) = [x for x in capsys.readouterr().err.splitlines() if x.startswith("vowels")]
    assert line.startswith(f"vowels: error: {blocker}: cannot write there")
    assert blocker.read_text() == "keep me"


# 5. plain speaker names in messages


def test_unknown_label_message_names_plain_strings():
    from vowels.classifier import _codes

    with pytest.raises(DataError) as caught:
        _codes(np.array(["theo"]), np.array(["george", "jackson"]))
    assert str(caught.value) == "labels ['theo'] are not among the speakers ['george', 'jackson']."


# 6. bundle metadata is validated on load, the same by both engines


@pytest.fixture(scope="module")
def small_bundle(tmp_path_factory, copy_fsdd) -> Path:
    root = tmp_path_factory.mktemp("bundle")
    folder = copy_fsdd(root / "d", ["george", "jackson"], range(4), [10])
    model = RecordingClassifier(
        n_hidden=4, max_epochs=1, mini_batch_size=8, validation_fraction=0, threshold=-1, random_state=0
    ).fit(folder)
    return model.save(root / "model")


def _sealed(metadata: dict) -> str:
    """`metadata` as JSON with a matching checksum: a bad value that the checksum alone would not catch."""
    from vowels.bundle import metadata_digest

    return json.dumps({**metadata, "metadata_sha256": metadata_digest(metadata)})


def _edited_bundle(small_bundle: Path, target: Path, edit) -> Path:
    shutil.copytree(small_bundle, target)
    metadata = json.loads((target / "metadata.json").read_text())
    edit(metadata)
    (target / "metadata.json").write_text(_sealed(metadata))
    return target


def _set(key, value):
    return lambda metadata: metadata.update({key: value})


def _set_rate(value):
    return lambda metadata: metadata["features"].update(sample_rate=value)


@pytest.mark.parametrize("engine", ["keras", "fast"])
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            _set("classes", ["george", "george"]),
            "'classes' must be a list of distinct names (repeated: ['george']); got",
        ),
        (
            _set("classes", ["george", "unknown"]),
            "a name in 'classes' must be other than 'unknown', the answer for no match",
        ),
        (_set("classes", ["george", ""]), "a name in 'classes' must be a non-empty string; got ''"),
        (_set("classes", ["george", 7]), "a name in 'classes' must be a non-empty string; got 7"),
        (_set("classes", "george"), "'classes' must be a list of at least 2 speaker names; got 'george'"),
        (_set("unknown_threshold", 2), "'unknown_threshold' must be a score in [-1, 1]; got 2"),
        (_set("unknown_threshold", -2), "'unknown_threshold' must be a score in [-1, 1]; got -2"),
        (_set("unknown_threshold", "nan"), "'unknown_threshold' must be a score in [-1, 1]; got 'nan'"),
        (_set("n_features", "x"), "'n_features' must be a whole number from 1 to 10000; got 'x'"),
        (
            _set_rate(10**12),
            "'features.sample_rate' must be a whole number of Hz from 4000 to 192000; got " + str(10**12),
        ),
        (
            _set_rate(1e12),
            "'features.sample_rate' must be a whole number of Hz from 4000 to 192000; got " + str(1e12),
        ),
    ],
)
def test_bad_metadata_is_one_bundle_error_naming_the_file(small_bundle, tmp_path, edit, message, engine):
    from vowels.errors import BundleError

    bundle = _edited_bundle(small_bundle, tmp_path / "model", edit)
    with pytest.raises(BundleError) as caught:
        RecordingClassifier.load(bundle, engine=engine)
    text = str(caught.value)
    assert text.startswith(f"{bundle / 'metadata.json'}: ") and message in text and "\n" not in text


@pytest.mark.parametrize("engine", ["keras", "fast"])
def test_metadata_edited_by_hand_fails_its_checksum(small_bundle, tmp_path, engine):
    from vowels.errors import BundleError

    bundle = tmp_path / "model"
    shutil.copytree(small_bundle, bundle)
    metadata = json.loads((bundle / "metadata.json").read_text())
    metadata["classes"] = metadata["classes"][::-1]
    (bundle / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(BundleError, match="does not match the sha256 it records") as caught:
        RecordingClassifier.load(bundle, engine=engine)
    assert str(caught.value).startswith(str(bundle / "metadata.json"))


@pytest.mark.parametrize("engine", ["keras", "fast"])
@pytest.mark.parametrize("entry", ["classes", "n_features", "weights_sha256"])
def test_metadata_without_a_required_entry_is_refused(small_bundle, tmp_path, engine, entry):
    from vowels.errors import BundleError

    bundle = _edited_bundle(small_bundle, tmp_path / "model", lambda metadata: metadata.pop(entry))
    with pytest.raises(BundleError, match=f"no '{entry}' entry"):
        RecordingClassifier.load(bundle, engine=engine)


def test_deeply_nested_metadata_is_a_bundle_error(small_bundle, tmp_path):
    from vowels.errors import BundleError

    bundle = tmp_path / "model"
    shutil.copytree(small_bundle, bundle)
    (bundle / "metadata.json").write_text("[" * 200_000 + "]" * 200_000)
    for engine in ("keras", "fast"):
        with pytest.raises(BundleError, match="JSON nested too deeply") as caught:
            RecordingClassifier.load(bundle, engine=engine)
        assert str(caught.value).startswith(str(bundle / "metadata.json"))


def _without_openset(metadata: dict) -> None:
    # A bundle without open-set references: the class count is then checked against the network only.
    del metadata["extra_files"]["openset.npz"]


@pytest.mark.parametrize("engine", ["keras", "fast"])
def test_a_class_count_that_does_not_fit_the_network_is_a_bundle_error(small_bundle, tmp_path, engine):
    from vowels.errors import BundleError

    def edit(metadata):
        _without_openset(metadata)
        metadata["classes"] = ["george", "jackson", "theo"]

    bundle = _edited_bundle(small_bundle, tmp_path / "model", edit)
    with pytest.raises(BundleError, match=r"2 outputs.*3 (speakers|classes)|3 classes given for a network of 2"):
        RecordingClassifier.load(bundle, engine=engine)


def test_keras_refuses_another_models_network(small_bundle, tmp_path):
    from vowels.errors import BundleError
    from vowels.files import sha256_of
    from vowels.model import build_network

    bundle = tmp_path / "model"
    shutil.copytree(small_bundle, bundle)
    metadata = json.loads((bundle / "metadata.json").read_text())
    for n_features, n_classes, expected in [(13, 3, "has 3 outputs, but"), (12, 2, "takes 12 inputs per frame")]:
        build_network(n_features, n_classes, mode="masked", n_hidden=4).save(bundle / "model.keras")
        metadata["weights_sha256"] = sha256_of(bundle / "model.keras")
        (bundle / "metadata.json").write_text(_sealed(metadata))
        with pytest.raises(BundleError, match=expected) as caught:
            RecordingClassifier.load(bundle, engine="keras")
        assert str(caught.value).startswith(str(bundle / "model.keras")) and "\n" not in str(caught.value)


# 7. a recording longer than the limit is refused from its header, never decoded whole


def _write_long_wav(path: Path, seconds: float = 1201.0, sr: int = 8000) -> Path:
    noise = np.random.default_rng(0).normal(0, 0.01, round(seconds * sr)).astype(np.float32)
    sf.write(path, noise, sr, subtype="PCM_16")
    return path


def test_a_recording_over_the_limit_is_refused_before_decoding(tmp_path, monkeypatch):
    import vowels.audio as audio
    from vowels.errors import AudioError

    long = _write_long_wav(tmp_path / "long.wav")
    read = []
    monkeypatch.setattr(sf, "read", lambda *args, **kwargs: read.append(args) or pytest.fail("decoded"))
    with pytest.raises(AudioError) as caught:
        audio.read_audio(long, sr=8000)
    assert str(caught.value) == (
        f"{long}: 1201.0 s long, longer than the 1200 s allowed; cut it into shorter recordings (or raise max_seconds)."
    )
    assert audio.MAX_SECONDS == 1200.0 and read == []
    with pytest.raises(AudioError, match=r"1201\.0 s long, longer than the 30 s allowed"):
        audio.read_audio(long, sr=8000, max_seconds=30)


def test_a_recording_over_the_limit_reads_with_a_higher_one(tmp_path):
    from vowels.audio import read_audio

    y = read_audio(_write_long_wav(tmp_path / "long.wav"), sr=8000, trim_db=None, max_seconds=1202)
    assert len(y) == 1201 * 8000


def test_a_long_recording_is_a_failure_of_training_data_and_of_extraction(tmp_path, copy_fsdd):
    from vowels.extraction import load_speaker_folders

    folder = copy_fsdd(tmp_path / "d", ["george", "jackson"], [0], [10])
    long = _write_long_wav(folder / "george" / "long.wav")
    data = load_speaker_folders(folder, FeatureConfig(sample_rate=8000))
    message = (
        f"{long}: 1201.0 s long, longer than the 1200 s allowed; cut it into shorter recordings (or raise max_seconds)."
    )
    assert [(f.path, f.message) for f in data.failures] == [(str(long), message)]
    assert len(data.utterances) == 2
    features, failures = extract_files([long], FeatureConfig(sample_rate=8000), dsp="numpy")
    assert features == [None] and [f.path for f in failures] == [str(long)]


@pytest.mark.parametrize("seed", [10**30, -1, 2**32])
def test_a_library_seed_out_of_range_names_random_state(tmp_path, copy_fsdd, seed):
    folder = copy_fsdd(tmp_path / "d", ["george", "jackson"], range(2), [10])
    with pytest.raises(ParameterError, match=r"random_state must be a whole number from 0 to 4294967295"):
        RecordingClassifier(max_epochs=1, random_state=seed).fit(folder)
