"""Writes as a unit (issue 17, item 4): run folders and bundles survive kill -9 at every step of a save,
leftovers are cleaned by the next write, two writers to one path never both win, parts of different
runs are refused."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from vowels import files
from vowels.classifier import SpeakerClassifier
from vowels.datasets import load_japanese_vowels
from vowels.errors import BundleError, DataError
from vowels.runs import load_run, write_run
from vowels.training import TrainingOptions


@pytest.fixture(scope="module")
def small_classifier(tmp_path_factory) -> Path:
    train = load_japanese_vowels("train")
    data = train.subset(np.concatenate([np.arange(s * 30, s * 30 + 4) for s in range(9)]))
    clf = SpeakerClassifier(n_hidden=4, options=TrainingOptions(max_epochs=1), random_state=0).fit(data)
    return clf.save(tmp_path_factory.mktemp("bundle") / "model")


def _write_run(folder: Path, clf: SpeakerClassifier, tag: str, *, force: bool = False) -> dict:
    return write_run(
        folder,
        metrics={"tag": tag},
        history={"tag": tag},
        predictions_csv=f"tag\n{tag}\n",
        save_model=lambda path, run_id: clf.save(path, metrics={"run_id": run_id, "tag": tag}),
        force=force,
    )


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


# --- a run folder is whole or absent -------------------------------------------------------


def test_a_run_folder_records_one_run_in_every_part(small_classifier, tmp_path):
    clf = SpeakerClassifier.load(small_classifier)
    metrics = _write_run(tmp_path / "run", clf, "a")
    loaded = load_run(tmp_path / "run")
    model = json.loads((tmp_path / "run" / "model" / "metadata.json").read_text())
    assert loaded["metrics"]["run_id"] == metrics["run_id"] == model["metrics"]["run_id"]
    assert set(metrics["files"]) == {"history.json", "predictions.csv"}
    assert _hidden(tmp_path) == []


@pytest.mark.parametrize("part", ["model", "history.json", "predictions.csv"])
def test_a_part_of_another_run_is_refused(small_classifier, tmp_path, part):
    clf = SpeakerClassifier.load(small_classifier)
    _write_run(tmp_path / "a", clf, "a")
    _write_run(tmp_path / "b", clf, "b")
    target = tmp_path / "b" / part
    if target.is_dir():
        shutil.rmtree(target)
        shutil.copytree(tmp_path / "a" / part, target)
    else:
        shutil.copy(tmp_path / "a" / part, target)
    with pytest.raises(DataError, match="come from different runs or were edited") as caught:
        load_run(tmp_path / "b")
    assert str(caught.value).startswith(str(tmp_path / "b"))


def test_a_run_folder_of_an_older_format_is_refused_naming_the_command(small_classifier, tmp_path):
    """Format version 1 never shipped: a run folder's version is its model's, refused with the command to rerun."""
    clf = SpeakerClassifier.load(small_classifier)
    folder = tmp_path / "run"
    _write_run(folder, clf, "a")
    model_metadata = folder / "model" / "metadata.json"
    written = model_metadata.read_text()
    files.write_json(model_metadata, {**json.loads(written), "format_version": 1})
    with pytest.raises(BundleError) as refused:
        load_run(folder)
    assert str(refused.value) == (
        f"{model_metadata}: format version 1, written by an older vowels (this one reads version 2); "
        f"retrain or regenerate it with: vowels reproduce --out {folder}."
    )
    files.write_text(model_metadata, written)
    metrics = json.loads((folder / "metrics.json").read_text())
    del metrics["run_id"], metrics["files"]
    files.write_json(folder / "metrics.json", metrics)
    with pytest.raises(DataError, match="metrics.json records no file checksums; its parts come from different runs"):
        load_run(folder)


def test_a_run_is_never_written_over_other_files(small_classifier, tmp_path):
    clf = SpeakerClassifier.load(small_classifier)
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    with pytest.raises(BundleError, match=r"holds files that are not part of a run \(notes.txt\)"):
        _write_run(folder, clf, "a", force=True)
    assert (folder / "notes.txt").read_text() == "mine"


def test_a_run_replaces_an_empty_folder_and_an_old_run_only_with_force(small_classifier, tmp_path):
    clf = SpeakerClassifier.load(small_classifier)
    folder = tmp_path / "run"
    folder.mkdir()
    _write_run(folder, clf, "a")
    with pytest.raises(BundleError, match="already exists; pass force=True to replace it"):
        _write_run(folder, clf, "b")
    assert load_run(folder)["metrics"]["tag"] == "a"
    _write_run(folder, clf, "b", force=True)
    assert load_run(folder)["metrics"]["tag"] == "b"
    assert _hidden(tmp_path) == []


def test_seeds_json_must_name_the_runs_beside_it(tmp_path):
    from vowels.reports import report_from_run
    from vowels.tutorial import reproduce_seeds

    reproduce_seeds(n_seeds=2, epochs=1, out=tmp_path / "seeds", verbose=0)
    summary = json.loads((tmp_path / "seeds" / "seeds.json").read_text())
    assert [r["run_id"] for r in summary["runs"]] == [
        load_run(tmp_path / "seeds" / f"seed-{s}")["metrics"]["run_id"] for s in (0, 1)
    ]
    report_from_run(tmp_path / "seeds")
    files.write_json(tmp_path / "seeds" / "seeds.json", {**summary, "format_version": 1})
    with pytest.raises(
        BundleError,
        match=r"seeds\.json: format version 1, written by an older vowels .* "
        r"regenerate it with: vowels reproduce --seeds N --out ",
    ):
        report_from_run(tmp_path / "seeds")
    files.write_json(tmp_path / "seeds" / "seeds.json", summary)
    shutil.rmtree(tmp_path / "seeds" / "seed-1")
    shutil.copytree(tmp_path / "seeds" / "seed-0", tmp_path / "seeds" / "seed-1")
    with pytest.raises(DataError, match="seeds.json records run .* in seed-1"):
        report_from_run(tmp_path / "seeds")


# --- kill -9 at each step of a save ----------------------------------------------------------

KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from vowels import files
    from vowels.classifier import SpeakerClassifier
    from vowels.runs import write_run

    model, folder, tag, target, step = sys.argv[1], Path(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
    clf = SpeakerClassifier.load(model)
    calls = {"n": 0}

    def killing(original):
        def wrapped(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == step:
                os.kill(os.getpid(), signal.SIGKILL)
            return original(*args, **kwargs)
        return wrapped

    if target == "replace":
        os.replace = killing(os.replace)
    elif target == "exchange":
        files._exchange = killing(files._exchange)
    elif target == "after-exchange":
        exchange = files._exchange

        def exchange_then_die(*args):
            exchange(*args)
            os.kill(os.getpid(), signal.SIGKILL)

        files._exchange = exchange_then_die
    elif target == "no-exchange":
        files._exchange = lambda source, path: False
        os.replace = killing(os.replace)
    write_run(
        folder,
        metrics={"tag": tag},
        history={"tag": tag},
        predictions_csv=f"tag\\n{tag}\\n",
        save_model=lambda path, run_id: clf.save(path, metrics={"run_id": run_id, "tag": tag}),
        force=True,
    )
    print("finished")
    """
)

