"""Messages of issue 17, item 10, on real files and the real command: an audio file where a folder or
a features file is expected, links that lead nowhere, control characters in file names, --seed."""

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
from vowels.errors import DataError
from vowels.extraction import list_speaker_files, load_features, load_speaker_folders
from vowels.limits import MAX_SEED
from vowels.recordings import RecordingClassifier
from vowels.workflows.console import printable

WAV = "2_george_10.wav"


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`python -m vowels ARGS`, stdout and stderr as bytes decoded strictly (no newline translation),
    under a strict UTF-8 stdout."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}
    result = subprocess.run([sys.executable, "-m", "vowels", *args], capture_output=True, timeout=120, env=env, cwd=cwd)
    return subprocess.CompletedProcess(
        result.args, result.returncode, result.stdout.decode("utf-8"), result.stderr.decode("utf-8")
    )


def _vowels_lines(stderr: str) -> list[str]:
    return [line for line in stderr.split("\n") if line.startswith("vowels")]


def _one_error(status: int, err: str) -> str:
    """The single `vowels` line of a failed command, which must exit 2 without a traceback."""
    assert status == 2, err
    assert "Traceback" not in err, err
    (line,) = _vowels_lines(err)
    return line


@pytest.fixture(scope="module")
def folder(tmp_path_factory, copy_fsdd) -> Path:
    """Two speakers, four recordings each."""
    return copy_fsdd(tmp_path_factory.mktemp("voices") / "d", ["george", "jackson"], [0, 1], [10, 11])


