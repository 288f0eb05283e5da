"""The network's open-set score fused with the speaker encoder's: the rule on constructed calibration folds, then a
real model trained on FSDD recordings copied to disk, saved, loaded and asked as `vowels classify` asks."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vowels.cli import main
from vowels.errors import ParameterError
from vowels.fusion import WEIGHTS, CalibrationFold, ScoreFusion
from vowels.recordings import RecordingClassifier


def _folds(network_noise: float, encoder_noise: float, seed: int = 0) -> list[CalibrationFold]:
    """Three folds of 3 known speakers; genuine rows score 1 for their speaker, strangers 0 everywhere, plus noise."""
    rng = np.random.default_rng(seed)
    folds = []
    for _ in range(3):
        truth = np.r_[np.repeat(np.arange(3), 10), np.full(10, -1)]
        clean = np.zeros((40, 3))
        clean[np.arange(30), truth[:30]] = 1.0
        folds.append(
            CalibrationFold(
                clean + network_noise * rng.standard_normal(clean.shape),
                clean + encoder_noise * rng.standard_normal(clean.shape),
                truth,
            )
        )
    return folds


def test_the_better_score_gets_the_weight_and_the_rule_round_trips():
    encoder_only, genuine, impostor = ScoreFusion.choose(_folds(network_noise=0.5, encoder_noise=0.05))
    assert encoder_only.weight < 0.5
    assert genuine.mean() > impostor.mean()
    network_only, _, _ = ScoreFusion.choose(_folds(network_noise=0.05, encoder_noise=0.5))
    assert network_only.weight > 0.5
    assert set(network_only.equal_error_rates) == {str(w) for w in WEIGHTS}
    assert ScoreFusion.from_dict(json.loads(json.dumps(network_only.to_dict()))) == network_only


def test_scores_are_put_on_one_scale_before_weighting():
    fusion = ScoreFusion(0.5, network=(0.2, 0.6), encoder=(0.7, 0.9), equal_error_rates={})
    fused = fusion.combine(np.array([[0.2, 0.6]]), np.array([[0.7, 0.9]]))
    np.testing.assert_allclose(fused, [[0.0, 1.0]])


def test_a_score_that_does_not_separate_gets_no_weight_and_nothing_blows_up():
    """Few calibration scores whose network means coincide (as three speakers with three takes each gave): the
    scale stays bounded, the network gets no weight, and every fused score is an open-set score in [-1, 1]."""
    folds = _folds(network_noise=0.0, encoder_noise=0.05)
    flat = [CalibrationFold(np.full_like(f.network, 0.3), f.encoder, f.truth) for f in folds]
    fusion, genuine, impostor = ScoreFusion.choose(flat)
    assert fusion.weight == 0.0
    assert set(fusion.equal_error_rates) == {"0.0"}
    fused = fusion.combine(np.array([[5.0, -5.0]]), np.array([[40.0, -40.0]]))
    assert fused.max() <= 1 and fused.min() >= -1


@pytest.fixture(scope="module")
def fused_model(copy_fsdd, tmp_path_factory):
    folder = copy_fsdd(
        tmp_path_factory.mktemp("fusion") / "voices", ("george", "jackson", "lucas", "theo"), range(10), [10, 11]
    )
    model = RecordingClassifier(max_epochs=3, validation_fraction=0.25, calibration_folds=4, verbose=0).fit(folder)
    return model, folder


def test_training_chooses_a_fusion_on_the_calibration_folds_and_saves_it(fused_model, copy_fsdd, tmp_path):
    model, _ = fused_model
    assert model.fusion_ is not None and model.fusion_.weight in WEIGHTS
    assert model.voiceprints_.voiceprints.shape == (4, 256)
    bundle = model.save(tmp_path / "m")
    metadata = json.loads((bundle / "metadata.json").read_text())
    assert metadata["open_set"]["fusion"]["weight"] == model.fusion_.weight
    assert (bundle / "voiceprints.npz").is_file()
    probes = copy_fsdd(tmp_path / "probes", ("george", "lucas"), range(0, 10, 2), [45])
    files = sorted(probes.glob("*/*.wav"))
    in_memory, _ = model.classify_files(files)
    loaded = RecordingClassifier.load(bundle, engine="fast")
    assert loaded.fusion_ == model.fusion_
    from_disk, _ = loaded.classify_files(files)
    for a, b in zip(in_memory, from_disk, strict=True):
        assert a.speaker == b.speaker and a.score == pytest.approx(b.score, abs=1e-4)
    with pytest.raises(ParameterError, match="voice_vectors"):
        loaded.identify([np.zeros((20, loaded.feature_config_.n_features), dtype=np.float32)])


def test_a_fused_model_answers_unknown_to_noise_and_a_tone(fused_model, tmp_path):
    """What was seen before the fusion: 29 s of white noise named as an enrolled speaker."""
    import shutil
    import subprocess

    if shutil.which("sox") is None:
        pytest.skip("sox is not installed (apt-get install sox)")
    model, _ = fused_model
    noise, tone = tmp_path / "noise.wav", tmp_path / "tone.wav"
    subprocess.run(["sox", "-n", "-r", "8000", str(noise), "synth", "29", "whitenoise", "vol", "0.5"], check=True)
    subprocess.run(["sox", "-n", "-r", "16000", str(tone), "synth", "3", "sine", "440", "vol", "0.5"], check=True)
    answers, failures = model.classify_files([noise, tone])
    assert not failures
    assert [a.speaker for a in answers] == ["unknown", "unknown"]
    assert all(a.score == -1.0 for a in answers)


def test_train_without_the_encoder_scores_with_the_network_alone(copy_fsdd, tmp_path, capsys):
    folder = copy_fsdd(tmp_path / "voices", ("george", "jackson", "lucas"), range(10), [10, 11])
    out = tmp_path / "m"
    argv = ["train", str(folder), "--out", str(out), "--epochs", "2", "--validation-fraction", "0.3", "--no-encoder"]
    assert main(argv) == 0
    assert "Open-set score: the network's weighted" not in capsys.readouterr().out
    assert RecordingClassifier.load(out).fusion_ is None
    assert (
        main(["train", str(folder), "--out", str(tmp_path / "f"), "--epochs", "2", "--validation-fraction", "0.3"]) == 0
    )
    assert "Open-set score: the network's weighted" in capsys.readouterr().out


def test_three_recordings_a_speaker_still_train_with_one_of_each_held_out(copy_fsdd, tmp_path, capsys):
    """A fifth of 15 recordings is 3, fewer than the 5 speakers: one of each is held out instead, said on stderr."""
    speakers = ("george", "jackson", "lucas", "nicolas", "theo")
    folder = copy_fsdd(tmp_path / "voices", speakers, range(3), [12])
    assert main(["train", str(folder), "--out", str(tmp_path / "m"), "--epochs", "2"]) == 0
    captured = capsys.readouterr()
    assert "Holding out one recording of each speaker (5 of 15)" in captured.err
    assert "/5 held-out recordings, closed set)" in captured.out
