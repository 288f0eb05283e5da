from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import pytest

from vowels import datasets
from vowels.datasets import MAX_LINE_BYTES, Utterances, load_japanese_vowels, parse_uci_utterances
from vowels.errors import DataError, ParameterError

EXPECTED = {"train": (270, 7, 26, 4274), "test": (370, 7, 29, 5687)}


def _parse_reference(path):
    """An independent reading of a UCI file: split on the twelve-1.0 separator lines."""
    utterances, frames = [], []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        values = [float(v) for v in line.split()]
        if values == [1.0] * 12:
            utterances.append(np.array(frames, dtype=np.float32))
            frames = []
        else:
            frames.append(values)
    return utterances


@pytest.mark.parametrize("split", ["train", "test"])
def test_bundled_copy_parses_to_the_reference_numbers(split, reference_dir):
    data = load_japanese_vowels(split)
    n, shortest, longest, frames = EXPECTED[split]
    assert len(data) == n
    assert data.lengths.min() == shortest and data.lengths.max() == longest
    assert data.lengths.sum() == frames
    assert data.n_features == 12
    assert all(s.dtype == np.float32 and s.shape[1] == 12 for s in data.sequences)
    reference = _parse_reference(reference_dir / f"ae.{split}")
    assert len(reference) == n
    for ours, theirs in zip(data.sequences, reference):
        np.testing.assert_array_equal(ours, theirs)
    counts = [int(c) for c in (reference_dir / f"size_ae.{split}").read_text().split()]
    assert data.speakers == tuple(str(i) for i in range(1, 10))
    np.testing.assert_array_equal(np.unique(data.labels, return_counts=True)[1], counts)
    assert list(data.labels[: counts[0]]) == ["1"] * counts[0]


def test_reference_checksums_match_the_bundled_ones(reference_dir):
    for name, digest in datasets.BUNDLED_SHA256.items():
        assert hashlib.sha256((reference_dir / name).read_bytes()).hexdigest() == digest


def test_path_and_environment_variable_read_the_same_files(reference_dir, monkeypatch):
    from_path = load_japanese_vowels("test", path=reference_dir)
    monkeypatch.setenv("VOWELS_DATA", str(reference_dir))
    from_env = load_japanese_vowels("test")
    assert from_path.sources[0] == str(reference_dir / "ae.test") + ":1-19"
    assert from_env.sources == from_path.sources
    for a, b in zip(from_path.sequences, from_env.sequences):
        np.testing.assert_array_equal(a, b)


@pytest.fixture
def uci_copy(tmp_path, reference_dir):
    for name in ("ae.train", "size_ae.train", "ae.test", "size_ae.test"):
        shutil.copy(reference_dir / name, tmp_path / name)
    return tmp_path


def _rewrite_line(path, number, text):
    lines = path.read_text().splitlines(keepends=True)
    lines[number - 1] = text + "\r\n"
    path.write_text("".join(lines))


def test_wrong_column_count_names_file_and_line(uci_copy):
    _rewrite_line(uci_copy / "ae.train", 5, "1.0 2.0 3.0")
    with pytest.raises(DataError, match=r"ae\.train, line 5: expected 12 numbers, found 3"):
        load_japanese_vowels("train", path=uci_copy)


def test_non_number_names_file_line_and_value(uci_copy):
    _rewrite_line(uci_copy / "ae.train", 7, " ".join(["0.5"] * 11 + ["abc"]))
    with pytest.raises(DataError, match=r"ae\.train, line 7: 'abc' is not a number"):
        load_japanese_vowels("train", path=uci_copy)


def test_missing_final_separator_is_reported(uci_copy):
    path = uci_copy / "ae.train"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:-1]))
    with pytest.raises(DataError, match=r"ae\.train, line 4543: the last utterance .* no separator"):
        load_japanese_vowels("train", path=uci_copy)


def test_count_disagreeing_with_size_file_is_reported(uci_copy):
    (uci_copy / "size_ae.test").write_text("31 35 88 44 29 24 40 50 30\r\n")
    with pytest.raises(DataError, match=r"holds 370 utterances but .*size_ae\.test lists 371"):
        load_japanese_vowels("test", path=uci_copy)


def test_missing_file_and_folder_are_named(uci_copy, tmp_path):
    (uci_copy / "size_ae.test").unlink()
    with pytest.raises(DataError, match=r"size_ae\.test: file not found"):
        load_japanese_vowels("test", path=uci_copy)
    with pytest.raises(DataError, match=r"nowhere: not a folder"):
        load_japanese_vowels("test", path=tmp_path / "nowhere")


def test_checksum_mismatch_of_bundled_copy_is_reported(monkeypatch):
    monkeypatch.setitem(datasets.BUNDLED_SHA256, "ae.train", "0" * 64)
    with pytest.raises(DataError, match=r"bundled ae\.train: sha256 .* does not match"):
        load_japanese_vowels("train")


def test_unknown_split_is_a_parameter_error():
    with pytest.raises(ParameterError, match=r"split must be one of \['train', 'test'\]; got 'validation'"):
        load_japanese_vowels("validation")


def test_parser_accepts_only_blank_lines_after_separators():
    frame = " ".join(["0.5"] * 12)
    sep = " ".join(["1.0"] * 12)
    sequences, origins = parse_uci_utterances(f"{frame}\n{sep}\n\n{frame}\n{frame}\n{sep}\n", source="x")
    assert [len(s) for s in sequences] == [1, 2]
    assert origins == ["x:1-1", "x:4-5"]
    with pytest.raises(DataError, match=r"x, line 2: expected 12 numbers, found 0"):
        parse_uci_utterances(f"{frame}\n\n{frame}\n{sep}\n", source="x")


