"""Open-set identification and sample rates on real speech: the Free Spoken Digit Dataset.

Small subsets of ../shared/data/fsdd (6 speakers saying digits, 8 kHz WAV) are copied into a
temporary folder: four speakers are enrolled, a fifth is a stranger. The networks are small
(16 hidden units, 8 epochs) so the module trains in well under a minute.
"""

from __future__ import annotations

import json
import shutil

import librosa
import pytest
import soundfile as sf

from vowels.cli import main
from vowels.extraction import load_speaker_folders
from vowels.names import UNKNOWN
from vowels.recordings import RecordingClassifier

ENROLLED = ("george", "jackson", "lucas", "nicolas")
STRANGER = "theo"
SMALL = {"n_hidden": 16, "max_epochs": 8, "mini_batch_size": 16, "learning_rate": 0.01, "calibration_folds": 4}


@pytest.fixture(scope="module")
def speech(copy_fsdd, tmp_path_factory):
    root = tmp_path_factory.mktemp("fsdd")
    copy_fsdd(root / "train", ENROLLED, range(10), range(10, 16))
    copy_fsdd(root / "test", (*ENROLLED, STRANGER), range(10), range(40, 43))
    return root


@pytest.fixture(scope="module")
def trained(speech, tmp_path_factory):
    model = RecordingClassifier(random_state=0, **SMALL).fit(speech / "train")
    return model, model.save(tmp_path_factory.mktemp("models") / "digits")


def run(capsys, *argv):
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


pytestmark = pytest.mark.slow


def test_eight_khz_recordings_are_analysed_at_their_own_rate(trained):
    model, bundle = trained
    assert model.feature_config_.sample_rate == 8000 and model.feature_config_.kind == "mfcc"
    assert model.source_rates_ == {8000: 4 * 10 * 6}
    metadata = json.loads((bundle / "metadata.json").read_text())
    assert metadata["features"]["sample_rate"] == 8000 and metadata["source_rates"] == {"8000": 240}


def test_saved_model_is_refitted_on_every_recording_after_calibration(trained):
    model, _ = trained
    v = model.validation_
    assert v["n_train"] == 192 and v["n_validation"] == 48 and v["refit"] and v["n_final_train"] == 240
    point = model.operating_point_
    # 4 folds of one left-out speaker each: every held-out recording is a stranger once, genuine three times
    assert len(point.impostor) == 48 and len(point.genuine) == 3 * 48
    assert model.threshold_ == point.threshold
    assert abs(point.false_accept_rate - point.false_reject_rate) <= 0.1


def test_a_stranger_is_mostly_rejected_and_enrolled_speakers_mostly_named(trained, speech):
    model, _ = trained
    evaluation, failures = model.evaluate_folder(speech / "test")
    assert failures == []
    assert (evaluation.n_enrolled, evaluation.n_strangers) == (120, 30)
    assert evaluation.closed_set.accuracy >= 0.85, evaluation.closed_set.confusion
    assert evaluation.strangers[STRANGER][1] == 30
    assert evaluation.true_rejection >= 0.6, evaluation.to_dict()
    assert evaluation.false_rejection <= 0.35, evaluation.to_dict()
    assert evaluation.equal_error_rate <= 0.3
    assert evaluation.identified + evaluation.false_rejection + evaluation.misnamed == pytest.approx(1.0)
    never = model.evaluate_folder(speech / "test", threshold=-1)[0]
    assert never.true_rejection == 0 and never.false_rejection == 0
    assert never.equal_error_rate == evaluation.equal_error_rate  # the EER does not depend on the threshold


def test_cli_evaluate_json_matches_python_and_names_the_errors(trained, speech, capsys):
    model, bundle = trained
    status, out, err = run(capsys, "evaluate", "--model", bundle, speech / "test", "--json")
    assert status == 0  # progress on stderr (a line per quarter, not a terminal), JSON alone on stdout
    assert [line.split(" (")[0] for line in err.splitlines()] == [
        f"Extracting features: {done}/150 files" for done in (38, 75, 113, 150)
    ]
    report = json.loads(out)
    expected = model.evaluate_folder(speech / "test")[0].to_dict()
    for key in ("n_enrolled", "n_strangers", "true_rejection", "false_rejection", "misnamed", "identified"):
        assert report[key] == pytest.approx(expected[key]), key
    assert report["equal_error_rate"] == pytest.approx(expected["equal_error_rate"])
    assert {e["outcome"] for e in report["errors"]} <= {"misnamed", "rejected", "stranger accepted"}
    assert len(report["errors"]) == round(
        report["n_enrolled"] * (report["false_rejection"] + report["misnamed"])
        + report["n_strangers"] * (1 - report["true_rejection"])
    )
    status, out, _ = run(capsys, "evaluate", "--model", bundle, speech / "test")
    assert status == 0
    assert f"Strangers rejected: {100 * report['true_rejection']:.2f}% (" in out
    assert f"Equal error rate: {100 * report['equal_error_rate']:.2f}%" in out
    assert f"{STRANGER}: " in out


