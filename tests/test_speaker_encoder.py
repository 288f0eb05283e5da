"""The GE2E speaker encoder in NumPy against Resemblyzer's own embeddings, its weights' provenance, and the
restricted unpickler that converted them."""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import pickle
import struct
import subprocess
import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from vowels.audio import read_audio
from vowels.errors import BundleError
from vowels.speaker_encoder import (
    SAMPLE_RATE,
    WEIGHTS,
    load_encoder,
    mel_frames,
    normalize_volume,
    partial_starts,
)
from vowels.voice_activity import drop_long_pauses

REPOSITORY = Path(__file__).resolve().parents[1]
REFERENCES = Path(__file__).parent / "data" / "ge2e_references.npz"


def _converter():
    spec = importlib.util.spec_from_file_location("convert_ge2e", REPOSITORY / "scripts" / "convert_ge2e.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def references(shared_data_dir):
    """Resemblyzer 0.1.4's outputs (scripts/ge2e_references.py, torch 2.13) and vowels' waveforms of the same files."""
    ref = np.load(REFERENCES)
    waves = [
        normalize_volume(read_audio(shared_data_dir / str(p), sr=SAMPLE_RATE, trim_db=None, dsp="numpy"))
        for p in ref["paths"]
    ]
    return ref, waves


def test_embeddings_equal_resemblyzers_within_1e_4(references):
    ref, waves = references
    encoder = load_encoder()
    for i, wav in enumerate(waves):
        assert len(wav) == int(ref[f"n_samples_{i}"])
        embedding = encoder.embed_waveform(wav)
        np.testing.assert_allclose(embedding.partials, ref[f"partials_{i}"], atol=1e-4)
        np.testing.assert_allclose(embedding.vector, ref[f"embedding_{i}"], atol=1e-4)
        assert np.linalg.norm(embedding.vector) == pytest.approx(1.0, abs=1e-5)


def test_mel_front_end_equals_resemblyzers(references):
    ref, waves = references
    for i, wav in enumerate(waves):
        expected = ref[f"mel_{i}"]
        np.testing.assert_allclose(mel_frames(wav)[: len(expected)], expected, rtol=1e-4, atol=1e-6 * expected.max())


def test_partials_cover_the_recording_as_resemblyzer_cuts_it(references):
    ref, _ = references
    for i in range(len(ref["paths"])):
        assert len(partial_starts(int(ref[f"n_samples_{i}"]))) == len(ref[f"partials_{i}"])
    assert list(partial_starts(100)) == [0]  # shorter than one partial: one, zero-padded
    starts = partial_starts(10 * SAMPLE_RATE)
    assert np.all(np.diff(starts) == 77)  # 1.3 partials a second, about 50 % overlap of 160 frames


def test_pauses_are_dropped_and_times_map_back_to_the_recording(references):
    _, waves = references
    speech = waves[0][: 3 * SAMPLE_RATE]
    gap = np.zeros(2 * SAMPLE_RATE, dtype=np.float32)
    with_pause = np.concatenate([speech, gap, speech])
    kept, windows = drop_long_pauses(with_pause, SAMPLE_RATE)
    assert len(kept) < len(with_pause) - SAMPLE_RATE  # most of the 2 s pause is gone
    embedding = load_encoder().embed_samples(with_pause)
    assert embedding.ends[-1] == pytest.approx(len(with_pause) / SAMPLE_RATE, abs=0.05)
    assert np.all(np.diff(embedding.starts) > 0)


def test_a_ten_minute_recording_is_embedded_in_bounded_memory(references):
    _, waves = references
    long = np.tile(waves[1], int(np.ceil(600 * SAMPLE_RATE / len(waves[1]))))[: 600 * SAMPLE_RATE]
    encoder = load_encoder()
    tracemalloc.start()
    embedding = encoder.embed_samples(long)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(embedding.partials) > 400  # 1.3 a second, long pauses dropped first
    assert peak < 250 * 2**20, f"peak {peak / 2**20:.0f} MiB while embedding 10 minutes"


def test_the_shipped_weights_are_the_converted_ones_with_their_provenance():
    provenance = json.loads((WEIGHTS.parent / "PROVENANCE.json").read_text())
    assert hashlib.sha256(WEIGHTS.read_bytes()).hexdigest() == provenance["npz_sha256"]
    assert len(provenance["wheel_sha256"]) == 64
    assert "Apache License" in (WEIGHTS.parent / "LICENSE").read_text()
    assert provenance["wheel_sha256"] in (WEIGHTS.parent / "NOTICE").read_text()
    with np.load(WEIGHTS) as arrays:
        assert {k: list(arrays[k].shape) for k in arrays.files} == provenance["arrays"]


def test_missing_or_foreign_weights_are_refused_by_name(tmp_path):
    with pytest.raises(BundleError, match="not found"):
        load_encoder(tmp_path / "none.npz")
    other = tmp_path / "other.npz"
    np.savez(other, something=np.zeros(3))
    with pytest.raises(BundleError, match="not the GE2E encoder's weights"):
        load_encoder(other)


def test_encoding_imports_no_torch_tensorflow_keras_or_librosa():
    code = (
        "import sys, numpy as np\n"
        "from vowels.speaker_encoder import load_encoder\n"
        "load_encoder().embed_samples(np.random.default_rng(0).standard_normal(32000).astype('float32'))\n"
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras', 'librosa') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _op(value: object) -> bytes:
    """A value as pickle protocol-2 opcodes: str, int, False, None or a tuple of them."""
    if isinstance(value, str):
        data = value.encode()
        return b"X" + struct.pack("<I", len(data)) + data
    if value is False:
        return b"\x89"
    if value is None:
        return b"N"
    if isinstance(value, int):
        return b"J" + struct.pack("<i", value)
    assert isinstance(value, tuple)
    return b"(" + b"".join(_op(v) for v in value) + b"t"


def _global(module: str, name: str) -> bytes:
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n"


def _legacy_checkpoint(state: dict[str, np.ndarray], *, extra: bytes = b"") -> bytes:
    """torch's legacy serialisation of ``{"model_state": OrderedDict(state)}``, written opcode by opcode as
    torch writes it: magic, protocol, system info, the object (tensors rebuilt by ``_rebuild_tensor_v2`` from
    persistent storages), the storage keys, then each storage as its element count and raw bytes."""
    out = io.BytesIO()
    for header in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}):
        pickle.dump(header, out, protocol=2)
    ordered = _global("collections", "OrderedDict") + b")R"
    items = b""
    for key, (name, array) in enumerate(state.items()):
        storage_id = _op((str(key), "cpu", array.size, None))[1:]  # without its MARK: continues the tuple
        storage = b"(" + _op("storage") + _global("torch", "FloatStorage") + storage_id
        stride = tuple(int(np.prod(array.shape[i + 1 :])) for i in range(array.ndim))
        tensor = (
            _global("torch._utils", "_rebuild_tensor_v2")
            + b"("
            + storage
            + b"Q"
            + _op(0)
            + _op(tuple(array.shape))
            + _op(stride)
            + _op(False)
            + ordered
            + b"tR"
        )
        items += _op(name) + tensor
    out.write(b"\x80\x02}" + _op("model_state") + ordered + b"(" + items + b"us" + extra + b".")
    pickle.dump([str(k) for k in range(len(state))], out, protocol=2)
    for array in state.values():
        out.write(np.int64(array.size).tobytes() + array.astype("<f4").tobytes())
    return out.getvalue()


def test_restricted_unpickler_rebuilds_tensors_and_refuses_any_other_global():
    convert = _converter()
    state = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([1.5, -2.0], dtype=np.float32)}
    read = convert.read_legacy_checkpoint(_legacy_checkpoint(state))
    assert list(read["model_state"]) == ["w", "b"]
    for name, array in state.items():
        np.testing.assert_array_equal(read["model_state"][name], array)
    evil = _op("payload") + _global("os", "system") + _op(("echo pwned",)) + b"Rs"
    with pytest.raises(pickle.UnpicklingError, match="refused global os.system"):
        convert.read_legacy_checkpoint(_legacy_checkpoint(state, extra=b"}" + b"0" + evil))
