"""Property-based tests: mutated UCI files and recordings raise only `VowelsError`, on one line.

Every test starts from real files (the UCI Japanese Vowels files, recordings written with
soundfile), damages them with Hypothesis (flipped, inserted, deleted and overwritten bytes,
truncation, forged headers, NaN and infinite samples, absurd declared sizes) and reads the result
with the public readers. Loading may succeed; any exception other than `vowels.errors.VowelsError`
is a bug. The examples are derandomised, so CI runs the same ones every time.
"""

from __future__ import annotations

import io
import struct
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from vowels import datasets
from vowels.audio import read_audio
from vowels.datasets import load_japanese_vowels, parse_uci_utterances
from vowels.errors import VowelsError

FAST = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
SR = 8000
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # an overflow while reading is a bug too


def _first_utterances(data: bytes, n: int) -> bytes:
    """The first `n` utterances of a UCI file, cut after the n-th separator line (and its blank line)."""
    lines = data.splitlines(keepends=True)
    separators = [i for i, line in enumerate(lines) if line.split() == [b"1.0"] * 12]
    end = separators[n - 1] + 1
    if end < len(lines) and not lines[end].strip():
        end += 1
    return b"".join(lines[:end])


@pytest.fixture(scope="module")
def uci(reference_dir):
    """(ae, size_ae) bytes per split: "full" files and "small" ones of their first four utterances."""
    read = {
        name: (reference_dir / name).read_bytes() for name in ("ae.train", "ae.test", "size_ae.train", "size_ae.test")
    }
    return {
        "full": {split: (read[f"ae.{split}"], read[f"size_ae.{split}"]) for split in ("train", "test")},
        "small": {
            "train": (_first_utterances(read["ae.train"], 4), b"4\r\n"),
            "test": (_first_utterances(read["ae.test"], 4), b"1 3\r\n"),
        },
    }


NUMBERS = [b"1e39", b"-3.5e38", b"nan", b"inf", b"-0", b"1_0", b"0x1p3", b"1.0", b"", b"\t", b"\r", b"\n", b"\x0b"]


HUGE = [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF]


@st.composite
def mutated(draw: st.DrawFn, data: bytes, *, max_mutations: int = 4) -> bytes:
    """`data` after 1 to `max_mutations` byte-level changes, half of them within the first 64 bytes (the header)."""
    buffer = bytearray(data)
    for _ in range(draw(st.integers(1, max_mutations))):
        at = draw(st.integers(0, len(buffer)) | st.integers(0, min(len(buffer), 64)))
        kind = draw(
            st.sampled_from(["flip", "insert", "delete", "overwrite", "truncate", "duplicate", "token", "size"])
        )
        if kind == "flip" and at < len(buffer):
            buffer[at] ^= draw(st.integers(1, 255))
        elif kind == "insert":
            buffer[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif kind == "delete":
            del buffer[at : at + draw(st.integers(1, 256))]
        elif kind == "overwrite":
            junk = draw(st.binary(min_size=1, max_size=64))
            buffer[at : at + len(junk)] = junk
        elif kind == "truncate":
            del buffer[at:]
        elif kind == "duplicate":
            buffer[at:at] = buffer[at : at + draw(st.integers(1, 512))]
        elif kind == "token":
            buffer[at:at] = draw(st.sampled_from(NUMBERS)) + b" "
        elif kind == "size":
            buffer[at : at + 4] = struct.pack(draw(st.sampled_from(["<I", ">I"])), draw(st.sampled_from(HUGE)))
    return bytes(buffer)


def _load(split: str, ae: bytes, size: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / f"ae.{split}").write_bytes(ae)
        (Path(folder) / f"size_ae.{split}").write_bytes(size)
        try:
            data = load_japanese_vowels(split, path=folder)
        except VowelsError as exc:
            assert "\n" not in str(exc), str(exc)
            assert str(exc).startswith(folder), str(exc)
        else:
            assert all(s.dtype == np.float32 and s.shape[1] == 12 and np.isfinite(s).all() for s in data.sequences)


@FAST
@given(split=st.sampled_from(["train", "test"]), data=st.data())
def test_mutated_uci_file_loads_or_raises_vowels_error(uci, split, data):
    ae, size = uci["small"][split]
    _load(split, data.draw(mutated(ae), label="ae"), size)


@settings(FAST, max_examples=15)
@given(split=st.sampled_from(["train", "test"]), data=st.data())
def test_mutated_full_uci_file_loads_or_raises_vowels_error(uci, split, data):
    ae, size = uci["full"][split]
    _load(split, data.draw(mutated(ae, max_mutations=2), label="ae"), size)


@settings(FAST, max_examples=40)
@given(split=st.sampled_from(["train", "test"]), data=st.data())
def test_mutated_size_file_loads_or_raises_vowels_error(uci, split, data):
    ae, size = uci["small"][split]
    _load(split, ae, data.draw(mutated(size) | st.binary(max_size=200), label="size"))


@settings(FAST, max_examples=30)
@given(ae=st.binary(max_size=2000), size=st.binary(max_size=40))
def test_random_bytes_as_uci_files_raise_vowels_error(ae, size):
    _load("train", ae, size)


@FAST
@given(
    pieces=st.lists(
        st.tuples(
            st.sampled_from(["0.5 " * 12, "1.0 " * 12, "", "   ", "0.5 0.5", "1e39 " * 12, "x"]),
            st.sampled_from(["\n", "\r\n", "\r", "\x0b", "\x1c", ""]),
        ),
        max_size=12,
    ),
    block=st.integers(1, 9),
)
def test_streamed_parse_matches_parsing_the_whole_text(pieces, block):
    """Read a few bytes at a time, a file splits into the same lines, utterances and errors as its whole text."""
    joined = "".join(line + end for line, end in pieces)

    def outcome(parse):
        try:
            sequences, origins = parse()
        except VowelsError as exc:
            return str(exc)
        return [s.tolist() for s in sequences], origins

    whole = outcome(lambda: parse_uci_utterances(joined, source="f"))
    with mock.patch.object(datasets, "_BLOCK_BYTES", block):
        stream = io.BytesIO(joined.encode("ascii"))
        streamed = outcome(lambda: datasets._parse_lines(datasets._lines(stream, "f"), source="f"))
    assert streamed == whole


def _tone(seconds: float = 0.25, channels: int = 1) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    y = 0.5 * np.sin(2 * np.pi * 220 * t) + 0.01 * np.random.default_rng(0).standard_normal(len(t))
    return np.repeat(y[:, None], channels, axis=1).astype(np.float32)


def _encoded(fmt: str, subtype: str, channels: int = 1) -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, _tone(channels=channels), SR, format=fmt, subtype=subtype)
    return buffer.getvalue()


