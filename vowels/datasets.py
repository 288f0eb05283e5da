"""Utterances, the one container of sequences, and the strict Japanese Vowels loader."""

from __future__ import annotations

import gzip
import hashlib
import io
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import BinaryIO

import numpy as np

from .errors import DataError, ParameterError, unreadable
from .validation import check_choice

__all__ = [
    "BUNDLED_SHA256",
    "MAX_LINE_BYTES",
    "Utterances",
    "check_sequences",
    "load_japanese_vowels",
    "parse_uci_utterances",
]

N_COEFFICIENTS = 12
BUNDLED_SHA256 = {
    "ae.train": "7ae33b2b678b6c0df7a4137e5b82e127e95d63b2e2d7764e7e4ea3fe1b659935",
    "ae.test": "7894594714a3186f8961c75535654cdc6bd232d3dd97d7c04c99bfa3013f57a9",
    "size_ae.train": "571607e771f5bcc03fe5213b8e7cfc67f0a26aade2a9f2202c2c6bf955d887be",
    "size_ae.test": "68db3381c31a102dd688dd74a7865532edb6d55f291ca86a60a9ed711208db86",
}
_SEPARATOR = np.ones(N_COEFFICIENTS, dtype=np.float64)
MAX_LINE_BYTES = 64 * 1024
"""Longest line a UCI file may hold, in bytes (a real one is a few hundred), refused once this much is read."""
_BLOCK_BYTES = 64 * 1024  # read size (bytes) of the line splitter


@dataclass(frozen=True)
class Utterances:
    """Variable-length sequences with one speaker label each.

    Attributes
    ----------
    sequences : list of np.ndarray of shape (n_frames, n_features), float32
    labels : np.ndarray of str, shape (n_utterances,)
        The speaker name of each utterance.
    speakers : tuple of str
        Every speaker name, in their canonical order.
    sources : tuple of str
        Where each utterance came from (file and line range, or audio path).
    """

    sequences: list[np.ndarray]
    labels: np.ndarray
    speakers: tuple[str, ...]
    sources: tuple[str, ...]

    def __post_init__(self) -> None:
        n = len(self.sequences)
        if len(self.labels) != n or len(self.sources) != n:
            raise ParameterError(
                f"Utterances needs one label and one source per sequence; got {n} sequences, "
                f"{len(self.labels)} labels and {len(self.sources)} sources."
            )
        unknown = sorted(str(label) for label in set(self.labels) - set(self.speakers))
        if unknown:
            raise ParameterError(f"labels {unknown} are not among speakers {[str(s) for s in self.speakers]}.")

    def __len__(self) -> int:
        return len(self.sequences)

    def __repr__(self) -> str:
        """One line of sizes, not the arrays: ``Utterances(270 sequences of 12 features, 7-26 frames, ...)``."""
        lengths, shape = self.lengths, "0 sequences"
        if len(self):
            shape = f"{len(self)} sequences of {self.n_features} features, {lengths.min()}-{lengths.max()} frames"
        names = [repr(str(s)) for s in self.speakers]
        listed = ", ".join(names) if len(names) <= 3 else f"{names[0]}..{names[-1]}"
        return f"Utterances({shape}, {len(names)} speakers{': ' + listed if names else ''})"

    @property
    def lengths(self) -> np.ndarray:
        """Number of frames of each utterance."""
        return np.array([len(s) for s in self.sequences], dtype=np.int64)

    @property
    def n_features(self) -> int:
        """Number of features per frame."""
        return int(self.sequences[0].shape[1]) if self.sequences else 0

    @property
    def codes(self) -> np.ndarray:
        """Each label as its index in `speakers`."""
        index = {name: i for i, name in enumerate(self.speakers)}
        return np.array([index[label] for label in self.labels], dtype=np.int64)

    def subset(self, indices: Sequence[int] | np.ndarray) -> Utterances:
        """The utterances at `indices`, in that order, with the same speaker list."""
        idx = [int(i) for i in indices]
        sources = tuple(self.sources[i] for i in idx)
        return Utterances([self.sequences[i] for i in idx], self.labels[idx], self.speakers, sources)