def test_classify_answers_unknown_below_the_threshold(trained, speech, capsys):
    model, bundle = trained
    files = sorted(str(p) for p in (speech / "test" / STRANGER).glob("*.wav"))[:5]
    status, out, _ = run(capsys, "classify", "--model", bundle, *files, "--json")
    assert status == 0
    answers = json.loads(out)
    for answer in answers:
        assert (answer["speaker"] == UNKNOWN) == (answer["score"] < model.threshold_)
        assert answer["nearest"] in ENROLLED and answer["sample_rate"] == 8000
    status, out, _ = run(capsys, "classify", "--model", bundle, files[0])
    answer = answers[0]
    if answer["speaker"] == UNKNOWN:
        assert f"unknown (nearest {answer['nearest']}, score {answer['score']:.3f} < threshold" in out
    else:
        assert out.startswith(f"{files[0]}: {answer['speaker']} (score {answer['score']:.3f})")


def test_threshold_at_a_target_false_accept_rate_and_keep_split(speech, tmp_path, capsys):
    bundle = tmp_path / "m"
    status, out, err = run(
        capsys,
        *("train", speech / "train", "--out", bundle, "--epochs", 2, "--hidden", 8),
        *("--operating-point", "far=0.1", "--keep-split", "-q"),
    )
    assert status == 0, err
    metadata = json.loads((bundle / "metadata.json").read_text())
    point = metadata["open_set"]["operating_point"]
    assert point["rule"] == "far=0.1" and point["false_accept_rate"] <= 0.1
    assert f"Unknown-speaker threshold {point['threshold']:.3f} (far=0.1, calibrated" in out
    assert metadata["validation"]["refit"] is False and metadata["validation"]["n_final_train"] == 192
    status, _, err = run(capsys, "train", speech / "train", "--out", tmp_path / "x", "--operating-point", "frr=1")
    assert status == 2 and "must be 'eer' or 'far=<rate>'" in err and not (tmp_path / "x").exists()


def test_mixed_rates_are_analysed_at_the_lowest_and_reported(speech, tmp_path, capsys):
    folder = tmp_path / "mixed"
    shutil.copytree(speech / "test", folder)
    for path in (folder / "lucas").glob("*.wav"):
        y, rate = sf.read(path, dtype="float32")
        sf.write(path, librosa.resample(y, orig_sr=rate, target_sr=16000), 16000)
    extraction = load_speaker_folders(folder, match_rate=True)
    assert extraction.config.sample_rate == 8000 and extraction.source_rates == {8000: 120, 16000: 30}
    assert extraction.describe_rates() == (
        "recorded at 8000 Hz (120 files), 16000 Hz (30 files); features computed at 8000 Hz (30 resampled down)"
    )
    status, out, _ = run(capsys, "extract", folder, "--out", tmp_path / "f.npz")
    assert status == 0 and "features computed at 8000 Hz (30 resampled down)" in out


def test_an_asked_for_higher_rate_is_kept_and_upsampling_is_said(speech, tmp_path, capsys):
    bundle = tmp_path / "m16"
    status, out, err = run(
        capsys,
        *("train", speech / "train", "--out", bundle, "--sample-rate", 16000),
        *("--epochs", 1, "--hidden", 4, "--validation-fraction", 0),
    )
    assert status == 0, err
    assert "features computed at 16000 Hz (240 upsampled, so their features above 4000 Hz are empty)" in out
    assert "Unknown-speaker threshold -1.000, so every recording is named (not calibrated: needs a validation" in out
    wav = next((speech / "test" / "george").glob("*.wav"))
    status, out, err = run(capsys, "classify", "--model", bundle, wav)
    assert status == 0 and out.startswith(f"{wav}: george") or out.startswith(f"{wav}: ")
    assert err == (
        f"vowels: note: {wav}: recorded at 8000 Hz, upsampled to the model's 16000 Hz; its answer is less "
        "reliable than for recordings like the model's.\n"
    )