@pytest.fixture(scope="module")
def features_file(folder, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("features") / "feats.npz"
    assert main(["extract", str(folder), "--out", str(out), "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def model(folder, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("model") / "model"
    RecordingClassifier(
        n_hidden=4, max_epochs=1, mini_batch_size=8, validation_fraction=0, threshold=-1, random_state=0
    ).fit(folder).save(out)
    return out


@pytest.fixture
def good(tmp_path, fsdd_dir) -> Path:
    path = tmp_path / "good.wav"
    shutil.copyfile(fsdd_dir / "george" / WAV, path)
    return path


# 1. a file where train, evaluate or extract expect something else


def test_train_on_an_audio_file_says_train_takes_a_folder(good, tmp_path, capsys):
    line = _one_error(main(["train", str(good), "--out", str(tmp_path / "m")]), capsys.readouterr().err)
    assert line == (
        f"vowels train: {good} is an audio file, not a features file; train takes a folder of speaker folders "
        "(DIR/<speaker>/<recordings>, e.g. DIR/alice/ah.wav) or a features .npz written by 'vowels extract' "
        "(see 'vowels train --help')"
    )
    assert not (tmp_path / "m").exists()


def test_train_on_a_recording_named_npz_says_it_is_audio(good, tmp_path, capsys):
    renamed = tmp_path / "feats.npz"
    good.rename(renamed)
    line = _one_error(main(["train", str(renamed), "--out", str(tmp_path / "m")]), capsys.readouterr().err)
    assert f"{renamed} is an audio file, not a features file; train takes a folder of speaker folders" in line


def _text(path: Path, features: Path) -> None:
    path.write_text("speaker,file\ngeorge,a.wav\n")


def _npy(path: Path, features: Path) -> None:
    with open(path, "wb") as file:
        np.save(file, np.arange(3))


def _other_npz(path: Path, features: Path) -> None:
    with open(path, "wb") as file:
        np.savez(file, weights=np.ones(3))


def _pickled_npz(path: Path, features: Path) -> None:
    with open(path, "wb") as file:
        np.savez(file, format=np.array([{"format": "vowels-features"}], dtype=object))


def _truncated(path: Path, features: Path) -> None:
    path.write_bytes(features.read_bytes()[: features.stat().st_size // 2])


def _bit_flipped(path: Path, features: Path) -> None:
    data = bytearray(features.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 16] = bytes(b ^ 0x55 for b in data[middle : middle + 16])
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            _text,
            "not a vowels features file (not an .npz archive at all); features files are written by "
            "'vowels extract DIR --out FILE.npz' from a folder of speaker folders DIR, which 'vowels train' also "
            "takes itself.",
        ),
        (_npy, "not a vowels features file (a single NumPy .npy array)"),
        (
            _other_npz,
            "not a vowels features file (an .npz archive whose 'format' entry is missing or not 'vowels-features')",
        ),
        (_pickled_npz, "not a vowels features file (it holds pickled Python objects, which vowels never loads)"),
        (_truncated, "damaged or truncated .npz archive; run 'vowels extract' again to rewrite it."),
        (_bit_flipped, "damaged vowels features file ("),
    ],
    ids=["text", "npy", "other-npz", "pickled-npz", "truncated", "bit-flipped"],
)
def test_train_on_a_file_that_is_not_a_features_file_says_what_it_is(features_file, tmp_path, capsys, make, message):
    source = tmp_path / "data.npz"
    make(source, features_file)
    line = _one_error(main(["train", str(source), "--out", str(tmp_path / "m")]), capsys.readouterr().err)
    assert line.startswith(f"vowels: error: {source}: ")
    assert message in line
    assert "allow_pickle" not in line


def test_a_whole_features_file_still_loads(features_file):
    assert len(load_features(features_file).utterances) == 8


def test_extract_on_an_audio_file_says_it_takes_a_folder(good, tmp_path, capsys):
    line = _one_error(main(["extract", str(good), "--out", str(tmp_path / "f.npz")]), capsys.readouterr().err)
    assert line == (
        f"vowels: error: {good}: an audio file, not a folder; expected a folder of speaker folders, "
        "DIR/<speaker>/<recordings> (to name the speaker of single recordings, use 'vowels classify')."
    )
    line = _one_error(
        main(["extract", str(tmp_path / "nowhere"), "--out", str(tmp_path / "f.npz")]), capsys.readouterr().err
    )
    assert line.endswith("nowhere: not found; expected a folder of speaker folders, DIR/<speaker>/<recordings>.")


def test_evaluate_on_an_audio_file_points_to_classify(model, good, capsys):
    line = _one_error(main(["evaluate", "--model", str(model), str(good)]), capsys.readouterr().err)
    assert line.startswith(f"vowels: error: {good}: an audio file, not a folder; expected a folder of speaker folders")
    assert "use 'vowels classify'" in line


def test_evaluate_on_one_speakers_folder_says_to_give_the_folder_above_it(model, folder, tmp_path, capsys):
    """The words agree with the count (1 subfolder, found none), and a folder of recordings is recognised as
    one speaker's, with the fix."""
    voices = tmp_path / "voices"
    shutil.copytree(folder / "george", voices / "george")
    george = voices / "george"
    line = _one_error(main(["evaluate", "--model", str(model), str(george)]), capsys.readouterr().err)
    assert line == (
        f"vowels: error: {george}: needs at least 1 speaker subfolder (DIR/<speaker>/*.wav); found none. It holds 4 "
        f"recordings itself, like one speaker's folder: give the folder above it ({voices}), which holds a folder "
        "per speaker."
    )
    (tmp_path / "empty").mkdir()
    line = _one_error(main(["train", str(tmp_path / "empty"), "--out", str(tmp_path / "m")]), capsys.readouterr().err)
    assert (
        line == f"vowels: error: {tmp_path / 'empty'}: needs at least 2 speaker subfolders (DIR/<speaker>/*.wav); "
        "found none."
    )


# 2. links that lead nowhere are listed as skipped, and never followed round a loop


@pytest.fixture
def linked(tmp_path, copy_fsdd) -> tuple[Path, dict[Path, str]]:
    """A speaker folder with link loops, a dangling link, a link back to the data folder and a named
    pipe; beside the speakers, a dangling link and a loop where speaker folders would be."""
    data = copy_fsdd(tmp_path / "d", ["george", "jackson"], [0], [10, 11])
    george = data / "george"
    os.symlink("itself.wav", george / "itself.wav")
    os.symlink("pong.wav", george / "ping.wav")
    os.symlink("ping.wav", george / "pong.wav")
    os.symlink("nowhere.wav", george / "gone.wav")
    os.symlink("..", george / "up")
    os.mkfifo(george / "pipe.wav")
    os.symlink("missing-folder", data / "carol")
    os.symlink("dave", data / "dave")
    expected = {
        data / "carol": "a broken symbolic link (its target missing-folder does not exist), not read as a speaker "
        "folder; fix or remove the link.",
        data / "dave": "a symbolic link loop (following it never reaches a file), not read as a speaker folder",
        george / "gone.wav": "a broken symbolic link (its target nowhere.wav does not exist), not a recording; "
        "fix or remove the link.",
        george / "itself.wav": "a symbolic link loop (following it never reaches a file), not a recording",
        george / "ping.wav": "a symbolic link loop",
        george / "pong.wav": "a symbolic link loop",
        george / "pipe.wav": "a named pipe, not a recording; recordings must be regular files.",
        george / "up": "symbolic link to a folder, which is not followed; move or copy the recordings into the "
        "speaker folder.",
    }
    return data, expected


def test_links_that_lead_nowhere_are_listed_as_skipped(linked):
    data, expected = linked
    extraction = load_speaker_folders(data)
    assert len(extraction.utterances) == 4
    assert {Path(f.path) for f in extraction.failures} == set(expected)
    for failure in extraction.failures:
        assert failure.message.startswith(f"{failure.path}: ")
        assert expected[Path(failure.path)] in failure.message
    files = [path for _, path in list_speaker_files(data)]
    assert [p.name for p in files] == ["0_george_10.wav", "0_george_11.wav", "0_jackson_10.wav", "0_jackson_11.wav"]


def test_extract_lists_each_skipped_link_on_one_line_and_never_hangs(linked, tmp_path):
    data, expected = linked
    result = _run("extract", str(data), "--out", str(tmp_path / "f.npz"))  # a hang fails by the timeout
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stderr
    skipped = [line for line in _vowels_lines(result.stderr) if line.startswith("vowels: skipped: ")]
    assert sorted(line.removeprefix("vowels: skipped: ").split(": ")[0] for line in skipped) == sorted(
        str(p) for p in expected
    )
    assert "Extracted 4 recordings of 2 speakers" in result.stdout
    assert f"{len(expected)} skipped" in result.stdout


def test_a_speaker_folder_of_broken_links_names_them(tmp_path, copy_fsdd):
    data = copy_fsdd(tmp_path / "d", ["george", "jackson"], [0], [10])
    for wav in (data / "jackson").iterdir():
        wav.unlink()
    os.symlink("../elsewhere/0_jackson_10.wav", data / "jackson" / "0_jackson_10.wav")
    with pytest.raises(DataError) as caught:
        load_speaker_folders(data)
    assert str(caught.value) == (
        f"{data / 'jackson'}: speaker folder holds no recordings; add some or remove the folder. Skipped: "
        f"{data / 'jackson' / '0_jackson_10.wav'}: a broken symbolic link (its target ../elsewhere/0_jackson_10.wav "
        "does not exist), not a recording; fix or remove the link."
    )


def test_a_data_folder_that_is_a_broken_link_is_named(tmp_path, capsys):
    os.symlink(tmp_path / "gone", tmp_path / "voices")
    line = _one_error(
        main(["extract", str(tmp_path / "voices"), "--out", str(tmp_path / "f.npz")]), capsys.readouterr().err
    )
    assert line == (
        f"vowels: error: {tmp_path / 'voices'}: a broken symbolic link (its target {tmp_path / 'gone'} does not "
        "exist), not a folder; expected a folder of speaker folders, DIR/<speaker>/<recordings>."
    )


# 3. control characters in file names never split or colour a line


NEWLINE_NAME = "ok\tna\rme\n\x1b[31m.wav"
NEWLINE_SHOWN = "ok\\tna\\rme\\n\\x1b[31m.wav"
BAD_NAME = "bad\nname.wav"
BAD_SHOWN = "bad\\nname.wav"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("a\nb", "a\\nb"),
        ("a\r\nb\tc", "a\\r\\nb\\tc"),
        ("\x1b[2J\x00\x7f", "\\x1b[2J\\x00\\x7f"),
        ("line\u2028sep\x85", "line\\u2028sep\\x85"),
        ("evil\u202etxt.wav", "evil\\u202etxt.wav"),
        ("café ü 名前.wav", "café ü 名前.wav"),
        (os.fsdecode(b"bad\xff\n.wav"), "bad\\xff\\n.wav"),
    ],
)
def test_printable_escapes_control_characters(text, shown):
    assert printable(text) == shown


