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

from vowels.cli import main
from vowels.errors import DataError, ParameterError
from vowels.features import FeatureConfig
from vowels.recordings import RecordingClassifier, extract_files

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
    with pytest.warns(RuntimeWarning, match=r"workers=400 is more than the 1 CPUs available .*; using 1\."):
        features, failures = extract_files(paths, FeatureConfig(sample_rate=8000), workers=400)
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
        n_hidden=4, epochs=1, batch_size=8, validation_fraction=0, threshold=-1, random_state=0
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
    from vowels.cli import _print

    _print(os.fsdecode(BAD_NAME), file=sys.stdout)
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