# os.replace calls of a run save: weights.npz, metadata.json, model/ into the staging folder,
# history.json, predictions.csv, metrics.json; then the run folder is swapped into place.
KILL_POINTS = [("replace", step) for step in range(1, 7)] + [("exchange", 1), ("after-exchange", 1)]
# Without an atomic swap: the old folder moves aside (7th replace), the new one moves in (8th).
FALLBACK_KILL_POINTS = [("no-exchange", 7), ("no-exchange", 8)]


@pytest.mark.parametrize(("target", "step"), KILL_POINTS + FALLBACK_KILL_POINTS)
def test_kill_9_during_a_save_leaves_the_old_run_or_the_new_one(small_classifier, tmp_path, target, step):
    clf = SpeakerClassifier.load(small_classifier)
    folder = tmp_path / "run"
    _write_run(folder, clf, "old")
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, str(small_classifier), str(folder), "new", target, str(step)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    if target == "no-exchange" and step == 8:
        # Killed between the two renames: the old run is in the hidden backup, and the next write
        # puts it back before anything else (here: before refusing to replace it without force).
        assert not folder.exists()
        assert len([p for p in tmp_path.iterdir() if p.name.endswith(".old")]) == 1
        with pytest.raises(BundleError, match="already exists"):
            _write_run(folder, clf, "next")
    tag = load_run(folder)["metrics"]["tag"]
    assert tag == ("new" if target == "after-exchange" else "old")
    assert SpeakerClassifier.load(folder / "model").classes_.tolist() == clf.classes_.tolist()
    _write_run(folder, clf, "next", force=True)
    assert load_run(folder)["metrics"]["tag"] == "next"
    assert _hidden(tmp_path) == [] and _hidden(folder) == [] and _hidden(folder / "model") == []


# --- two writers to one path -------------------------------------------------------------------

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from vowels.files import atomic_folder

    path, ready, release = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    with atomic_folder(path) as staging:
        (staging / "who").write_text(sys.argv[4])
        ready.write_text("ready")
        while not release.exists():
            time.sleep(0.02)
    print("wrote", path)
    """
)


def _start_holder(path: Path, tmp_path: Path, who: str) -> tuple[subprocess.Popen, Path]:
    ready, release = tmp_path / f"ready-{who}", tmp_path / f"release-{who}"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(ready), str(release), who],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    for _ in range(1500):
        if ready.exists() or holder.poll() is not None:
            break
        subprocess.run(["sleep", "0.02"], check=True)
    assert ready.exists(), holder.communicate()
    return holder, release


def test_a_second_writer_is_refused_while_the_first_writes(tmp_path):
    path = tmp_path / "model"
    first, release = _start_holder(path, tmp_path, "first")
    second = subprocess.run(
        [sys.executable, "-c", HOLDER, str(path), str(tmp_path / "r2"), str(tmp_path / "x2"), "second"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode != 0
    assert f"{path}: another process is writing it right now" in second.stderr
    release.write_text("go")
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert (path / "who").read_text() == "first"
    # A writer that comes later, without force, is refused because the first has written.
    with pytest.raises(BundleError, match="already exists"), files.atomic_folder(path):
        pass
    assert (path / "who").read_text() == "first" and _hidden(tmp_path) == []


def test_a_killed_writer_does_not_keep_the_path_locked(tmp_path):
    path = tmp_path / "model"
    holder, _ = _start_holder(path, tmp_path, "first")
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(timeout=60)
    assert not path.exists()
    with files.atomic_folder(path) as staging:
        (staging / "who").write_text("second")
    assert (path / "who").read_text() == "second"
    assert _hidden(tmp_path) == []


def test_files_written_without_force_are_never_replaced_by_a_racing_writer(tmp_path):
    path = tmp_path / "features.npz"
    files.write_bytes(path, b"first", force=False)
    with pytest.raises(BundleError, match="already exists"):
        files.write_bytes(path, b"second", force=False)
    assert path.read_bytes() == b"first" and _hidden(tmp_path) == []