def test_utterances_subset_and_codes():
    data = load_japanese_vowels("train")
    part = data.subset([0, 269, 30])
    assert list(part.labels) == ["1", "9", "2"]
    assert list(part.codes) == [0, 8, 1]
    assert part.speakers == data.speakers
    with pytest.raises(ParameterError, match="one label and one source per sequence"):
        Utterances(sequences=data.sequences[:2], labels=data.labels[:1], speakers=data.speakers, sources=("a", "b"))


@pytest.mark.parametrize("value", ["1e39", "-3.5e38", "inf", "nan"])
def test_value_not_finite_as_float32_names_file_line_and_value(uci_copy, value):
    _rewrite_line(uci_copy / "ae.train", 9, " ".join(["0.5"] * 5 + [value] + ["0.5"] * 6))
    with pytest.raises(DataError) as caught:
        load_japanese_vowels("train", path=uci_copy)
    assert str(caught.value) == (
        f"{uci_copy / 'ae.train'}, line 9: {value!r} is not a finite float32 number "
        "(magnitude at most 3.40282e+38); fix or re-copy the file."
    )


def test_other_line_breaks_parse_as_before(uci_copy, reference_dir):
    path = uci_copy / "ae.test"
    path.write_bytes(path.read_bytes().replace(b"\r\n", b"\r"))
    ours = load_japanese_vowels("test", path=uci_copy)
    reference = load_japanese_vowels("test", path=reference_dir)
    assert [s.tolist() for s in ours.sequences] == [s.tolist() for s in reference.sequences]
    assert ours.sources == tuple(s.replace(str(reference_dir / "ae.test"), str(path)) for s in reference.sources)


def test_line_longer_than_the_bound_names_file_and_line(uci_copy):
    _rewrite_line(uci_copy / "ae.train", 5, "0.5 " * (MAX_LINE_BYTES // 4 + 1))
    with pytest.raises(DataError) as caught:
        load_japanese_vowels("train", path=uci_copy)
    assert str(caught.value) == (
        f"{uci_copy / 'ae.train'}, line 5: longer than 65536 bytes, expected 12 numbers (a few hundred "
        "bytes); this is not a UCI Japanese Vowels file."
    )


def test_oversized_size_file_is_refused(uci_copy):
    (uci_copy / "size_ae.train").write_bytes(b"30 " * 30000)
    with pytest.raises(DataError, match=r"size_ae\.train: more than 65536 bytes, expected one line of per-speaker"):
        load_japanese_vowels("train", path=uci_copy)


_PEAK_MEMORY = """
import json, resource, sys
from vowels.datasets import load_japanese_vowels
from vowels.errors import DataError
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    n, message = len(load_japanese_vowels("train", path=sys.argv[1])), None
except DataError as exc:
    n, message = 0, str(exc)
grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps({"n": n, "message": message, "grown_bytes": grown * 1024}))
"""


def _load_measuring_memory(folder):
    """Load ae.train from `folder` in a new process: utterances, error message, growth of peak RSS (bytes)."""
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_MEMORY, str(folder)], capture_output=True, text=True, timeout=300, check=True
    )
    return json.loads(result.stdout)


def test_file_of_one_huge_line_is_refused_without_reading_it_whole(uci_copy):
    size = 20_000_000
    (uci_copy / "ae.train").write_bytes(b"7" * size)
    measured = _load_measuring_memory(uci_copy)
    assert measured["message"] == (
        f"{uci_copy / 'ae.train'}, line 1: longer than 65536 bytes, expected 12 numbers (a few hundred "
        "bytes); this is not a UCI Japanese Vowels file."
    )
    assert measured["grown_bytes"] < size / 10  # reading it whole took twice its size


def test_large_valid_file_is_parsed_in_less_memory_than_its_size(uci_copy, reference_dir):
    copies = 10
    text = (reference_dir / "ae.train").read_bytes() * copies
    (uci_copy / "ae.train").write_bytes(text)
    (uci_copy / "size_ae.train").write_text(" ".join([str(30 * copies)] * 9) + "\r\n")
    measured = _load_measuring_memory(uci_copy)
    assert measured == {"n": 270 * copies, "message": None, "grown_bytes": measured["grown_bytes"]}
    assert measured["grown_bytes"] < len(text)  # the float32 result is 40 % of it; reading it whole took 3 times


_READ_AS_NOBODY = """
import json, os, sys
if not os.access(sys.argv[1], os.X_OK):
    sys.exit(f"cannot enter {sys.argv[1]} as uid {os.getuid()}")
from vowels.datasets import load_japanese_vowels
from vowels.errors import DataError
try:
    load_japanese_vowels("train", path=sys.argv[1])
except DataError as exc:
    print(str(exc))
"""


def test_unreadable_file_says_permission_denied(reference_dir, as_unprivileged):
    """Root reads a mode-000 file, so the reading runs as uid 65534 (setpriv) when the tests run as root."""
    command = as_unprivileged([sys.executable, "-c", _READ_AS_NOBODY])
    folder = tempfile.mkdtemp(prefix="vowels-permissions-")  # pytest's tmp_path is closed to other users
    try:
        os.chmod(folder, 0o755)
        for name in ("ae.train", "size_ae.train"):
            shutil.copy(reference_dir / name, os.path.join(folder, name))
        os.chmod(os.path.join(folder, "ae.train"), 0o000)
        result = subprocess.run([*command, folder], capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(folder)
    if result.returncode != 0:
        pytest.skip(f"cannot run the package as an unprivileged user here: {result.stderr.strip().splitlines()[-1:]}")
    expected = os.path.join(folder, "ae.train")
    assert result.stdout == f"{expected}: cannot be read: permission denied; give your user read access to it.\n"
