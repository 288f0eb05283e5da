"""Enrolment with the pretrained encoder (`vowels enrol`): real FSDD and LibriSpeech recordings copied to disk and
read back, non-speech made with sox, thresholds with little data, adding and removing speakers, the model folder."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from vowels.cli import main
from vowels.errors import BundleError, DataError
from vowels.openset import choose_threshold, equal_error_rate, gaussian_eer_threshold
from vowels.voice_activity import has_speech
from vowels.voiceprints import (
    DEFAULT_THRESHOLD,
    MIN_CALIBRATION,
    VoiceprintClassifier,
    VoiceprintScorer,
    calibration_scores,
    choose_scoring,
    embed_paths,
)
from vowels.workflows.models import open_model

SPEAKERS = ("george", "jackson", "lucas", "nicolas")


def _sox(path: Path, *effect: str, rate: int = 16000) -> Path:
    """A recording made by sox: ``sox -n -r RATE PATH synth ...`` (noise, tones) or silence."""
    if shutil.which("sox") is None:
        pytest.skip("sox is not installed (apt-get install sox)")
    subprocess.run(["sox", "-n", "-r", str(rate), str(path), *effect], check=True)
    return path


@pytest.fixture(scope="module")
def enrolment(copy_fsdd, tmp_path_factory) -> Path:
    """Four FSDD speakers, ten recordings each (every digit once), copied from the shared folder."""
    return copy_fsdd(tmp_path_factory.mktemp("enrol") / "voices", SPEAKERS, range(10), [10])


@pytest.fixture(scope="module")
def probes(copy_fsdd, tmp_path_factory) -> Path:
    """Other recordings of the enrolled speakers and of a stranger (theo)."""
    return copy_fsdd(tmp_path_factory.mktemp("probes") / "probes", (*SPEAKERS, "theo"), range(0, 10, 3), [45])


@pytest.fixture(scope="module")
def model(enrolment) -> VoiceprintClassifier:
    return VoiceprintClassifier().fit(enrolment)


@pytest.fixture(scope="module")
def non_speech(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("noise")
    return {
        "white noise": _sox(folder / "noise.wav", "synth", "29", "whitenoise", "vol", "0.5"),
        "brown noise": _sox(folder / "brown.flac", "synth", "6", "brownnoise", "vol", "0.5"),
        "tone": _sox(folder / "tone.wav", "synth", "4", "sine", "440", "vol", "0.5"),
        "hum": _sox(folder / "hum.wav", "synth", "4", "square", "110", "vol", "0.3", rate=8000),
        "chord": _sox(folder / "chord.wav", "synth", "4", "sine", "262", "sine", "330", "sine", "392", "remix", "-"),
        "silence": _sox(folder / "silence.wav", "trim", "0", "3"),
    }


def test_enrolled_speakers_are_named_and_the_threshold_is_fitted(model, probes):
    assert model.speakers_ == SPEAKERS
    assert model.threshold_choice_.how == "calibrated" and model.calibration_["rule"] == "gaussian-eer"
    genuine, impostor = np.array(model.calibration_["genuine"]), np.array(model.calibration_["impostor"])
    assert len(genuine) == len(impostor) == 40
    assert impostor.mean() < model.threshold_ < genuine.mean()
    evaluation, failures = model.evaluate_folder(probes)
    assert not failures
    assert evaluation.closed_set.accuracy >= 0.9
    assert evaluation.false_rejection <= 0.25


def test_noise_tones_and_silence_are_not_named(model, non_speech):
    answers, failures = model.classify_files(list(non_speech.values()))
    assert not failures
    for (what, _), answer in zip(non_speech.items(), answers, strict=True):
        assert answer.speaker == "unknown", what
        assert not answer.speech, what
    assert answers[-1].score == -1.0 and answers[-1].windows == []  # silence: nothing to embed


def test_speech_is_found_in_real_recordings(shared_data_dir):
    from vowels.audio import read_audio

    paths = sorted((shared_data_dir / "librispeech" / "recordings").glob("*.flac"))[:8]
    paths += sorted((shared_data_dir / "fsdd" / "theo").glob("*_4?.wav"))[:8]
    for path in paths:
        assert has_speech(read_audio(path, sr=16000, dsp="numpy"), 16000), path


def test_too_few_recordings_fall_back_to_the_stated_default_never_an_extreme(enrolment, tmp_path):
    few = {s: sorted((enrolment / s).iterdir())[:2] for s in SPEAKERS[:3]}
    model = VoiceprintClassifier().fit(few)
    assert model.calibration_["n_genuine"] == 6 < MIN_CALIBRATION
    assert model.threshold_ == DEFAULT_THRESHOLD and model.threshold_choice_.how == "default"
    said = model.threshold_choice_.describe()
    assert "(the default: too few recordings" in said and "enrol more recordings" in said
    answers, _ = model.classify_files([p for s in few for p in sorted((enrolment / s).iterdir())[2:5]])
    assert sum(a.speaker != "unknown" for a in answers) >= 6  # enrolled speakers are not all rejected


def test_gaussian_threshold_lies_between_separated_scores_not_at_the_lowest_genuine():
    genuine, impostor = np.array([0.997, 0.998, 0.999]), np.array([0.4, 0.5, 0.6])
    threshold = gaussian_eer_threshold(genuine, impostor)
    assert 0.6 < threshold < 0.99
    wide = gaussian_eer_threshold(np.array([0.8, 0.9]), np.array([0.1, 0.7]))
    assert 0.7 < wide < 0.8
    # the trained network's calibration takes the same normal fit when its scores are few (6 genuine, 3 strangers,
    # as three speakers with four takes each gave on the page), instead of the lowest genuine score
    point = choose_threshold(np.array([0.997, 0.998, 0.999, 0.9975, 0.9985, 0.9995]), np.array([0.5, 0.6, 0.7]))
    assert point.method == "normal fit" and 0.7 < point.threshold < 0.99
    many = choose_threshold(np.linspace(0.6, 1.0, 40), np.linspace(0.0, 0.7, 40))
    assert many.method == "empirical"


def test_the_scoring_follows_the_written_rule():
    assert choose_scoring({f"s{i}": 3 for i in range(10)}) == "cohort"
    assert choose_scoring({f"s{i}": 50 for i in range(5)}) == "wccn"
    assert choose_scoring({"a": 50, "b": 50, "c": 2}) == "cosine"
    assert choose_scoring({"a": 50}) == "cosine"


def test_whitening_the_words_away_separates_a_stranger_saying_the_same_digits(copy_fsdd, tmp_path):
    """Five FSDD speakers enrolled with 20 recordings each (every digit twice); their other recordings and a
    stranger's of the same digits, on another day: WCCN scoring at least halves the plain cosine's equal error
    rate, in the enrolment's own calibration as on the new recordings."""
    enrolled = ("george", "jackson", "lucas", "nicolas", "yweweler")
    enrolment = copy_fsdd(tmp_path / "enrol", enrolled, range(10), [10, 11])
    probes = copy_fsdd(tmp_path / "probes", (*enrolled, "theo"), range(10), [42])
    model = VoiceprintClassifier().fit(enrolment)
    assert model.scoring_ == "wccn" and model.threshold_choice_.how == "calibrated"
    vectors, _, failures = embed_paths(sorted(probes.rglob("*.wav")))
    assert not failures
    stranger = np.array(["theo" in p.name for p in sorted(probes.rglob("*.wav"))])
    rates = {}
    for scoring in ("cosine", "wccn"):
        genuine, impostor = calibration_scores(model.embeddings_, model.labels_, scoring)
        best = VoiceprintScorer.fit(model.embeddings_, model.labels_, enrolled, scoring).scores(vectors).max(axis=1)
        rates[scoring] = equal_error_rate(genuine, impostor)[0], equal_error_rate(best[~stranger], best[stranger])[0]
    assert rates["wccn"][0] <= rates["cosine"][0] / 2, rates
    assert rates["wccn"][1] <= rates["cosine"][1] / 2, rates


