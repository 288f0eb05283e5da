"""`vowels serve` left running as issue 25 attacked it: names that read alike or overflow a file name,
bounded work, cancelling, the token and Host allowlist off loopback, framing, and clean-up.

The app runs through FastAPI's test client over real files; the command runs as a real process.
"""

# ruff: noqa: F811 (the fixtures of test_serve, imported by name, are the tests' arguments)
from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from test_serve import WORDS, bundle, client, detail, enrol, models, post_file, voices, wait  # noqa: F401

from vowels.serve import create_app

# --- names -----------------------------------------------------------------------------------------------


def test_names_are_counted_in_bytes_of_utf8(client, voices):
    data = (voices / "f4" / "ah.wav").read_bytes()
    long = "𝐀" * 64  # 64 characters, 256 bytes: a file name of more than 255 bytes
    for response in (
        client.get(f"/api/models/{long}"),
        client.get(f"/api/models/{long}/enrolment"),
        post_file(client, f"/api/models/{long}/enrolment/bob", data),
        post_file(client, f"/api/models/duo/enrolment/{long}", data),
        client.delete(f"/api/models/duo/enrolment/{long}"),
    ):
        assert "64 bytes at most in UTF-8" in detail(response, 422)
    assert post_file(client, f"/api/models/{'𝐀' * 16}/enrolment/bob", data).status_code == 201


@pytest.mark.parametrize(
    ("speaker", "message"),
    [
        ("unkn\u043ewn", "mixes cyrillic and latin letters, which can look alike"),
        ("\uff55\uff4e\uff4b\uff4e\uff4f\uff57\uff4e", "it is the answer for a voice the model does not know"),
        ("\U0001d42enknown", "it is the answer for a voice the model does not know"),
        ("UNKNOWN", "it is the answer for a voice the model does not know"),
    ],
)
def test_lookalikes_of_the_unknown_answer_are_refused(client, voices, speaker, message):
    response = post_file(client, f"/api/models/duo/enrolment/{speaker}", (voices / "f4" / "ah.wav").read_bytes())
    assert message in detail(response, 422)


def test_names_that_read_the_same_are_one_name(client, voices):
    data = (voices / "f4" / "ah.wav").read_bytes()
    assert post_file(client, "/api/models/duo/enrolment/alice", data).status_code == 201
    text = detail(post_file(client, "/api/models/duo/enrolment/ALICE", data), 409)
    assert text == "speaker name 'ALICE' reads the same as 'alice', which is already there; use 'alice'."
    text = detail(post_file(client, "/api/models/\uff34rio/enrolment/bob", data), 409)
    assert text.startswith("model name 'Ｔrio' reads the same as 'trio'")
    assert post_file(client, "/api/models/山田/enrolment/たろう", data).status_code == 201


# --- a real server in a thread, for what the test client cannot show --------------------------------------


@contextlib.contextmanager
def running(models: Path, host: str = "127.0.0.1", **settings):
    """The app on uvicorn on a free port of `host`, in a thread; yields its base URL."""
    import uvicorn

    from vowels.serve.server import MAX_CONNECTIONS, bind, url_of

    sock = bind(host, 0)
    config = uvicorn.Config(create_app(models, **settings), log_config=None, limit_concurrency=MAX_CONNECTIONS)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        sock.close()


def raw_request(url: str, head: str, body: bytes = b"", *, pause: float = 0.0) -> socket.socket:
    """A connection to `url` that has sent `head` (CRLF line ends added) and `body`, then waited `pause` s."""
    host, port = url.split("//", 1)[1].rsplit(":", 1)
    sock = socket.create_connection((host.strip("[]"), int(port)), timeout=30)
    sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n\r\n" + body)
    time.sleep(pause)
    return sock


def test_a_client_that_goes_away_mid_upload_leaves_no_traceback(models, caplog):
    with running(models) as url:
        head = f"POST /api/models/duo/enrolment/bob HTTP/1.1\nHost: {url[7:]}\nContent-Length: 1000000"
        raw_request(url, head, b"x" * 5000, pause=0.3).close()
        time.sleep(1)
        with urllib.request.urlopen(f"{url}/api/models", timeout=30) as answer:
            assert answer.status == 200
    assert not [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info], caplog.text


def test_a_slow_body_is_answered_408_and_the_connection_closed(models):
    with running(models, body_seconds=1.0) as url:
        head = f"POST /api/models/duo/enrolment/bob HTTP/1.1\nHost: {url[7:]}\nContent-Length: 100000"
        sock = raw_request(url, head, b"x")
        started = time.monotonic()
        answer = b""
        while time.monotonic() - started < 20:
            sock.sendall(b"x")  # a byte at a time, as a slow client would
            time.sleep(0.2)
            sock.settimeout(0.01)
            with contextlib.suppress(TimeoutError, BlockingIOError):
                answer += sock.recv(4096)
            if b"\r\n\r\n" in answer:
                break
        sock.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"request body not received within 1 s" in answer


