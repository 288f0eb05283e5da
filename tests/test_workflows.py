"""`vowels.workflows`: a model at a path opened once, with what it is and what it can do, as the command
line and the server see it; the progress line over files."""

import io
import json

import pytest

from vowels.cli import main
from vowels.errors import BundleError
from vowels.features import FeatureConfig
from vowels.progress import ProgressPrinter
from vowels.workflows.models import open_model

SPEAKERS = ("george", "jackson")


@pytest.fixture(scope="module")
def forward_only(tmp_path_factory, copy_fsdd):
    """Two tiny forward-only LSTMs trained on recordings: one on plain MFCCs, one with appended slopes."""
    from vowels.recordings import RecordingClassifier

    root = tmp_path_factory.mktemp("forward")
    folder = copy_fsdd(root / "voices", SPEAKERS, range(3), [10])
    settings = {"architecture": "lstm", "n_hidden": 2, "max_epochs": 1, "validation_fraction": 0, "threshold": 0.0}
    models = {}
    for name, deltas in (("plain", False), ("slopes", True)):
        model = RecordingClassifier(
            feature_config=FeatureConfig(deltas=deltas), voice_encoder=False, verbose=0, **settings
        )
        models[name] = model.fit(folder).save(root / name)
    return models, folder


def test_a_forward_only_model_streams_unless_its_slopes_read_ahead(forward_only, tmp_path, capsys):
    from vowels.serve.store import ModelStore

    models, folder = forward_only
    plain, slopes = open_model(models["plain"]), open_model(models["slopes"])
    assert (plain.kind, plain.architecture, plain.reads_recordings) == ("recordings", "lstm", True)
    assert plain.streams and not slopes.streams
    store = ModelStore(models["plain"].parent)
    assert [store.describe(name)["streams"] for name in ("plain", "slopes")] == [True, False]

    recording = str(next((folder / "george").iterdir()))
    assert main(["classify", "--model", str(models["plain"]), recording, "--stream"]) == 0
    assert capsys.readouterr().out.startswith(f"{recording}, as it arrives:\n")
    assert main(["classify", "--model", str(models["slopes"]), recording, "--stream"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        f"vowels classify: --stream needs a forward-only model; {models['slopes']} is a lstm (its appended slopes "
        "read frames that have not arrived yet). Train one with 'vowels train DIR --architecture lstm'.\n"
    )


def test_a_folder_of_voiceprints_is_known_by_its_format_before_it_is_loaded(tmp_path):
    (tmp_path / "metadata.json").write_text(json.dumps({"format": "vowels-voiceprints"}))
    opened = open_model(tmp_path)
    assert (opened.kind, opened.architecture, opened.reads_recordings, opened.streams) == (
        "voiceprints",
        "encoder",
        True,
        False,
    )
    with pytest.raises(BundleError, match="format version None, written by an older vowels"):
        opened.load_recordings()


def test_nothing_at_the_path_is_one_clear_error(tmp_path):
    with pytest.raises(BundleError, match=f"^{tmp_path / 'none'}: no model bundle there"):
        open_model(tmp_path / "none")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "metadata.json").write_text(json.dumps({"format": "something else"}))
    with pytest.raises(BundleError, match="bundle is incomplete, model.keras is missing"):
        open_model(tmp_path / "other")


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_file_progress_bar_fits_a_narrow_terminal(monkeypatch):
    """A bar wider than the terminal would wrap, and each redraw would then start a new row."""
    clock = iter([0.0, 1.0, 2.0])
    monkeypatch.setattr("time.monotonic", lambda: next(clock))
    monkeypatch.setattr("sys.stderr", _Terminal())
    monkeypatch.setenv("COLUMNS", "60")
    show = ProgressPrinter().files("Extracting features")
    show(1, 2)
    show(2, 2)
    frames = __import__("sys").stderr.getvalue().split("\r")[1:]
    assert [len(frame.rstrip("\n")) for frame in frames] == [59, 59]
    assert frames[0] == "Extracting features [###############...............] 1/2 fi"
