"""Recordings of any length (`vowels.windowing`): long LibriSpeech recordings written to disk, cut into windows
for training, and one answer per recording from the mean of its windows'."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile

from vowels.errors import ParameterError
from vowels.extraction import load_speaker_folders
from vowels.recordings import RecordingClassifier
from vowels.voice_activity import drop_long_pauses
from vowels.windowing import combine, cut, frames_of, over_windows, window_starts

SMALL = {"n_hidden": 8, "max_epochs": 2, "mini_batch_size": 16, "learning_rate": 0.01, "voice_encoder": False}


def test_windows_cover_the_recording_and_a_short_one_stays_whole():
    assert window_starts(250, 300, 150).tolist() == [0]
    assert window_starts(300, 300, 150).tolist() == [0]
    starts = window_starts(1000, 300, 150)
    assert starts.tolist() == [0, 150, 300, 450, 600, 700]  # the last ends with the recording
    covered = np.zeros(1000, bool)
    for start in starts:
        covered[start : start + 300] = True
    assert covered.all()
    assert frames_of(3.0, 10.0) == 300 and frames_of(1.5, 6.4) == 234 and frames_of(0.001, 10.0) == 1


def test_a_recordings_answer_is_the_mean_of_its_windows():
    sequences = [np.arange(5, dtype=float)[:, None], np.arange(12, dtype=float)[:, None]]
    windows, owner = cut(sequences, 4, 2)
    assert owner.tolist() == [0, 0, 1, 1, 1, 1, 1]
    assert [w[0, 0] for w in windows] == [0, 1, 0, 2, 4, 6, 8]
    means = combine(np.array([[w.mean()] for w in windows]), owner, 2)
    assert means[0, 0] == pytest.approx(np.mean([1.5, 2.5]))
    assert means[1, 0] == pytest.approx(np.mean([1.5, 3.5, 5.5, 7.5, 9.5]))
    whole = over_windows(lambda s: np.array([[len(x)] for x in s]), sequences, None)
    assert whole[:, 0].tolist() == [5, 12]


def test_long_pauses_are_dropped_at_any_rate():
    rate = 8000
    t = np.arange(rate) / rate
    tone = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    kept, _ = drop_long_pauses(np.concatenate([tone, np.zeros(2 * rate, np.float32), tone]), rate)
    assert 2 * rate <= len(kept) < 2.6 * rate  # 2 s of pause gone, a few windows either side kept


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"window_seconds": 0}, "window_seconds must be a number of s > 0 or None; got 0"),
        ({"window_hop_seconds": "1"}, "window_hop_seconds must be a number of s > 0; got '1'"),
        ({"window_seconds": 1.0, "window_hop_seconds": 2.0}, "windows would skip audio"),
    ],
)
def test_window_settings_are_checked_by_name(settings, message, tmp_path):
    with pytest.raises(ParameterError, match=message):
        RecordingClassifier(**settings).fit(tmp_path)


@pytest.fixture(scope="module")
def long_recordings(shared_data_dir, tmp_path_factory):
    """Three LibriSpeech speakers, two recordings each: the first 40 % and the rest of their utterance (4-14 s)."""
    root = tmp_path_factory.mktemp("long")
    files = sorted((shared_data_dir / "librispeech" / "recordings").glob("*.flac"))[:3]
    for path in files:
        samples, rate = soundfile.read(path, dtype="float32")
        speaker = path.name.split("-")[0]
        (root / speaker).mkdir()
        cut_at = int(0.4 * len(samples))
        soundfile.write(root / speaker / "a.wav", samples[:cut_at], rate)
        soundfile.write(root / speaker / "b.wav", samples[cut_at:], rate)
    return root


def test_long_recordings_train_as_windows_and_are_answered_from_them(long_recordings, tmp_path, capsys):
    model = RecordingClassifier(validation_fraction=0, threshold=-1, verbose=1, **SMALL).fit(long_recordings)
    err = capsys.readouterr().err
    assert "6 recordings cut into" in err
    length, hop = model.window_
    assert (length, hop) == (300, 150)
    u = load_speaker_folders(long_recordings, model.feature_config_).utterances
    assert max(len(s) for s in u.sequences) > 2 * length
    windows, owner = cut(u.sequences, length, hop)
    identification = model.identify(u.sequences)
    by_window = model.classifier_.predict_proba(windows)
    np.testing.assert_allclose(identification.probabilities, combine(by_window, owner, len(u)), atol=1e-5)
    assert model.scorer_.network.references.shape[0] == len(windows)
    again = RecordingClassifier.load(model.save(tmp_path / "model"), engine="fast")
    assert (again.window_seconds, again.window_hop_seconds) == (3.0, 1.5)
    np.testing.assert_allclose(again.identify(u.sequences).all_scores, identification.all_scores, atol=1e-4)
    whole = RecordingClassifier(window_seconds=None, validation_fraction=0, threshold=-1, verbose=1, **SMALL)
    whole.fit(long_recordings)
    assert "cut into" not in capsys.readouterr().err and whole.window_ is None


def test_train_sets_the_windows_and_refuses_a_hop_longer_than_the_window(long_recordings, tmp_path, capsys):
    from vowels.cli import main

    code = main(["train", str(long_recordings), "--out", str(tmp_path / "m"), "--window", "2", "--window-hop", "3"])
    err = capsys.readouterr().err
    assert code == 2 and "windows would skip audio" in err and "Traceback" not in err
    assert not (tmp_path / "m").exists()
    args = ["train", str(long_recordings), "--out", str(tmp_path / "m"), "--epochs", "1", "--hidden", "8"]
    assert main([*args, "--window", "4", "--window-hop", "2", "--threshold", "-1", "--no-encoder"]) == 0
    again = RecordingClassifier.load(tmp_path / "m", engine="fast")
    assert (again.window_seconds, again.window_hop_seconds) == (4.0, 2.0)


def test_a_ten_minute_recording_is_classified_in_bounded_memory(long_recordings, tmp_path):
    """Ten minutes of real speech at 16 kHz (a LibriSpeech utterance repeated), classified by a trained model: one
    answer from its windows, and the memory Python allocates stays under 800 MiB (about 550 MiB here, most of it the
    whole recording's spectrum)."""
    import tracemalloc

    model = RecordingClassifier(validation_fraction=0, threshold=-1, **SMALL).fit(long_recordings)
    speech, rate = soundfile.read(next(long_recordings.rglob("b.wav")), dtype="float32")
    long = tmp_path / "ten-minutes.wav"
    soundfile.write(long, np.tile(speech, int(np.ceil(600 * rate / len(speech))))[: 600 * rate], rate)
    tracemalloc.start()
    try:
        answers, failures = model.classify_files([long])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not failures and len(answers) == 1 and answers[0].speaker in model.classes_
    assert peak < 800 * 2**20, f"{peak / 2**20:.0f} MiB"