# --- off loopback -----------------------------------------------------------------------------------------


def test_the_page_cannot_be_framed_and_loads_nothing_from_elsewhere(client):
    for path in ("/", "/static/app.js", "/api/models", "/api/models/nobody"):
        response = client.get(path)
        assert response.headers["x-frame-options"] == "DENY", path
        policy = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
        assert "http" not in policy and "*" not in policy


def test_off_loopback_a_token_is_asked_and_dns_rebinding_refused(models, voices):
    token = "s3cret-token"
    app = create_app(models, allowed_hosts=["localhost", "box.lan"], token=token)
    with TestClient(app, base_url="http://192.0.2.7:8000") as browser:
        assert "asks for its token" in detail(browser.get("/api/models"), 401)
        assert "asks for its token" in detail(browser.get("/api/models?token=wrong"), 401)
        page = browser.get(f"/?token={token}")
        assert page.status_code == 200 and "vowels_token_8000" in page.headers["set-cookie"]
        assert browser.get("/api/models").status_code == 200  # the cookie now
        data = (voices / "f4" / "ah.wav").read_bytes()
        forged = post_file(browser, "/api/models/duo/enrolment/bob", data)
        assert "'X-XSRFToken' header missing or wrong" in detail(forged, 403)
        xsrf = {"X-XSRFToken": browser.cookies["_xsrf"]}
        assert post_file(browser, "/api/models/duo/enrolment/bob", data, headers=xsrf).status_code == 201
        for name in ("box.lan:8000", "[::1]:8000", "10.1.2.3:8000"):
            assert browser.get("/api/models", headers={"host": name}).status_code == 200, name
        rebound = browser.get(
            "/api/models", headers={"host": "evil.example:8000", "origin": "http://evil.example:8000"}
        )
        assert "answers to the host names localhost, box.lan and IP addresses only" in detail(rebound, 403)
    with TestClient(app, base_url="http://192.0.2.7:8000") as curl:
        sent = {"Authorization": f"token {token}"}
        assert post_file(curl, "/api/models/duo/enrolment/bob", data, headers=sent).status_code == 201


def serve_process(models: Path, *args: str) -> tuple[subprocess.Popen, list[str]]:
    command = [sys.executable, "-m", "vowels", "serve", "--models", str(models), "--port", "0", *args]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = [server.stdout.readline()]
    if "--no-token" in args:
        lines.append(server.stdout.readline())
    return server, lines


def stop(server: subprocess.Popen, how: int = signal.SIGTERM) -> str:
    server.send_signal(how)
    _, err = server.communicate(timeout=60)
    return err


def test_serve_off_loopback_prints_a_token_once_and_no_token_warns(models):
    server, lines = serve_process(models, "--host", "0.0.0.0")
    try:
        match = re.fullmatch(r"Serving vowels at (http://0\.0\.0\.0:(\d+)/\?token=([\w-]{40,})) .*\n", lines[0])
        assert match, lines
        port, token = match.group(2), match.group(3)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/models", timeout=30)
        assert refused.value.code == 401
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/models?token={token}", timeout=30) as answer:
            assert answer.status == 200
    finally:
        stop(server)
    server, lines = serve_process(models, "--host", "0.0.0.0", "--no-token")
    stop(server)
    assert "?token=" not in lines[0]
    assert lines[1].startswith("vowels serve: WARNING: listening on 0.0.0.0 with --no-token: anyone who can reach")


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6 on this machine")
def test_serve_on_ipv6_loopback_answers_its_own_address(models):
    server, lines = serve_process(models, "--host", "::1")
    try:
        url = lines[0].split()[3]
        assert url.startswith("http://[::1]:"), lines
        with urllib.request.urlopen(f"{url}api/models", timeout=30) as answer:
            assert answer.status == 200
    finally:
        stop(server)


# --- bounded work -----------------------------------------------------------------------------------------


