"""`vowels serve`'s HTTP API through FastAPI's test client: every endpoint, and every bad input answered
with a one-line ``{"detail": ...}`` and the right status, never a traceback.

Voices are rendered by espeak-ng (as in tests/test_recordings.py); networks are tiny (16 units, a few
epochs): the point is the web layer, not accuracy.
"""

from __future__ import annotations

import base64
import importlib.util
import io
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vowels.voiceprints import SCALES

if importlib.util.find_spec("fastapi") is None:  # every test runs on CI, which installs the dev extra
    message = 'the web extra is not installed: pip install -e ".[web]"'
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)
from fastapi.testclient import TestClient
from test_recordings import render_voices

from vowels.cli import main
from vowels.recordings import RecordingClassifier
from vowels.serve import create_app
from vowels.serve.jobs import TrainingJobs
from vowels.serve.schemas import TrainRequest

WORDS = ["ah", "ee", "oh", "oo", "eh", "water"]
SPEAKERS = ("m3", "f4", "m7")
SMALL = {"n_hidden": 16, "max_epochs": 4, "mini_batch_size": 8, "learning_rate": 0.01}


@pytest.fixture(scope="module")
def voices(tmp_path_factory) -> Path:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    root = tmp_path_factory.mktemp("voices")
    render_voices(root, WORDS)
    return root


@pytest.fixture(scope="module")
def bundle(voices, tmp_path_factory) -> Path:
    """A model of three espeak voices, saved in a models folder of its own."""
    train = tmp_path_factory.mktemp("train")
    for speaker in SPEAKERS:
        shutil.copytree(voices / speaker, train / speaker)
    model = RecordingClassifier(validation_fraction=0, random_state=0, verbose=0, **SMALL).fit(train)
    return model.save(tmp_path_factory.mktemp("models") / "trio")


@pytest.fixture
def models(bundle, tmp_path) -> Path:
    folder = tmp_path / "models"
    shutil.copytree(bundle, folder / "trio")
    return folder


@pytest.fixture
def client(models):
    with TestClient(create_app(models, default_model="trio")) as client:
        yield client


def wav_bytes(y: np.ndarray, sr: int = 16000, fmt: str = "WAV") -> bytes:
    buffer = io.BytesIO()
    sf.write(buffer, y, sr, format=fmt, subtype="PCM_16" if fmt == "WAV" else None)
    return buffer.getvalue()


def post_file(client, url: str, data: bytes, name: str = "take.wav", **kwargs):
    return client.post(url, files={"file": (name, data, "audio/wav")}, **kwargs)


def detail(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"detail"} and isinstance(body["detail"], str) and "\n" not in body["detail"]
    assert "Traceback" not in body["detail"]
    return body["detail"]


# --- models and classification ------------------------------------------------------------------------


def test_models_lists_each_bundle_with_its_speakers_threshold_and_the_limits(client):
    data = client.get("/api/models").json()
    assert data["default"] == "trio"
    (model,) = data["models"]
    assert model["name"] == "trio" and model["usable"] and sorted(model["speakers"]) == sorted(SPEAKERS)
    assert model["threshold"] == -1.0 and model["threshold_source"] == "default"
    assert model["threshold_note"] == (
        "threshold -1.000, so every recording is named (not calibrated: needs a validation split (validation_fraction "
        "> 0))"
    )
    assert model["scoring"] == "open-set" and "WCCN cosines" in model["scoring_description"]
    assert model["architecture"] == "bilstm" and model["streams"] is False
    assert data["limits"]["max_upload_bytes"] == 10 * 1024 * 1024 and data["limits"]["max_upload_seconds"] == 30
    assert client.get("/api/models/trio").json() == model


def test_a_hand_given_threshold_is_described_as_given_on_the_open_set_scale(models, voices, tmp_path):
    """The bundle's long scoring description is not what classify answers: the API gives the kind in both."""
    train = tmp_path / "train"
    for speaker in SPEAKERS:
        shutil.copytree(voices / speaker, train / speaker)
    RecordingClassifier(threshold=0.0, validation_fraction=0, random_state=0, verbose=0, **SMALL).fit(train).save(
        models / "strict"
    )
    with TestClient(create_app(models)) as client:
        model = client.get("/api/models/strict").json()
        answer = post_file(client, "/api/models/strict/classify", (voices / "f4" / "ah.wav").read_bytes()).json()
    assert model["scoring"] == answer["scoring"] == "open-set"
    assert model["threshold"] == 0.0 and model["threshold_source"] == "given"
    assert model["threshold_note"] == "threshold 0.000 (given)"