def _open(folder: Path | None, name: str) -> tuple[BinaryIO, str]:
    """A binary stream over one UCI file and the name to show in errors."""
    if folder is None:
        sizes = name.startswith("size_")
        raw = (resources.files("vowels") / "data" / "japanese_vowels" / (name if sizes else f"{name}.gz")).read_bytes()
        data = raw if sizes else gzip.decompress(raw)
        if (digest := hashlib.sha256(data).hexdigest()) != BUNDLED_SHA256[name]:
            raise DataError(
                f"bundled {name}: sha256 {digest} does not match the original "
                f"{BUNDLED_SHA256[name]}; reinstall the package."
            )
        return io.BytesIO(data), f"bundled {name}"
    file = folder / name
    try:
        return open(file, "rb"), str(file)
    except FileNotFoundError:
        raise DataError(f"{file}: file not found; the folder needs the UCI file {name}.") from None
    except OSError as exc:
        raise unreadable(file, exc) from None


def _read_ascii(stream: BinaryIO, size: int, offset: int, source: str, *, too_long: str = "") -> str:
    """Up to `size` bytes of `stream`, from byte `offset` of the file `source`, as ASCII; `too_long` if all `size`."""
    try:
        data = stream.read(size)
    except OSError as exc:
        raise unreadable(source, exc) from None
    if too_long and len(data) == size:
        raise DataError(too_long)
    try:
        return data.decode("ascii")
    except UnicodeDecodeError as exc:
        raise DataError(f"{source}: not a text file (byte {offset + exc.start} is not ASCII).") from None


def _lines(stream: BinaryIO, source: str) -> Iterator[str]:
    """The lines of an ASCII stream as `str.splitlines(keepends=True)`, refused beyond `MAX_LINE_BYTES` as read."""
    pending, offset, number = "", 0, 0
    while True:
        block = _read_ascii(stream, _BLOCK_BYTES, offset, source)
        pieces = (pending + block).splitlines(keepends=True)
        offset += len(block)
        # Before the end, the last piece may go on in the next block (no line break yet, or "\r" before "\n").
        pending = pieces.pop() if block and pieces else ""
        for piece in pieces:
            number += 1
            if len(piece) > MAX_LINE_BYTES:
                raise _line_too_long(source, number)
            yield piece
        if len(pending) > MAX_LINE_BYTES:
            raise _line_too_long(source, number + 1)
        if not block:
            return


def _line_too_long(source: str, number: int) -> DataError:
    """The error for line `number` of `source` past `MAX_LINE_BYTES`."""
    return DataError(
        f"{source}, line {number}: longer than {MAX_LINE_BYTES} bytes, expected {N_COEFFICIENTS} numbers "
        "(a few hundred bytes); this is not a UCI Japanese Vowels file."
    )


def parse_uci_utterances(text: str, *, source: str) -> tuple[list[np.ndarray], list[str]]:
    """Split UCI Japanese Vowels text into utterances, strictly: a `DataError` naming the line for one that does not
    hold 12 finite float32 numbers, or for text that ends inside an utterance.

    Parameters
    ----------
    text : str
        Lines of 12 numbers; each utterance ends with a line of twelve 1.0 values, then maybe one blank line.
    source : str
        The file's name, for error messages and each utterance's source.

    Returns
    -------
    sequences : list of np.ndarray of shape (n_frames, 12), float32
    origins : list of str
        ``"<source>:<first line>-<last line>"`` for each utterance.
    """
    return _parse_lines(text.splitlines(), source=source)


def _parse_lines(lines: Iterable[str], *, source: str) -> tuple[list[np.ndarray], list[str]]:
    """`parse_uci_utterances` over lines as they come, holding only the utterance being read."""
    sequences: list[np.ndarray] = []
    origins: list[str] = []
    frames: list[list[float]] = []
    first_line, number, after_separator = 1, 0, False
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields and after_separator:  # ae.test follows each separator line with a blank line
            after_separator, first_line = False, number + 1
            continue
        after_separator = False
        if len(fields) != N_COEFFICIENTS:
            raise DataError(f"{source}, line {number}: expected {N_COEFFICIENTS} numbers, found {len(fields)}.")
        values: list[float] = []
        for field in fields:
            try:
                values.append(float(field))
            except ValueError:
                raise DataError(f"{source}, line {number}: {field!r} is not a number.") from None
        with np.errstate(over="ignore"):
            finite = np.isfinite(np.asarray(values, dtype=np.float32))  # 1e39 is finite, but inf as float32
        if not finite.all():
            bad = fields[int(np.argmin(finite))]
            raise DataError(
                f"{source}, line {number}: {bad!r} is not a finite float32 number (magnitude at most "
                f"{np.finfo(np.float32).max:.6g}); fix or re-copy the file."
            )
        if np.array_equal(values, _SEPARATOR):
            if not frames:
                raise DataError(f"{source}, line {number}: separator line with no frames before it.")
            sequences.append(np.asarray(frames, dtype=np.float32))
            origins.append(f"{source}:{first_line}-{number - 1}")
            frames, first_line, after_separator = [], number + 1, True
        else:
            frames.append(values)
    if frames:
        raise DataError(
            f"{source}, line {number}: the last utterance (from line {first_line}) has no "
            "separator line of twelve 1.0 values after it; the file may be truncated."
        )
    if not sequences:
        raise DataError(f"{source}: no utterances found; the file is empty.")
    return sequences, origins