def test_models_recordings_and_disk_are_bounded(models, voices):
    data = (voices / "f4" / "ah.wav").read_bytes()
    with TestClient(create_app(models, max_models=2, max_recordings=3)) as small:
        for speaker in ("a", "b", "c"):
            assert post_file(small, f"/api/models/duo/enrolment/{speaker}", data).status_code == 201
        text = detail(post_file(small, "/api/models/duo/enrolment/d", data), 507)
        assert text.startswith("3 recordings are waiting to be trained on, the most this server keeps")
        text = detail(post_file(small, "/api/models/third/enrolment/a", data), 507)
        assert text.startswith("the models folder already has 2 models, trained or being enrolled")
    used = sum(p.stat().st_size for p in models.rglob("*") if p.is_file())
    with TestClient(create_app(models, max_bytes=used + len(data) // 2)) as tight:
        text = detail(post_file(tight, "/api/models/duo/enrolment/e", data), 507)
        assert "and this server keeps at most" in text and str(models) not in text


def test_the_training_queue_is_bounded_and_jobs_can_be_cancelled(models, voices):
    with TestClient(create_app(models, max_jobs=2)) as client:
        for model in ("one", "two", "three"):
            for speaker, voice in (("alice", "f4"), ("bob", "m3")):
                enrol(client, model, speaker, [voices / voice / f"{w}.wav" for w in WORDS[:3]])
        first = client.post("/api/models/one/train", json={"epochs": 500}).json()
        second = client.post("/api/models/two/train", json={"epochs": 500}).json()
        text = detail(client.post("/api/models/three/train", json={"epochs": 500}), 429)
        assert text.startswith("2 training jobs are already queued or running, the most this server takes")
        queued = client.delete(f"/api/jobs/{second['id']}").json()
        assert queued["state"] == "cancelled"
        deadline = time.monotonic() + 120
        while client.get(f"/api/jobs/{first['id']}").json()["state"] == "queued":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        removal = client.delete("/api/models/one/enrolment/bob")
        assert f"wait for it to finish or cancel it (DELETE /api/jobs/{first['id']})" in detail(removal, 409)
        assert client.delete(f"/api/jobs/{first['id']}").status_code == 200
        job = wait(client, first)
        assert job["state"] == "cancelled" and job["stage"] == "cancelled; the model was not changed"
        assert not (models / "one").exists()
        assert client.post("/api/models/three/train", json={"epochs": 1}).status_code == 202
        assert client.delete("/api/models/one/enrolment/bob").status_code == 200
        assert "no training job '99'" in detail(client.delete("/api/jobs/99"), 404)


def test_a_failed_job_names_the_recording_not_a_server_path(models, voices):
    with TestClient(create_app(models)) as client:
        for speaker, voice in (("alice", "f4"), ("bob", "m3")):
            enrol(client, "duo", speaker, [voices / voice / f"{w}.wav" for w in WORDS[:3]])
        for take in (models / ".enrolment" / "duo" / "bob").iterdir():
            take.write_bytes(b"damaged")
        job = wait(client, client.post("/api/models/duo/train", json={"epochs": 1}).json())
    assert job["state"] == "failed"
    assert "bob" in job["error"] and "/tmp" not in job["error"] and str(models) not in job["error"]


def test_sigterm_during_training_leaves_no_copy_of_the_recordings(models, voices, tmp_path):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = os.environ | {"TMPDIR": str(scratch)}
    command = [sys.executable, "-m", "vowels", "serve", "--models", str(models), "--port", "0"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        url = server.stdout.readline().split()[3]
        for speaker, voice in (("alice", "f4"), ("bob", "m3")):
            for word in WORDS[:3]:
                data = (voices / voice / f"{word}.wav").read_bytes()
                boundary = "b0undary"
                body = (
                    (
                        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{word}.wav"\r\n'
                        "Content-Type: audio/wav\r\n\r\n"
                    ).encode()
                    + data
                    + f"\r\n--{boundary}--\r\n".encode()
                )
                request = urllib.request.Request(
                    f"{url}api/models/duo/enrolment/{speaker}",
                    data=body,
                    headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
                )
                urllib.request.urlopen(request, timeout=60).close()
        train = urllib.request.Request(
            f"{url}api/models/duo/train", data=b'{"epochs": 500}', headers={"Content-Type": "application/json"}
        )
        job = json.loads(urllib.request.urlopen(train, timeout=60).read())
        deadline = time.monotonic() + 180
        while not list(scratch.glob("vowels-enrolment-*")):
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
    finally:
        err = stop(server)
    assert server.returncode == -signal.SIGTERM, err  # uvicorn shuts down, then dies of the signal it caught
    assert not list(scratch.iterdir()), err
    assert "Traceback" not in err


def test_connections_beyond_the_limit_are_answered_503(models):
    from vowels.serve.server import MAX_CONNECTIONS

    server, lines = serve_process(models)
    url = lines[0].split()[3].rstrip("/")
    try:
        stalled = [
            raw_request(url, f"POST /api/models/duo/enrolment/bob HTTP/1.1\nHost: {url[7:]}\nContent-Length: 9999")
            for _ in range(MAX_CONNECTIONS - 1)  # each waiting for its body
        ]
        time.sleep(1)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{url}/api/models", timeout=30)
        assert refused.value.code == 503
        for sock in stalled:
            sock.close()
        time.sleep(1)
        with urllib.request.urlopen(f"{url}/api/models", timeout=30) as answer:
            assert answer.status == 200
    finally:
        stop(server)