def test_a_damaged_bundle_is_listed_as_unusable_and_half_written_ones_not_at_all(client, models):
    shutil.copytree(models / "trio", models / "broken")
    (models / "broken" / "weights.npz").write_bytes(b"damaged")
    shutil.copytree(models / "trio", models / ".trio.abcd1234.partial")  # what an interrupted write leaves
    (models / "notes").mkdir()
    listed = {m["name"]: m for m in client.get("/api/models").json()["models"]}
    assert set(listed) == {"broken", "notes", "trio"}
    assert not listed["broken"]["usable"] and "sha256" in listed["broken"]["problem"]
    assert not listed["notes"]["usable"] and "not a folder" not in listed["notes"]["problem"]
    message = detail(post_file(client, "/api/models/broken/classify", b"x"), 409)
    assert "weights.npz" in message


def test_classify_names_an_enrolled_speaker_with_every_speakers_score(client, voices):
    data = (voices / "f4" / "ah.wav").read_bytes()
    response = post_file(client, "/api/models/trio/classify", data, name="mine.wav")
    assert response.status_code == 200, response.text
    result = response.json()
    assert result["file"] == "mine.wav" and result["model"] == "trio"
    assert result["speaker"] in SPEAKERS and result["speaker"] == result["nearest"] and not result["unknown"]
    assert [s["name"] for s in result["speakers"]] == sorted(SPEAKERS)
    assert sum(s["probability"] for s in result["speakers"]) == pytest.approx(1.0, abs=1e-4)
    assert result["scoring"] == "open-set" and all(-1 <= s["score"] <= 1 for s in result["speakers"])
    assert result["figure_png"] is None
    best = max(result["speakers"], key=lambda s: s["probability"])
    assert best["name"] == result["nearest"] and best["score"] == pytest.approx(result["score"])


def test_classify_agrees_with_the_command_line(client, voices, models, capsys):
    path = voices / "m7" / "oh.wav"
    web = post_file(client, "/api/models/trio/classify", path.read_bytes()).json()
    assert main(["classify", "--model", str(models / "trio"), str(path), "--json"]) == 0
    (cli,) = json.loads(capsys.readouterr().out)
    assert web["speaker"] == cli["speaker"] and web["score"] == pytest.approx(cli["score"], abs=1e-6)


def test_a_threshold_above_every_score_answers_unknown_and_the_figure_is_a_png(client, voices):
    data = (voices / "f2" / "ee.wav").read_bytes()  # a voice the model was not trained on
    result = post_file(client, "/api/models/trio/classify?threshold=1&figure=true", data).json()
    assert result["speaker"] == "unknown" and result["unknown"] and result["nearest"] in SPEAKERS
    assert result["threshold"] == 1.0
    assert base64.b64decode(result["figure_png"]).startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("notes.wav", b"these are not audio samples at all" * 10, "notes.wav: not an audio file"),
        ("empty.wav", b"", "empty.wav: empty file (0 bytes)"),
        ("quiet.wav", wav_bytes(np.zeros(16000, dtype=np.float32)), "quiet.wav: silence only"),
        ("click.wav", wav_bytes(np.full(40, 0.5, dtype=np.float32)), "click.wav: "),
        ("cut.wav", wav_bytes(np.full(16000, 0.1, dtype=np.float32))[:2000], "cut.wav: truncated WAV file"),
    ],
)
def test_unusable_audio_is_refused_with_the_files_own_name(client, name, data, message):
    text = detail(post_file(client, "/api/models/trio/classify", data, name=name), 422)
    assert text.startswith(message) and "/tmp" not in text and "upload" not in text


def test_a_recording_longer_than_the_cap_is_refused_before_decoding(client):
    rng = np.random.default_rng(0)
    data = wav_bytes(0.1 * rng.standard_normal(31 * 8000).astype(np.float32), sr=8000)
    text = detail(post_file(client, "/api/models/trio/classify", data, name="speech.wav"), 422)
    assert text == (
        "speech.wav: 31.0 seconds long; this server accepts recordings of at most 30 seconds. "
        "Record or send a shorter one."
    )


