"""The `serve` section of reports/reliability.md: issue 25's attacks on `vowels serve`, run again.

Each case starts `vowels serve` in a process of its own (a scratch models folder, TMPDIR a scratch
folder), sends it the requests of the case over loopback, and records the answers, the server's peak
resident memory (VmHWM of /proc), whether its log holds a traceback and what it left in TMPDIR.
The hostile recordings are written with real encoders (libsndfile's Vorbis and FLAC through soundfile).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

ENV = os.environ | {"PYTHONIOENCODING": "utf-8:strict"}


def hostile_ogg(path: Path) -> Path:
    """29.5 s of Vorbis at 192 kHz in 255 channels (a quiet tone in the first): issue 25's 2.4 MB upload."""
    if not path.exists():
        rate, channels = 192_000, 255
        with sf.SoundFile(path, "w", rate, channels, format="OGG", subtype="VORBIS", compression_level=1.0) as out:
            t = np.arange(rate) / rate
            block = np.zeros((rate, channels), np.float32)
            block[:, 0] = 0.1 * np.sin(2 * np.pi * 440 * t)
            for _ in range(29):
                out.write(block)
            out.write(block[: rate // 2])
    return path


def hostile_flac(
    path: Path, *, rate: int = 655_350, channels: int = 8, seconds: float = 29.0, amplitude: float = 0.05
) -> Path:
    """FLAC at `rate` Hz in `channels` channels: issue 25's 164 KB file at 655,350 Hz in 8 channels."""
    if not path.exists():
        with sf.SoundFile(path, "w", rate, channels, format="FLAC", subtype="PCM_16") as out:
            t = np.arange(rate) / rate
            block = np.zeros((rate, channels), np.float32)
            block[:, 0] = amplitude * np.sin(2 * np.pi * 440 * t)
            whole, rest = divmod(seconds, 1.0)
            for _ in range(int(whole)):
                out.write(block)
            out.write(block[: int(rest * rate)])
    return path


class Server:
    """`vowels serve` in a process of its own; its address, token, peak memory and log."""

    def __init__(self, models: Path, scratch: Path, *args: str) -> None:
        scratch.mkdir(parents=True, exist_ok=True)
        self.scratch = scratch
        command = [sys.executable, "-m", "vowels", "serve", "--models", str(models), "--port", "0", *args]
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV | {"TMPDIR": str(scratch)}
        )
        line = self.process.stdout.readline() if self.process.stdout else ""
        address = line.split()[3]
        self.url = address.split("?")[0].rstrip("/")
        self.token = address.split("?token=")[1] if "?token=" in address else None
        self.host = self.url.split("//", 1)[1]

    def peak_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return round(int(re.search(r"VmHWM:\s+(\d+)", status).group(1)) / 1024, 1)  # type: ignore[union-attr]

    def stop(self) -> str:
        """SIGTERM, as a service manager stops it; its log."""
        self.process.send_signal(signal.SIGTERM)
        _, err = self.process.communicate(timeout=120)
        return err


def request(
    server: Server, method: str, path: str, *, file: bytes | None = None, name: str = "take.wav", **kwargs: object
) -> tuple[int, str]:
    """(status, detail or a short summary) of one request."""
    headers = {"Host": server.host, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    data = kwargs.pop("json", None)
    body = json.dumps(data).encode() if data is not None else None
    if data is not None:
        headers["Content-Type"] = "application/json"
    if file is not None:
        boundary = "vowelsb0undary"
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n\r\n'.encode()
            + file
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    call = urllib.request.Request(server.url + path, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(call, timeout=300) as answer:
            text = answer.read().decode()
            return answer.status, _summary(text)
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        try:
            return error.code, json.loads(text)["detail"]
        except (ValueError, KeyError):
            return error.code, text[:120]


def _summary(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError:
        return text[:80]
    if isinstance(data, dict):
        return ", ".join(f"{k}: {data[k]}" for k in ("state", "speaker", "model") if k in data) or "ok"
    return "ok"


def _counts(answers: list[tuple[int, str]]) -> str:
    """``201 x20, 507 x220: <first 507 detail>``."""
    by_status: dict[int, list[str]] = {}
    for status, text in answers:
        by_status.setdefault(status, []).append(text)
    parts = [f"{status} x{len(texts)}" for status, texts in sorted(by_status.items())]
    refused = [texts[0] for status, texts in sorted(by_status.items()) if status >= 400]
    return ", ".join(parts) + (f": {refused[0]}" if refused else "")


@dataclass
class ServeCase:
    """One of issue 25's attacks: its item, what is tried, the command's extra arguments, the attack."""

    item: str
    tried: str
    attack: Callable[[Server, Path], str]
    args: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()


def _raw(server: Server, length: int, *, timeout: float = 60) -> socket.socket:
    """A connection that has sent the head of an enrolment upload of `length` bytes, and no body yet."""
    host, port = server.host.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=timeout)
    head = f"POST /api/models/duo/enrolment/bob HTTP/1.1\r\nHost: {server.host}\r\nContent-Length: {length}\r\n\r\n"
    sock.sendall(head.encode())
    return sock


def _voice(fsdd: Path, speaker: str, n: int) -> bytes:
    return (fsdd / speaker / f"{n % 10}_{speaker}_{10 + n // 10}.wav").read_bytes()


def _enrol(server: Server, fsdd: Path, model: str) -> None:
    for speaker in ("george", "jackson"):
        for n in range(3):
            request(server, "POST", f"/api/models/{model}/enrolment/{speaker}", file=_voice(fsdd, speaker, n))


def serve_cases(fsdd: Path) -> list[ServeCase]:
    """Issue 25's list, in its order."""

    def upload(path_of: Callable[[Path], Path], model: str = "duo") -> Callable[[Server, Path], str]:
        def attack(server: Server, work: Path) -> str:
            path = path_of(work)
            status, text = request(
                server, "POST", f"/api/models/{model}/enrolment/bob", file=path.read_bytes(), name=path.name
            )
            return f"{status}: {text} ({path.stat().st_size / 1e6:.2f} MB)"

        return attack

    def six_at_once(server: Server, work: Path) -> str:
        data = hostile_flac(work.parent / "hostile-655350hz.flac").read_bytes()
        with concurrent.futures.ThreadPoolExecutor(6) as pool:
            answers = list(
                pool.map(
                    lambda i: request(server, "POST", f"/api/models/m{i}/enrolment/bob", file=data, name="f.flac"),
                    range(6),
                )
            )
        return _counts(answers)

    def many_models(server: Server, work: Path) -> str:
        return _counts(
            [
                request(server, "POST", f"/api/models/m{i}/enrolment/s{j}", file=_voice(fsdd, "george", j))
                for i in range(40)
                for j in range(6)
            ]
        )

    def many_trainings(server: Server, work: Path) -> str:
        for i in range(6):
            _enrol(server, fsdd, f"m{i}")
        answers = [
            request(server, "POST", f"/api/models/m{i}/train", json={"epochs": 500, "architecture": "bilstm"})
            for i in range(6)
        ]
        cancelled = request(server, "DELETE", "/api/jobs/1")
        return f"{_counts(answers)}; DELETE /api/jobs/1: {cancelled[0]} ({cancelled[1]})"

    def disk(server: Server, work: Path) -> str:
        noise = np.random.default_rng(0).normal(0, 0.1, (25 * 48_000, 2)).astype(np.float32)
        path = work / "big.wav"
        sf.write(path, noise, 48_000, subtype="PCM_16")  # 25 s of stereo at 48 kHz: 4.8 MB
        data = path.read_bytes()
        return _counts([request(server, "POST", f"/api/models/big/enrolment/s{i}", file=data) for i in range(30)])

    def stalled(server: Server, work: Path) -> str:
        sockets = []
        for _ in range(200):
            sock = _raw(server, 10 * 1024 * 1024, timeout=5)
            with contextlib.suppress(OSError):
                sock.sendall(b"x" * (10 * 1024 * 1024 - 1000))
            sockets.append(sock)
        time.sleep(2)
        answers = []
        for sock in sockets:
            sock.settimeout(60)
            try:
                answers.append(sock.recv(64).split(b"\r\n")[0].decode() or "closed")
            except OSError as error:
                answers.append(type(error).__name__)
            sock.close()
        return "; ".join(f"{a} x{answers.count(a)}" for a in sorted(set(answers)))

    def slow(server: Server, work: Path) -> str:
        sock, start, answer = _raw(server, 1000), time.monotonic(), b""
        while time.monotonic() - start < 120 and not answer:
            try:
                sock.sendall(b"x")
            except OSError:
                break
            sock.settimeout(10)
            with contextlib.suppress(TimeoutError):
                answer = sock.recv(4096)
        seconds = time.monotonic() - start
        with contextlib.suppress(OSError):
            while chunk := sock.recv(4096):  # the rest of the answer, until the server closes
                answer += chunk
        sock.close()
        first = answer.split(b"\r\n")[0].decode() or "(nothing)"
        detail = json.loads(answer.split(b"\r\n\r\n", 1)[1])["detail"] if b"\r\n\r\n" in answer else ""
        return f"{first} after {seconds:.0f} s: {detail}"

    def rebinding(server: Server, work: Path) -> str:
        evil = {
            "Host": f"evil.example:{server.host.rsplit(':', 1)[1]}",
            "Origin": f"http://evil.example:{server.host.rsplit(':', 1)[1]}",
        }
        status, text = request(
            server, "POST", "/api/models/duo/enrolment/bob", file=_voice(fsdd, "george", 0), headers=evil
        )
        no_token = request(server, "GET", "/api/models")
        with_token = request(server, "GET", "/api/models", headers={"Authorization": f"token {server.token}"})
        return f"rebound: {status}: {text}; no token: {no_token[0]}: {no_token[1]}; with the token: {with_token[0]}"

    def ipv6(server: Server, work: Path) -> str:
        status, _ = request(server, "GET", "/api/models")
        return f"{server.url}: {status}"

    def framing(server: Server, work: Path) -> str:
        with urllib.request.urlopen(server.url + "/", timeout=30) as page:
            frame, policy = page.headers["X-Frame-Options"], page.headers["Content-Security-Policy"]
        return f"X-Frame-Options: {frame}; Content-Security-Policy: {policy}"

    def names(server: Server, work: Path) -> str:
        data = _voice(fsdd, "george", 0)
        answers = []
        for name in ("𝐀" * 64, "unkn\u043ewn", "ｕｎｋｎｏｗｎ"):
            status, text = request(server, "POST", f"/api/models/duo/enrolment/{urllib.request.quote(name)}", file=data)
            answers.append(f"{status}: {text if len(text) < 160 else text[:40] + ' ... ' + text[-110:]}")
        return "<br>".join(answers)

    def delete_while_training(server: Server, work: Path) -> str:
        _enrol(server, fsdd, "duo")
        job = request(server, "POST", "/api/models/duo/train", json={"epochs": 500, "architecture": "bilstm"})
        deadline = time.monotonic() + 120
        while "running" not in request(server, "GET", "/api/jobs/1")[1] and time.monotonic() < deadline:
            time.sleep(0.2)
        status, text = request(server, "DELETE", "/api/models/duo/enrolment/jackson")
        return f"train: {job[0]}; DELETE speaker: {status}: {text}"

    def sigterm(server: Server, work: Path) -> str:
        _enrol(server, fsdd, "duo")
        request(server, "POST", "/api/models/duo/train", json={"epochs": 500, "architecture": "bilstm"})
        deadline = time.monotonic() + 120
        while not (copies := list(server.scratch.glob("vowels-enrolment-*"))) and time.monotonic() < deadline:
            time.sleep(0.1)
        return f"training, its copy of the recordings in TMPDIR ({', '.join(p.name for p in copies)}); then SIGTERM"

    def aborted(server: Server, work: Path) -> str:
        for _ in range(5):
            sock = _raw(server, 100_000)
            sock.sendall(b"x" * 5000)
            time.sleep(0.2)
            sock.close()
        time.sleep(1)
        return "5 uploads abandoned half-sent"

    safety = "test_serve_safety.py::"
    return [
        ServeCase(
            "1",
            "Ogg Vorbis, 29.5 s, 192 kHz, 255 channels",
            upload(lambda w: hostile_ogg(w.parent / "hostile-255ch.ogg")),
            tests=("test_audio.py::test_channels_and_rate_beyond_the_limits_are_refused_before_decoding",),
        ),
        ServeCase(
            "1",
            "FLAC, 655,350 Hz, 8 channels",
            upload(lambda w: hostile_flac(w.parent / "hostile-655350hz.flac")),
            tests=("test_audio.py::test_channels_and_rate_beyond_the_limits_are_refused_before_decoding",),
        ),
        ServeCase(
            "1",
            "six of that FLAC at once",
            six_at_once,
            tests=("test_audio.py::test_channels_and_rate_beyond_the_limits_are_refused_before_decoding",),
        ),
        ServeCase(
            "1",
            "FLAC at the limits: 29 s, 192 kHz, 8 channels",
            upload(lambda w: hostile_flac(w.parent / "edge-192khz.flac", rate=192_000, amplitude=0.1)),
            tests=("test_audio.py::test_a_wide_recording_is_decoded_a_block_at_a_time",),
        ),
        ServeCase(
            "2",
            "240 uploads into 40 models",
            many_models,
            tests=(safety + "test_models_recordings_and_disk_are_bounded",),
        ),
        ServeCase(
            "2",
            "6 trainings of 500 epochs, then cancel one",
            many_trainings,
            tests=(
                safety + "test_the_training_queue_is_bounded_and_jobs_can_be_cancelled",
                "test_serve_browser_safety.py::test_with_a_token_the_page_enrols_refuses_a_removal_while_training_and_cancels",
            ),
        ),
        ServeCase(
            "2",
            "30 recordings of 4.8 MB with `--max-disk 100`",
            disk,
            args=("--max-disk", "100"),
            tests=(safety + "test_models_recordings_and_disk_are_bounded",),
        ),
        ServeCase(
            "2",
            "200 connections sending 10 MiB less 1,000 bytes, then stalling",
            stalled,
            tests=(safety + "test_connections_beyond_the_limit_are_answered_503",),
        ),
        ServeCase(
            "2",
            "a body sent one byte at a time",
            slow,
            tests=(safety + "test_a_slow_body_is_answered_408_and_the_connection_closed",),
        ),
        ServeCase(
            "3",
            "`--host 0.0.0.0`: Host and Origin `evil.example`, then no token",
            rebinding,
            args=("--host", "0.0.0.0"),
            tests=(
                safety + "test_off_loopback_a_token_is_asked_and_dns_rebinding_refused",
                safety + "test_serve_off_loopback_prints_a_token_once_and_no_token_warns",
            ),
        ),
        ServeCase(
            "3",
            "`--host ::1`",
            ipv6,
            args=("--host", "::1"),
            tests=(safety + "test_serve_on_ipv6_loopback_answers_its_own_address",),
        ),
        ServeCase(
            "4",
            "the page's headers",
            framing,
            tests=("test_serve_browser_safety.py::test_another_site_cannot_frame_the_page",),
        ),
        ServeCase(
            "5",
            "speaker names 64 x `𝐀`, `unknоwn` (Cyrillic о), `ｕｎｋｎｏｗｎ`",
            names,
            tests=(
                safety + "test_names_are_counted_in_bytes_of_utf8",
                safety + "test_lookalikes_of_the_unknown_answer_are_refused",
            ),
        ),
        ServeCase(
            "6",
            "remove a speaker while their model trains",
            delete_while_training,
            tests=(safety + "test_the_training_queue_is_bounded_and_jobs_can_be_cancelled",),
        ),
        ServeCase(
            "6",
            "SIGTERM during a training",
            sigterm,
            tests=(safety + "test_sigterm_during_training_leaves_no_copy_of_the_recordings",),
        ),
        ServeCase(
            "6",
            "uploads abandoned half-way",
            aborted,
            tests=(safety + "test_a_client_that_goes_away_mid_upload_leaves_no_traceback",),
        ),
    ]


def run_serve_case(case: ServeCase, work: Path) -> dict:
    """Run `case` against a fresh server over an empty models folder in `work`."""
    work.mkdir(parents=True)
    server = Server(work / "models", work / "tmp", *case.args)
    try:
        said = case.attack(server, work)
        peak = server.peak_mb()
    finally:
        log = server.stop()
    left = sorted(p.name for p in (work / "tmp").iterdir())
    return {
        "item": case.item,
        "tried": case.tried,
        "args": " ".join(case.args),
        "answer": said.replace(str(work), "WORK"),
        "peak_mb": peak,
        "traceback": "Traceback" in log,
        "left_in_tmp": left,
        "tests": list(case.tests),
    }


def serve_markdown(results: list[dict]) -> list[str]:
    """The report's `serve` section."""
    from vowels.audio import MAX_CHANNELS, MAX_RATE
    from vowels.limits import SERVE_MAX_BYTES, SERVE_MAX_JOBS, SERVE_MAX_MODELS, SERVE_MAX_RECORDINGS
    from vowels.serve.server import MAX_CONNECTIONS
    from vowels.serve.uploads import BODY_SECONDS, MAX_UPLOAD_BYTES, MAX_UPLOAD_SECONDS

    peak = max(r["peak_mb"] for r in results)
    lines = [
        "## serve",
        "",
        "Issue 25's attacks on `vowels serve`, each against a fresh server (`vowels serve --port 0` and the",
        "arguments shown, an empty models folder, TMPDIR a scratch folder), over loopback: the answers, the",
        "server's peak resident memory (VmHWM), whether its log holds a traceback, and what it left in TMPDIR",
        f"after SIGTERM. The highest peak of all: {peak} MB.",
        "",
        f"Limits of the server: bodies at most {MAX_UPLOAD_BYTES // 1024**2} MiB, arriving within {BODY_SECONDS:g} s;",
        f"recordings at most {MAX_UPLOAD_SECONDS:g} s, {MAX_CHANNELS} channels and {MAX_RATE} Hz (from the header,",
        f"before decoding, then decoded a block at a time); {MAX_CONNECTIONS} connections at once (503 beyond);",
        f"{SERVE_MAX_JOBS} trainings queued or running (429, `--max-jobs`);",
        f"{SERVE_MAX_MODELS} models (`--max-models`), {SERVE_MAX_RECORDINGS} recordings waiting (`--max-recordings`),",
        f"{SERVE_MAX_BYTES // 1024**2} MiB in the "
        "models folder (`--max-disk`), 507 beyond; names at most 64 bytes of UTF-8. Off loopback a token is asked.",
        "",
        "| item | tried | arguments | answers | traceback | left in TMPDIR | peak MB | tests |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        cell = r["answer"].replace("|", "\\|").replace("\n", " ")
        tests = "<br>".join(r["tests"])
        left = ", ".join(r["left_in_tmp"]) or "nothing"
        lines.append(
            f"| {r['item']} | {r['tried']} | `{r['args'] or '-'}` | {cell} | {'yes' if r['traceback'] else 'no'} | "
            f"{left} | {r['peak_mb']} | {tests} |"
        )
    lines.append("")
    return lines


def run_all(fsdd: Path, scratch: Path) -> list[dict]:
    """Every case of `serve_cases`, each in a folder of its own under `scratch`."""
    results = []
    for number, case in enumerate(serve_cases(fsdd)):
        result = run_serve_case(case, scratch / f"serve-{number}")
        results.append(result)
        print(f"serve {case.item} {case.tried}: peak {result['peak_mb']} MB", file=sys.stderr)
        shutil.rmtree(scratch / f"serve-{number}", ignore_errors=True)
    return results
