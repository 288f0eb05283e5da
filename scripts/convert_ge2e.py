"""Convert Resemblyzer's pretrained GE2E speaker encoder into vowels/data/ge2e/ (NumPy arrays), without torch.

Usage: python scripts/convert_ge2e.py [--wheel Resemblyzer-0.1.4-py3-none-any.whl] [--out vowels/data/ge2e]

Without --wheel, pip downloads Resemblyzer 0.1.4's wheel (no dependencies) into a temporary
folder. The wheel's ``resemblyzer/pretrained.pt`` is a torch checkpoint in torch's legacy
(pre-1.6, non-zip) format: a few pickles followed by the raw storages. It is read here with a
restricted unpickler that rebuilds tensors and OrderedDicts and refuses every other global, so
no code from the file runs. Writes:

- ``ge2e.npz``: the encoder's weights, float32, under their torch names (``lstm.weight_ih_l0``,
  ..., ``linear.weight``, ``linear.bias``); the optimiser state and step count are left out;
- ``PROVENANCE.json``: the wheel's file name and sha256, the checkpoint's sha256, the array names,
  shapes and the npz's sha256;
- ``LICENSE`` (Apache-2.0, from the wheel's metadata) and ``NOTICE``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import pickle
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections import OrderedDict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
VERSION = "0.1.4"
WHEEL = f"Resemblyzer-{VERSION}-py3-none-any.whl"
CHECKPOINT = "resemblyzer/pretrained.pt"
STORAGE_DTYPES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}

NOTICE = """\
The speaker encoder weights in this folder (ge2e.npz) are converted from
Resemblyzer {version} (https://github.com/resemble-ai/Resemblyzer), file {checkpoint}
of the wheel {wheel} (sha256 {wheel_sha256}).

Resemblyzer is Copyright (c) Resemble AI and its contributors, licensed under the
Apache License, Version 2.0 (LICENSE in this folder). The model is the GE2E speaker encoder
of Wan et al., "Generalized End-to-End Loss for Speaker Verification" (ICASSP 2018).

Modifications: the tensors of the checkpoint's model_state were read without torch and saved
as float32 NumPy arrays under their original names by vowels' scripts/convert_ge2e.py; the
optimiser state was dropped. No weight was changed.
"""


class _Storage:
    """A storage named by a persistent id: its dtype and element count, filled after the main pickle."""

    def __init__(self, dtype: type, size: int) -> None:
        self.dtype, self.size = np.dtype(dtype), size
        self.data: np.ndarray | None = None


class _Tensor:
    """A tensor to rebuild once its storage is read: a strided view into it."""

    def __init__(self, storage: _Storage, offset: int, size: tuple, stride: tuple) -> None:
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)

    def array(self) -> np.ndarray:
        assert self.storage.data is not None
        item = self.storage.dtype.itemsize
        view = np.lib.stride_tricks.as_strided(
            self.storage.data[self.offset :], shape=self.size, strides=[s * item for s in self.stride]
        )
        return np.array(view)


def _rebuild_tensor(storage: _Storage, offset: int, size: tuple, stride: tuple, *_: object) -> _Tensor:
    return _Tensor(storage, offset, size, stride)


class _RestrictedUnpickler(pickle.Unpickler):
    """Builds tensors, storages and OrderedDicts; refuses any other global, so no code runs."""

    def __init__(self, file: io.BufferedIOBase, storages: dict[str, _Storage]) -> None:
        super().__init__(file)
        self.storages = storages

    def find_class(self, module: str, name: str) -> object:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if module == "torch._utils" and name in ("_rebuild_tensor", "_rebuild_tensor_v2"):
            return _rebuild_tensor
        if module == "torch" and name in STORAGE_DTYPES:
            return name
        raise pickle.UnpicklingError(f"refused global {module}.{name}: not a tensor, storage or OrderedDict")

    def persistent_load(self, pid: object) -> _Storage:
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage" and pid[1] in STORAGE_DTYPES):
            raise pickle.UnpicklingError(f"unexpected persistent id {pid!r}")
        _, kind, key, _location, size = pid[:5]
        if len(pid) > 5 and pid[5] is not None:
            raise pickle.UnpicklingError("storage views are not supported")
        if key not in self.storages:
            self.storages[key] = _Storage(STORAGE_DTYPES[kind], int(size))
        return self.storages[key]


def read_legacy_checkpoint(data: bytes) -> object:
    """The object saved by torch's legacy serialisation, with every tensor as a float32/… NumPy array."""
    f = io.BytesIO(data)
    storages: dict[str, _Storage] = {}
    for _ in range(3):  # magic number, protocol version, system info
        _RestrictedUnpickler(f, storages).load()
    result = _RestrictedUnpickler(f, storages).load()
    keys = _RestrictedUnpickler(f, storages).load()
    for key in keys:
        storage = storages[key]
        (count,) = struct.unpack("<q", f.read(8))
        if count != storage.size:
            raise ValueError(f"storage {key}: {count} elements on disk, {storage.size} announced")
        raw = f.read(count * storage.dtype.itemsize)
        storage.data = np.frombuffer(raw, dtype=storage.dtype.newbyteorder("<")).astype(storage.dtype)
    return _arrays(result)


def _arrays(value: object) -> object:
    if isinstance(value, _Tensor):
        return value.array()
    if isinstance(value, dict):
        return {k: _arrays(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_arrays(v) for v in value)
    return value


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download_wheel(folder: Path) -> Path:
    """Resemblyzer's wheel from the package index, through pip, without its dependencies."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(folder)]
    subprocess.run([*command, f"resemblyzer=={VERSION}"], check=True)
    return next(folder.glob("[Rr]esemblyzer-*.whl"))


def convert(wheel: Path, out: Path) -> dict:
    """Write the encoder's arrays, provenance, licence and notice into `out`; return the provenance."""
    wheel_bytes = wheel.read_bytes()
    with zipfile.ZipFile(io.BytesIO(wheel_bytes)) as archive:
        checkpoint = archive.read(CHECKPOINT)
        licence = next(
            (archive.read(n) for n in archive.namelist() if n.endswith(("LICENSE", "LICENSE.txt", "LICENSE.md"))),
            None,
        )
    state = read_legacy_checkpoint(checkpoint)
    if not isinstance(state, dict) or "model_state" not in state:
        raise ValueError(f"{wheel}: {CHECKPOINT} holds no model_state")
    arrays = {name: np.asarray(a, dtype=np.float32) for name, a in state["model_state"].items()}
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    npz = buffer.getvalue()
    out.mkdir(parents=True, exist_ok=True)
    (out / "ge2e.npz").write_bytes(npz)
    provenance = {
        "source": f"Resemblyzer {VERSION} (PyPI wheel), Apache-2.0",
        "wheel": wheel.name,
        "wheel_sha256": sha256(wheel_bytes),
        "checkpoint": CHECKPOINT,
        "checkpoint_sha256": sha256(checkpoint),
        "npz_sha256": sha256(npz),
        "arrays": {name: list(a.shape) for name, a in arrays.items()},
        "converted_by": "scripts/convert_ge2e.py",
    }
    (out / "PROVENANCE.json").write_text(json.dumps(provenance, indent=2) + "\n")
    if licence is None:
        raise ValueError(f"{wheel}: no licence file in the wheel")
    (out / "LICENSE").write_bytes(licence)
    (out / "NOTICE").write_text(
        NOTICE.format(version=VERSION, checkpoint=CHECKPOINT, wheel=wheel.name, wheel_sha256=provenance["wheel_sha256"])
    )
    return provenance


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="Resemblyzer's wheel (downloaded with pip when not given)")
    parser.add_argument("--out", type=Path, default=ROOT / "vowels" / "data" / "ge2e")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(Path(tmp))
        provenance = convert(wheel, args.out)
    print(json.dumps(provenance, indent=2))


if __name__ == "__main__":
    main()
