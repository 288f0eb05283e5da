"""Reference embeddings from Resemblyzer itself (torch), for tests/test_speaker_encoder.py.

Usage, in a scratch environment that has them (never a dependency of vowels):
    python -m venv /tmp/scratch && /tmp/scratch/bin/pip install torch==2.13.0 resemblyzer==0.1.4
    /tmp/scratch/bin/python scripts/ge2e_references.py [--shared ../shared/data] [--out tests/data/ge2e_references.npz]

For each recording below (real speech from ../shared/data: LibriSpeech at 16 kHz, FSDD at 8 kHz,
so resampling is covered too) it stores the waveform's length, the mel spectrogram's first frames
and Resemblyzer's ``VoiceEncoder.embed_utterance`` of the waveform as Resemblyzer prepares it
(``librosa.load``, resampled to 16 kHz, ``normalize_volume(-30 dBFS, increase_only)``) without its
webrtcvad silence trimming, which vowels replaces by its own (`vowels.audio`); the partial
embeddings too. The mel front end and the network are what the test holds vowels to.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RECORDINGS = (
    "librispeech/recordings/1034-121119-0000.flac",
    "librispeech/recordings/1040-133433-0000.flac",
    "librispeech/recordings/1069-133699-0000.flac",
    "fsdd/george/0_george_10.wav",
    "fsdd/theo/7_theo_30.wav",
)


def main() -> None:
    import librosa
    import torch
    from resemblyzer import VoiceEncoder, audio, hparams

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "data" / "ge2e_references.npz")
    args = parser.parse_args()
    torch.set_num_threads(1)
    encoder = VoiceEncoder(device="cpu", verbose=False)
    out: dict[str, np.ndarray] = {"paths": np.array(RECORDINGS)}
    for i, name in enumerate(RECORDINGS):
        wav, rate = librosa.load(str(args.shared / name), sr=None)
        wav = librosa.resample(wav, orig_sr=rate, target_sr=hparams.sampling_rate)
        wav = audio.normalize_volume(wav, hparams.audio_norm_target_dBFS, increase_only=True)
        embedding, partials, _ = encoder.embed_utterance(wav, return_partials=True)
        out[f"n_samples_{i}"] = np.array(len(wav))
        out[f"mel_{i}"] = audio.wav_to_mel_spectrogram(wav)[:200]
        out[f"embedding_{i}"] = embedding
        out[f"partials_{i}"] = partials
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(args.out, **out)
    print(f"wrote {args.out} ({len(RECORDINGS)} recordings, torch {torch.__version__})")


if __name__ == "__main__":
    main()