@pytest.fixture
def awkward(tmp_path, good) -> tuple[Path, Path]:
    """A good recording and a file that is not audio, both named with control characters."""
    named = tmp_path / NEWLINE_NAME
    shutil.copyfile(good, named)
    bad = tmp_path / BAD_NAME
    bad.write_bytes(b"not audio")
    return named, bad


def test_classify_text_shows_control_characters_escaped(model, awkward, tmp_path):
    named, bad = awkward
    result = _run("classify", "--model", str(model), NEWLINE_NAME, BAD_NAME, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    (line,) = result.stdout.split("\n")[:-1]
    assert line.startswith(f"{NEWLINE_SHOWN}: ")
    assert "runner-up" in line and "\x1b" not in line and "\r" not in line
    (error,) = _vowels_lines(result.stderr)
    assert error.startswith(f"vowels: error: {BAD_SHOWN}: ")
    assert "\r" not in result.stderr


def test_classify_csv_quotes_control_characters(model, awkward, tmp_path):
    result = _run("classify", "--model", str(model), NEWLINE_NAME, "good.wav", "--csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert [row["path"] for row in rows] == [NEWLINE_NAME, "good.wav"]
    assert all(row["speaker"] in ("george", "jackson") for row in rows)


def test_classify_json_keeps_names_exact(model, awkward, tmp_path):
    result = _run("classify", "--model", str(model), NEWLINE_NAME, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert [row["path"] for row in json.loads(result.stdout)] == [NEWLINE_NAME]


def test_skipped_and_error_lines_show_control_characters_escaped(folder, tmp_path):
    data = tmp_path / "d"
    shutil.copytree(folder, data)
    (data / "george" / BAD_NAME).write_bytes(b"not audio")
    shutil.copyfile(data / "george" / "0_george_10.wav", data / "jackson" / NEWLINE_NAME)
    result = _run("extract", str(data), "--out", str(tmp_path / "f.npz"))
    assert result.returncode == 1, result.stderr
    (skipped,) = _vowels_lines(result.stderr)
    assert skipped.startswith(f"vowels: skipped: {data / 'george' / BAD_SHOWN}: not an audio file")
    assert "Extracted 9 recordings of 2 speakers" in result.stdout

    result = _run("train", str(data / "jackson" / NEWLINE_NAME), "--out", str(tmp_path / "m"))
    line = _one_error(result.returncode, result.stderr)
    assert line.startswith(f"vowels train: {data / 'jackson' / NEWLINE_SHOWN} is an audio file")


# 4. --seed out of range names the option and its range


def test_train_seed_out_of_range_names_the_option_and_range(folder, tmp_path, capsys):
    line = _one_error(
        main(["train", str(folder), "--out", str(tmp_path / "m"), "--seed", str(10**30)]), capsys.readouterr().err
    )
    assert line == (
        f"vowels train: argument --seed: must be a whole number from 0 to {MAX_SEED}; got '{10**30}' "
        "(see 'vowels train --help')"
    )
    assert "validation" not in line
    assert not (tmp_path / "m").exists()