RECORDINGS = {
    "pcm16.wav": _encoded("WAV", "PCM_16"),
    "float_stereo.wav": _encoded("WAV", "FLOAT", channels=2),
    "pcm24.flac": _encoded("FLAC", "PCM_24"),
    "pcm16.aiff": _encoded("AIFF", "PCM_16"),
}


def _read(name: str, data: bytes, *, sr: int = SR, dsp: str = "numpy") -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            y = read_audio(path, sr=sr, min_samples=64, dsp=dsp)
        except VowelsError as exc:
            assert "\n" not in str(exc), str(exc)
            assert str(exc).startswith(f"{path}: "), str(exc)
        else:
            assert y.dtype == np.float32 and y.ndim == 1 and np.isfinite(y).all()


@settings(FAST, max_examples=80)
@given(
    name=st.sampled_from(sorted(RECORDINGS)),
    sr=st.sampled_from([SR, 16000]),
    dsp=st.sampled_from(["numpy", "librosa"]),
    data=st.data(),
)
def test_mutated_recording_reads_or_raises_vowels_error(name, sr, dsp, data):
    _read(name, data.draw(mutated(RECORDINGS[name]), label="bytes"), sr=sr, dsp=dsp)


@settings(FAST, max_examples=30)
@given(name=st.sampled_from(["a.wav", "a.flac", "a.aiff", "a.ogg", "a"]), data=st.binary(max_size=3000))
def test_random_bytes_as_recording_raise_vowels_error(name, data):
    _read(name, data)


def _riff(fmt_tag: int, channels: int, rate: int, bits: int, data_size: int, riff_size: int, body: bytes) -> bytes:
    block_align = (channels * bits // 8) & 0xFFFF
    byte_rate = (rate * block_align) & 0xFFFFFFFF
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, rate, byte_rate, block_align, bits)
    return (
        b"RIFF"
        + struct.pack("<I", riff_size & 0xFFFFFFFF)
        + b"WAVEfmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + struct.pack("<I", data_size & 0xFFFFFFFF)
        + body
    )


@settings(FAST, max_examples=80)
@given(
    fmt_tag=st.sampled_from([1, 3, 6, 7, 0xFFFE, 0]) | st.integers(0, 0xFFFF),
    channels=st.sampled_from([0, 1, 2, 8, 255, 0xFFFF]) | st.integers(0, 0xFFFF),
    rate=st.sampled_from([0, 1, 7, 8000, 44100, 0x7FFFFFFF, 0xFFFFFFFF]) | st.integers(0, 0xFFFFFFFF),
    bits=st.sampled_from([0, 1, 8, 12, 16, 24, 32, 64, 0xFFFF]),
    data_size=st.sampled_from(HUGE) | st.integers(0, 0xFFFFFFFF),
    riff_size=st.sampled_from(HUGE) | st.integers(0, 0xFFFFFFFF),
    body=st.sampled_from([b"", bytes(_tone().astype("<f4").tobytes()), (_tone() * 30000).astype("<i2").tobytes()])
    | st.binary(max_size=4000),
)
def test_wav_header_with_any_fields_and_body_raises_only_vowels_error(
    fmt_tag, channels, rate, bits, data_size, riff_size, body
):
    _read("forged.wav", _riff(fmt_tag, channels, rate, bits, data_size, riff_size, body))


SPECIAL = [np.nan, np.inf, -np.inf, 3e38, -3e38, 1e-45, 0.0, 1e10, -1.5]


@settings(FAST, max_examples=40)
@given(
    subtype=st.sampled_from(["FLOAT", "DOUBLE"]),
    channels=st.integers(1, 3),
    where=st.lists(st.tuples(st.integers(0, round(0.25 * SR) - 1), st.sampled_from(SPECIAL)), max_size=6),
    everywhere=st.none() | st.sampled_from(SPECIAL),
    dsp=st.sampled_from(["numpy", "librosa"]),
)
@example(subtype="FLOAT", channels=2, where=[(0, 3e38)], everywhere=None, dsp="librosa")  # inf once mixed down
@example(subtype="DOUBLE", channels=1, where=[], everywhere=1e10, dsp="numpy")  # overflows float32 when squared
def test_float_recording_with_special_values_reads_or_raises_vowels_error(subtype, channels, where, everywhere, dsp):
    y = _tone(channels=channels).astype(np.float64)
    if everywhere is not None:
        y[:] = everywhere
    for index, value in where:
        y[index] = value
    buffer = io.BytesIO()
    sf.write(buffer, y, SR, format="WAV", subtype=subtype)
    _read("special.wav", buffer.getvalue(), sr=16000, dsp=dsp)