def test_a_body_over_the_size_cap_is_refused_with_413(models, voices):
    data = (voices / "f4" / "ah.wav").read_bytes()
    with TestClient(create_app(models, max_upload_bytes=len(data) // 2)) as small:
        text = detail(post_file(small, "/api/models/trio/classify", data), 413)
        assert "larger than the" in text and "MiB this server accepts" in text
        assert detail(small.post("/api/models/trio/enrolment/bob", content=b"x" * len(data)), 413)


@pytest.mark.parametrize(
    ("url", "status", "message"),
    [
        ("/api/models/nobody/classify", 404, "no model named 'nobody'"),
        ("/api/models/.hidden/classify", 422, "model name '.hidden' is not allowed"),
        ("/api/models/trio/classify?threshold=2", 422, "query parameter 'threshold': input should be less than"),
        ("/api/models/trio/classify?threshold=x", 422, "query parameter 'threshold': input should be a valid number"),
    ],
)
def test_bad_classify_requests_name_the_problem(client, voices, url, status, message):
    text = detail(post_file(client, url, (voices / "f4" / "ah.wav").read_bytes()), status)
    assert message in text


def test_a_request_without_a_file_says_how_to_send_one(client):
    text = detail(client.post("/api/models/trio/classify"), 422)
    assert "no recording: send it as the multipart form field 'file'" in text


def test_model_and_speaker_names_cannot_leave_the_models_folder(client, models, voices):
    data = (voices / "f4" / "ah.wav").read_bytes()
    for url in ("/api/models/..%2F..%2Fetc/classify", "/api/models/../classify", "/api/models/%2e%2e/enrolment"):
        assert client.post(url, files={"file": ("a.wav", data)}).status_code in (404, 405, 422)
    for model, speaker in (("..", "bob"), ("a b/", "bob"), ("trio", ".."), ("trio", ".bashrc"), ("trio", "a\\b")):
        response = post_file(client, f"/api/models/{model}/enrolment/{speaker}", data)
        assert response.status_code in (404, 405, 422), (model, speaker, response.text)
    text = detail(post_file(client, "/api/models/trio/enrolment/bad*name", data), 422)
    assert text.startswith("speaker name 'bad*name' is not allowed: use letters, digits")
    text = detail(post_file(client, "/api/models/trio/enrolment/Unknown", data), 422)
    assert "it is the answer for a voice the model does not know" in text
    (models / "outside").mkdir()
    (models / ".enrolment").mkdir(exist_ok=True)
    (models / ".enrolment" / "link").symlink_to(models / "outside")
    assert "leads outside" in detail(post_file(client, "/api/models/link/enrolment/bob", data), 422)
    assert not list((models / "outside").iterdir())
    assert sorted(p.name for p in models.parent.iterdir()) == ["models"]


def test_requests_from_another_site_or_host_are_refused(models):
    with TestClient(create_app(models, allowed_hosts=["127.0.0.1"]), base_url="http://127.0.0.1:8000") as client:
        assert client.get("/api/models").status_code == 200
        foreign = client.post("/api/models/trio/train", headers={"origin": "http://evil.example"})
        assert "another web site" in detail(foreign, 403)
        rebound = client.get("/api/models", headers={"host": "evil.example:8000"})
        assert "answers to the host names 127.0.0.1 and IP addresses only" in detail(rebound, 403)


def test_a_bug_is_a_500_with_one_line_and_no_traceback(models, voices, monkeypatch):
    from vowels.serve.store import ModelStore

    def broken(self, name):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(ModelStore, "load", broken)
    with TestClient(create_app(models), raise_server_exceptions=False) as client:
        response = post_file(client, "/api/models/trio/classify", (voices / "f4" / "ah.wav").read_bytes())
    assert detail(response, 500) == "internal error (RuntimeError); the server's log has the details."


# --- the page and the schema ---------------------------------------------------------------------------


def test_the_page_and_its_files_are_served_and_load_nothing_from_elsewhere(client):
    page = client.get("/")
    assert page.status_code == 200 and "<title>vowels" in page.text
    for name in ("app.js", "app.css", "recorder-worklet.js"):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200
        assert "http://" not in response.text and "https://" not in response.text
    assert "https://" not in page.text and "http://" not in page.text


def test_the_openapi_schema_documents_every_endpoint(client):
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]) == {
        "/api/models",
        "/api/models/{model}",
        "/api/models/{model}/classify",
        "/api/models/{model}/enrolment",
        "/api/models/{model}/enrolment/{speaker}",
        "/api/models/{model}/train",
        "/api/jobs",
        "/api/jobs/{job_id}",
    }
    assert client.get("/docs").status_code == 404  # Swagger UI would load from a CDN