def load_japanese_vowels(split: str = "train", *, path: str | os.PathLike[str] | None = None) -> Utterances:
    """Load the training (270) or test (370) utterances of the UCI Japanese Vowels data set; a `DataError` naming the
    file and line if one is missing or malformed.

    Parameters
    ----------
    split : {"train", "test"}, default="train"
    path : path-like, default=None
        A folder with the UCI files (``ae.train``, ``size_ae.train``, ...); None: ``$VOWELS_DATA`` if set, else
        the copy bundled with the package, checked against its sha256.

    Returns
    -------
    Utterances
        Sequences of shape (n_frames, 12) of LPC cepstrum coefficients, float32, in file order; speakers "1".."9".
    """
    check_choice(split, "split", ("train", "test"))
    chosen = path if path is not None else os.environ.get("VOWELS_DATA") or None
    folder = None if chosen is None else Path(chosen)  # None: the bundled copy
    try:
        is_folder = folder is None or folder.is_dir()
    except OSError as exc:  # an enclosing folder this user may not enter
        raise unreadable(folder, exc) from None
    if not is_folder:
        origin = "path" if path is not None else "$VOWELS_DATA"
        raise DataError(
            f"{folder}: not a folder ({origin}); point it at a folder holding "
            "ae.train, ae.test, size_ae.train and size_ae.test."
        )
    stream, shown = _open(folder, f"ae.{split}")
    with stream:
        sizes, size_shown = _open(folder, f"size_ae.{split}")
        too_long = (
            f"{size_shown}: more than {MAX_LINE_BYTES} bytes, expected one line of per-speaker utterance counts; "
            "this is not a UCI size file."
        )
        with sizes:
            size_text = _read_ascii(sizes, MAX_LINE_BYTES + 1, 0, size_shown, too_long=too_long)
        sequences, origins = _parse_lines(_lines(stream, shown), source=shown)
    try:
        counts = [int(field) for field in size_text.split()]
    except ValueError:
        raise DataError(f"{size_shown}, line 1: expected whole numbers, found {size_text.strip()!r}.") from None
    if not counts or any(c <= 0 for c in counts):
        raise DataError(f"{size_shown}, line 1: expected positive counts, found {size_text.strip()!r}.")
    if sum(counts) != len(sequences):
        raise DataError(
            f"{shown}: holds {len(sequences)} utterances but {size_shown} lists "
            f"{sum(counts)} ({' + '.join(map(str, counts))})."
        )
    speakers = tuple(str(i) for i in range(1, len(counts) + 1))
    labels = np.repeat(np.array(speakers), counts)
    return Utterances(sequences=sequences, labels=labels, speakers=speakers, sources=tuple(origins))


def check_sequences(
    X: Utterances | Sequence[np.ndarray] | np.ndarray, *, n_features: int | None = None
) -> list[np.ndarray]:
    """`X` (an `Utterances`, a list of 2-D arrays or a 3-D array of equal-length sequences) checked once, at the edge,
    as float32 arrays of shape (n_frames, n_features)."""
    if isinstance(X, Utterances):
        X = X.sequences
    if isinstance(X, np.ndarray):
        if X.ndim != 3:
            shown = f"got an array of shape {X.shape}"
            raise DataError(f"X must be a list of 2-D arrays (n_frames, n_features) or one 3-D array; {shown}.")
        X = list(X)
    if len(X) == 0:
        raise DataError("X holds no sequences; pass at least one (n_frames, n_features) array.")
    out: list[np.ndarray] = []
    for i, seq in enumerate(X):
        arr = np.asarray(seq, dtype=np.float32)
        if arr.ndim != 2:
            raise DataError(f"sequence {i} has shape {arr.shape}; expected (n_frames, n_features).")
        if arr.shape[0] == 0:
            raise DataError(f"sequence {i} has no frames.")
        n_features = arr.shape[1] if n_features is None else n_features
        if arr.shape[1] != n_features:
            raise DataError(f"sequence {i} has {arr.shape[1]} features per frame; expected {n_features}.")
        if not np.all(np.isfinite(arr)):
            raise DataError(f"sequence {i} holds NaN or infinite values.")
        out.append(arr)
    return out