def test_a_speaker_is_added_and_removed_without_touching_the_others(enrolment, probes, model, tmp_path):
    changed = VoiceprintClassifier().fit({s: sorted((enrolment / s).iterdir()) for s in SPEAKERS[:3]})
    before = changed.embeddings_.copy()
    failures = changed.add_speaker("nicolas", sorted((enrolment / "nicolas").iterdir()))
    assert not failures and changed.speakers_ == SPEAKERS
    np.testing.assert_array_equal(changed.embeddings_[: len(before)], before)
    np.testing.assert_allclose(changed.voiceprints_, model.voiceprints_, atol=1e-6)
    changed.remove_speaker("george")
    assert changed.speakers_ == SPEAKERS[1:]
    answers, _ = changed.classify_files(sorted((probes / "george").iterdir()))
    assert all(a.nearest != "george" for a in answers)
    with pytest.raises(DataError, match="'george' is not enrolled"):
        changed.remove_speaker("george")
    for name in ("unknown", "UNKNOWN", "ｕｎｋｎｏｗｎ", " "):
        with pytest.raises(DataError):
            changed.add_speaker(name, sorted((enrolment / "george").iterdir()))


def test_saved_model_loads_whole_and_refuses_changed_files(model, tmp_path):
    folder = model.save(tmp_path / "m")
    assert open_model(folder).kind == "voiceprints"
    again = VoiceprintClassifier.load(folder)
    assert again.speakers_ == model.speakers_ and again.threshold_ == pytest.approx(model.threshold_)
    np.testing.assert_array_equal(again.voiceprints_, model.voiceprints_)
    with pytest.raises(BundleError, match="already exists"):
        model.save(folder)
    arrays = folder / "voiceprints.npz"
    arrays.write_bytes(arrays.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(BundleError, match="sha256 does not match"):
        VoiceprintClassifier.load(folder)
    metadata = json.loads((folder / "metadata.json").read_text())
    metadata["threshold_choice"]["threshold"] = 0.1
    (folder / "metadata.json").write_text(json.dumps(metadata))
    with pytest.raises(BundleError, match="does not match the sha256 it records"):
        VoiceprintClassifier.load(folder)


def test_windows_say_who_speaks_when_in_a_long_recording(shared_data_dir, model, tmp_path):
    """Two enrolled speakers' recordings one after the other in one file: each window names the right one."""
    from vowels.audio import read_audio

    fsdd = shared_data_dir / "fsdd"
    george = np.concatenate([read_audio(fsdd / "george" / f"{d}_george_3{d}.wav", sr=16000) for d in range(8)])
    lucas = np.concatenate([read_audio(fsdd / "lucas" / f"{d}_lucas_3{d}.wav", sr=16000) for d in range(8)])
    path = tmp_path / "both.wav"
    soundfile.write(path, np.concatenate([george, lucas]), 16000)
    (answer,), _ = model.classify_files([path])
    windows = answer.windows
    assert windows[0]["start"] == 0.0
    assert answer.seconds - 1.6 < windows[-1]["end"] <= answer.seconds + 0.01  # a last partial under 75 % is left out
    middle = answer.seconds * len(george) / (len(george) + len(lucas))
    first = [w["nearest"] for w in windows if w["end"] < middle]
    last = [w["nearest"] for w in windows if w["start"] > middle]
    assert first and last
    assert first.count("george") > len(first) / 2 and last.count("lucas") > len(last) / 2


def test_enrol_classify_evaluate_from_the_command_line(enrolment, probes, non_speech, tmp_path, capsys):
    out = tmp_path / "voices"
    assert main(["enrol", str(enrolment), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Enrolled 4 speakers" in printed and "fitted to 40 genuine and 40 stranger scores" in printed
    george = sorted((probes / "george").iterdir())
    assert main(["classify", "--model", str(out), str(george[0]), str(non_speech["tone"]), "--windows"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{george[0]}: george (score")
    assert any(line.startswith(f"{non_speech['tone']}: unknown (no speech found") for line in lines)
    assert main(["classify", "--model", str(out), str(george[0]), "--json"]) == 0
    (answer,) = json.loads(capsys.readouterr().out)
    assert answer["speaker"] == "george" and "windows" not in answer
    assert main(["evaluate", "--model", str(out), str(probes), "--json"]) == 0
    evaluation = json.loads(capsys.readouterr().out)
    assert evaluation["closed_set"]["accuracy"] >= 0.9 and "theo" in evaluation["strangers"]
    assert main(["enrol", "--model", str(out), "--remove", "jackson"]) == 0
    assert "Enrolled 3 speakers" in capsys.readouterr().out
    extra = sorted((enrolment / "jackson").iterdir())
    assert main(["enrol", "--model", str(out), "--add", "jack", *map(str, extra)]) == 0
    assert "jack (10)" in capsys.readouterr().out
    assert VoiceprintClassifier.load(out).speakers_ == ("george", "jack", "lucas", "nicolas")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["enrol", "--out", "m"], "give one speaker folder DIR with --out"),
        (["enrol", "d", "--model", "m"], "give --add NAME FILE [FILE ...] or --remove NAME"),
        (["enrol", "d", "--out", "m", "--model", "m2"], "not allowed with argument"),
        (["enrol", "d", "--out", "m", "--threshold", "2"], "must be a score in [-1, 1] or 'auto'"),
    ],
)
def test_enrol_usage_errors_are_one_line(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_enrol_refuses_to_replace_a_model_and_keeps_it(enrolment, model, tmp_path, capsys):
    out = model.save(tmp_path / "kept")
    before = (out / "metadata.json").read_bytes()
    assert main(["enrol", str(enrolment), "--out", str(out)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert (out / "metadata.json").read_bytes() == before


def test_enrolment_skips_non_speech_and_names_it(enrolment, non_speech, tmp_path, capsys):
    folder = tmp_path / "voices"
    shutil.copytree(enrolment, folder)
    shutil.copy(non_speech["white noise"], folder / "george" / "noise.wav")
    assert main(["enrol", str(folder), "--out", str(tmp_path / "m")]) == 1
    err = capsys.readouterr().err
    assert "noise.wav: no speech found" in err and "Traceback" not in err
    assert VoiceprintClassifier.load(tmp_path / "m").calibration_["n_genuine"] == 40


def test_classify_with_a_voiceprint_model_as_a_new_process_imports_no_tensorflow(model, probes, tmp_path):
    folder = model.save(tmp_path / "m")
    probe = sorted((probes / "lucas").iterdir())[0]
    code = (
        "import sys\nfrom vowels.cli import main\n"
        f"code = main(['classify', '--model', {str(folder)!r}, {str(probe)!r}])\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'torch', 'librosa', 'sklearn') if m in sys.modules))\n"
        "sys.exit(code)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "[]"
    assert "lucas" in result.stdout.splitlines()[0]


def test_commands_for_trained_bundles_say_what_a_voiceprint_model_is(model, tmp_path, capsys):
    folder = model.save(tmp_path / "people")
    for argv in (
        ["report", "--model", str(folder), "--out", str(tmp_path / "report")],
        ["plot", "open-set", "--model", str(folder), "--out", str(tmp_path / "figures")],
        ["classify", "--model", str(folder), "x.wav", "--stream"],
        ["evaluate", "--model", str(folder)],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "is a model from 'vowels enrol'" in err or "--stream needs" in err, err
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert not (tmp_path / "report").exists() and not (tmp_path / "figures").exists()