def test_no_pickle_anywhere_in_the_web_layer():
    import vowels.serve

    for path in Path(vowels.serve.__file__).parent.rglob("*.py"):
        assert "pickle" not in path.read_text(encoding="utf-8"), path


# --- enrolment and training ----------------------------------------------------------------------------


def enrol(client, model: str, speaker: str, files: list[Path]) -> dict:
    for path in files:
        response = post_file(client, f"/api/models/{model}/enrolment/{speaker}", path.read_bytes())
        assert response.status_code == 201, response.text
    return response.json()


def wait(client, job: dict, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while job["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
        job = client.get(f"/api/jobs/{job['id']}").json()
    return job


def test_enrolment_keeps_checked_recordings_per_speaker(client, voices, models):
    state = client.get("/api/models/duo/enrolment").json()
    assert state == {
        "model": "duo",
        "speakers": [],
        "ready": False,
        "problem": "record at least 2 speakers (so far 0).",
        "model_exists": False,
    }
    enrol(client, "duo", "alice", [voices / "f4" / f"{w}.wav" for w in WORDS[:2]])
    state = enrol(client, "duo", "bob", [voices / "m3" / "ah.wav"])
    assert state["speakers"] == [{"name": "alice", "recordings": 2}, {"name": "bob", "recordings": 1}]
    assert state["problem"] == "record at least 3 recordings of each speaker; not yet: alice, bob."
    text = detail(post_file(client, "/api/models/duo/enrolment/bob", b"", name="nothing.wav"), 422)
    assert text == "nothing.wav: empty file (0 bytes)."
    assert client.get("/api/models/duo/enrolment").json()["speakers"][1]["recordings"] == 1
    kept = sorted(p.name for p in (models / ".enrolment" / "duo" / "alice").iterdir())
    assert kept == ["take-001.wav", "take-002.wav"]
    state = client.delete("/api/models/duo/enrolment/bob").json()
    assert state["speakers"] == [{"name": "alice", "recordings": 2}]
    assert "no speaker 'bob'" in detail(client.delete("/api/models/duo/enrolment/bob"), 404)
    assert "duo" not in [m["name"] for m in client.get("/api/models").json()["models"]]


def test_training_refuses_until_ready_and_bad_settings(client, voices):
    enrol(client, "duo", "alice", [voices / "f4" / "ah.wav"])
    assert "cannot be trained yet: record at least 2 speakers" in detail(client.post("/api/models/duo/train"), 409)
    text = detail(client.post("/api/models/duo/train", json={"epochs": 0}), 422)
    assert text.startswith("body field 'epochs': input should be greater than or equal to 1")
    assert "body field 'force'" in detail(client.post("/api/models/duo/train", json={"force": "maybe"}), 422)
    for network in ("fcn", "rnn"):
        text = detail(client.post("/api/models/duo/train", json={"architecture": network}), 422)
        assert text == (
            "body field 'architecture': input should be 'encoder' (the pretrained speaker encoder, ready in seconds) "
            "or 'bilstm' (bidirectional, most accurate) or 'lstm' "
            f"(forward-only, answers while you speak); got {network!r}."
        )
    assert TrainRequest(architecture="lstm").architecture == "lstm" and TrainRequest().architecture == "bilstm"
    assert "no training job '42'" in detail(client.get("/api/jobs/42"), 404)


@pytest.mark.slow
def test_training_in_the_background_saves_a_bundle_the_command_line_reads(client, voices, models, capsys):
    enrol(client, "duo", "alice", [voices / "f4" / f"{w}.wav" for w in WORDS])
    enrol(client, "duo", "bob", [voices / "m3" / f"{w}.wav" for w in WORDS])
    response = client.post("/api/models/duo/train", json={"epochs": 3})
    assert response.status_code == 202, response.text
    job = response.json()
    assert job["state"] in ("queued", "running") and job["model"] == "duo" and job["epochs"] == 3
    again = client.post("/api/models/duo/train", json={"epochs": 3})
    assert "already being trained (job" in detail(again, 409)
    # classification goes on while the job trains
    answer = post_file(client, "/api/models/trio/classify", (voices / "f4" / "ah.wav").read_bytes())
    assert answer.status_code == 200
    job = wait(client, job)
    assert job["state"] == "succeeded" and job["progress"] == 1 and job["error"] is None, job
    assert job["result"]["name"] == "duo" and job["result"]["speakers"] == ["alice", "bob"]
    assert job["result"]["n_validation"] == 3 and 0 <= job["result"]["validation_accuracy"] <= 1
    assert job["result"]["threshold_source"] == "default" and job["warnings"] == []
    assert "not calibrated: needs at least 3 speakers" in job["result"]["threshold_note"]
    assert [j["id"] for j in client.get("/api/jobs").json()] == [job["id"]]
    assert RecordingClassifier.load(models / "duo").classes_.tolist() == ["alice", "bob"]
    assert main(["classify", "--model", str(models / "duo"), str(voices / "m3" / "ee.wav")]) == 0
    assert capsys.readouterr().out.startswith(f"{voices / 'm3' / 'ee.wav'}: ")
    listed = [m["name"] for m in client.get("/api/models").json()["models"]]
    assert listed == ["duo", "trio"] and not [p for p in models.iterdir() if p.name.startswith(".duo")]
    text = detail(client.post("/api/models/duo/train", json={"epochs": 3}), 409)
    assert text == "model 'duo' already exists; send \"force\": true to replace it, or choose a new name."


def test_enrolling_with_the_speaker_encoder_gives_a_model_at_once(client, voices, models, capsys):
    """The Enrol page's default: no network trained, the new voices usable seconds later."""
    for speaker, voice in (("alice", "f4"), ("bob", "m3"), ("carol", "m7")):
        enrol(client, "quick", speaker, [voices / voice / f"{w}.wav" for w in WORDS[:4]])
    tone = 0.3 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
    assert post_file(client, "/api/models/quick/enrolment/alice", wav_bytes(tone)).status_code == 201  # audio, no voice
    response = client.post("/api/models/quick/train", json={"architecture": "encoder"})
    assert response.status_code == 202, response.text
    job = wait(client, response.json())
    assert job["state"] == "succeeded", job
    assert job["warnings"] == ["alice/take-005.wav: no speech found (silence, noise or a tone); not enrolled."]
    result = job["result"]
    assert result["architecture"] == "encoder" and result["speakers"] == ["alice", "bob", "carol"]
    assert result["threshold_source"] == "calibrated" and "fitted to 12 genuine" in result["threshold_note"]
    assert result["scoring"] == "open-set" and result["scoring_description"] == SCALES["wccn"]  # 3 speakers, 4 takes
    assert result["n_recordings"] == 12 and result["validation_accuracy"] is None
    answer = post_file(client, "/api/models/quick/classify", (voices / "f4" / f"{WORDS[5]}.wav").read_bytes())
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["nearest"] == "alice" and body["probability"] is None and body["scoring"] == "open-set"
    assert [s["name"] for s in body["speakers"]] == ["alice", "bob", "carol"]
    assert main(["classify", "--model", str(models / "quick"), str(voices / "m3" / f"{WORDS[5]}.wav")]) == 0
    assert "bob" in capsys.readouterr().out


@pytest.mark.slow
def test_a_forward_only_model_trained_in_the_background_streams(client, voices, models):
    enrol(client, "live", "alice", [voices / "f4" / f"{w}.wav" for w in WORDS[:3]])
    enrol(client, "live", "bob", [voices / "m3" / f"{w}.wav" for w in WORDS[:3]])
    response = client.post("/api/models/live/train", json={"epochs": 2, "architecture": "lstm"})
    assert response.status_code == 202, response.text
    assert response.json()["architecture"] == "lstm"
    job = wait(client, response.json())
    assert job["state"] == "succeeded", job
    assert job["result"]["architecture"] == "lstm" and job["result"]["streams"] is True
    assert RecordingClassifier.load(models / "live").architecture == "lstm"
    listed = {m["name"]: m["streams"] for m in client.get("/api/models").json()["models"]}
    assert listed == {"live": True, "trio": False}
    # what the page sends while recording: the audio so far, an ordinary classify request
    y, sr = sf.read(voices / "f4" / "water.wav", dtype="float32")
    for end in (len(y) // 2, len(y)):
        answer = post_file(client, "/api/models/live/classify", wav_bytes(y[:end], sr), name="microphone.wav")
        assert answer.status_code == 200 and answer.json()["speaker"] in ("alice", "bob"), answer.text


@pytest.mark.slow
def test_a_replaced_model_is_served_as_soon_as_it_is_whole(client, voices, models):
    before = post_file(client, "/api/models/trio/classify", (voices / "f4" / "ah.wav").read_bytes()).json()
    for speaker in ("f4", "m7", "f2"):
        enrol(client, "trio", speaker, [voices / speaker / f"{w}.wav" for w in WORDS[:3]])
    job = wait(client, client.post("/api/models/trio/train", json={"epochs": 2, "force": True}).json())
    assert job["state"] == "succeeded", job
    after = post_file(client, "/api/models/trio/classify", (voices / "f4" / "ah.wav").read_bytes()).json()
    assert [s["name"] for s in before["speakers"]] == sorted(SPEAKERS)
    assert [s["name"] for s in after.get("speakers", [])] == ["f2", "f4", "m7"], after
    assert job["result"]["threshold_source"] == "calibrated"


def test_a_failed_training_reports_why_and_the_next_one_runs(models, tmp_path):
    from vowels.serve.store import ModelStore

    store = ModelStore(models)
    jobs = TrainingJobs(store)
    for speaker in ("a", "b"):
        for _ in range(3):
            store.add_take("bad", speaker, b"not audio", ".wav")
    job = jobs.submit("bad", epochs=1, force=False)
    deadline = time.monotonic() + 60
    while job.state in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.state == "failed" and job.error and "\n" not in job.error
    assert not (models / "bad").exists()
    jobs.close()


# --- the command --------------------------------------------------------------------------------------


def test_serve_without_the_web_extra_says_how_to_install_it(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "uvicorn" else real(name, *a))
    assert main(["serve"]) == 2
    assert capsys.readouterr().err == (
        'vowels serve: needs the web extra (uvicorn not installed): pip install "vowels[web]"\n'
    )


def test_serve_refuses_a_port_in_use_and_a_missing_model(tmp_path, capsys):
    from vowels.serve.server import bind

    taken = bind("127.0.0.1", 0)
    port = taken.getsockname()[1]
    try:
        assert main(["serve", "--models", str(tmp_path / "m"), "--port", str(port)]) == 2
        expected = f"vowels: error: port {port} on 127.0.0.1 is in use; choose another with --port.\n"
        assert capsys.readouterr().err == expected
    finally:
        taken.close()
    assert main(["serve", "--model", str(tmp_path / "nothing")]) == 2
    assert "--model" in capsys.readouterr().err
    assert main(["serve", "--port", "70000"]) == 2
    assert "must be a whole number from 0 to 65535" in capsys.readouterr().err


def test_serve_prints_its_address_and_answers_there(models):
    import subprocess
    import sys
    import urllib.request

    command = [sys.executable, "-m", "vowels", "serve", "--model", str(models / "trio"), "--port", "0"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        assert line.startswith("Serving vowels at http://127.0.0.1:") and line.endswith("press Ctrl+C to stop.\n")
        url = line.split()[3]
        with urllib.request.urlopen(f"{url}api/models", timeout=30) as response:
            assert json.loads(response.read())["default"] == "trio"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_link_to_a_folder_outside_is_not_listed(client, models, tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (models / "linked").symlink_to(tmp_path / "elsewhere")
    assert [m["name"] for m in client.get("/api/models").json()["models"]] == ["trio"]
    assert "leads outside" in detail(client.get("/api/models/linked"), 422)
