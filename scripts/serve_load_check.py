"""A bounded local load check of `vowels serve`: N classify requests, C at a time, against 127.0.0.1;
writes reports/serve_load.md and reports/serve_load.json.

Usage: python scripts/serve_load_check.py [--requests 200] [--concurrency 8] [--out reports]

The server is the `vowels serve` command in a process of its own, over a models folder holding one
model (espeak-ng voices, the default recipe: MFCC, masked BiLSTM of 100 units; a few epochs, since
speed does not depend on them). Each request uploads one of the voices' recordings (22.05 kHz WAV,
resampled by the server to the model's 16 kHz) to ``POST /api/models/voices/classify``; latency is
measured from sending to the whole answer read, on this machine's loopback. A few requests are sent
first, untimed, so the model is loaded. Every answer must be 200 with a speaker, or the check fails.
The machine is shared, so single timings are noisy: read the median and the 95th percentile.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the voices of the recordings tests

WORDS = ["ah", "ee", "oh", "hello", "water", "seven", "morning", "yellow"]
PROBES = ["oo", "eh", "number", "river"]
MODEL = "voices"
ENV = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONWARNINGS": "ignore"}


def build_models(root: Path) -> tuple[Path, list[Path]]:
    """A models folder with one model trained on espeak-ng voices, and recordings to classify."""
    from test_recordings import render_voices

    from vowels.recordings import RecordingClassifier

    render_voices(root / "voices", WORDS)
    render_voices(root / "probes", PROBES)
    model = RecordingClassifier(max_epochs=5, validation_fraction=0, random_state=0, verbose=0)
    model.fit(root / "voices").save(root / "models" / MODEL)
    return root / "models", sorted((root / "probes").rglob("*.wav"))


def start_server(models: Path) -> tuple[subprocess.Popen[str], str, int]:
    """`vowels serve --models MODELS --port 0` as a new process; its host and port, read from what it prints."""
    command = [sys.executable, "-m", "vowels", "serve", "--models", str(models), "--port", "0"]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV)
    assert server.stdout is not None
    line = server.stdout.readline()
    if not line.startswith("Serving vowels at http://"):
        server.kill()
        raise RuntimeError(f"vowels serve did not start: {line}{server.stdout.read()[-2000:]}")
    address = line.split("http://", 1)[1].split("/", 1)[0]
    host, port = address.rsplit(":", 1)
    return server, host, int(port)


def multipart(path: Path) -> tuple[bytes, str]:
    """A multipart/form-data body with the file as field ``file``, and its content type."""
    boundary = uuid.uuid4().hex
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{path.name}"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    return head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def classify(host: str, port: int, body: bytes, content_type: str) -> tuple[float, int, dict]:
    """One request on a new connection: seconds from sending to the whole answer, status, JSON answer."""
    connection = http.client.HTTPConnection(host, port, timeout=120)
    start = time.perf_counter()
    try:
        connection.request("POST", f"/api/models/{MODEL}/classify", body=body, headers={"Content-Type": content_type})
        response = connection.getresponse()
        data = response.read()
    finally:
        connection.close()
    seconds = time.perf_counter() - start
    try:
        answer = json.loads(data)
    except json.JSONDecodeError:
        answer = {"detail": data[:200].decode("utf-8", "replace")}
    return seconds, response.status, answer


def percentile(values: list[float], q: float) -> float:
    """The `q`-th percentile (0-100), linear between closest ranks (NumPy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def run(args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="vowels-serve-load-") as folder:
        models, probes = build_models(Path(folder))
        bodies = [multipart(p) for p in probes]
        server, host, port = start_server(models)
        try:
            for body in bodies[: args.concurrency]:  # untimed: the first request loads the model
                classify(host, port, *body)
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
                results = list(pool.map(lambda i: classify(host, port, *bodies[i % len(bodies)]), range(args.requests)))
            wall = time.perf_counter() - started
        finally:
            server.terminate()
            server.wait(timeout=30)
    latencies = [r[0] for r in results]
    errors = [{"status": status, "answer": answer} for _, status, answer in results if status != 200]
    errors += [{"status": status, "answer": a} for _, status, a in results if status == 200 and "speaker" not in a]
    speakers = sorted({a["speaker"] for _, status, a in results if status == 200 and "speaker" in a})
    return {
        "requests": args.requests,
        "concurrency": args.concurrency,
        "n_probe_files": len(probes),
        "probe_bytes": [len(b) for b, _ in bodies],
        "wall_s": wall,
        "requests_per_s": args.requests / wall,
        "latency_s": {
            "median": statistics.median(latencies),
            "p95": percentile(latencies, 95),
            "min": min(latencies),
            "max": max(latencies),
            "mean": statistics.fmean(latencies),
        },
        "n_errors": len(errors),
        "errors": errors[:10],
        "speakers_answered": speakers,
    }


def _environment() -> dict:
    from vowels.provenance import library_versions, machine_summary

    libraries = ("vowels", "numpy", "soundfile", "soxr", "fastapi", "starlette", "uvicorn", "python-multipart")
    return {"machine": machine_summary(), "libraries": library_versions(libraries)}


def write_report(out: Path, result: dict, environment: dict) -> None:
    from vowels.files import write_json, write_text

    out.mkdir(parents=True, exist_ok=True)
    measured = dt.date.today().isoformat()
    write_json(out / "serve_load.json", {"measured": measured, "environment": environment, "result": result})
    m, libs, lat = environment["machine"], environment["libraries"], result["latency_s"]
    ms = {key: 1000 * value for key, value in lat.items()}
    lines = [
        "# `vowels serve`: local load check",
        "",
        "Written by `python scripts/serve_load_check.py`. The machine is shared, so single timings are noisy: "
        "read the median and the 95th percentile.",
        "",
        f"Machine: {m['platform']}, {m['machine']}, {m['cpus_available']} of {m['cpu_count']} CPUs available, "
        f"{m['python']}.",
        "Libraries: " + ", ".join(f"{k} {v}" for k, v in libs.items()) + ".",
        "",
        f"Measured {measured}: {result['requests']} `POST /api/models/{MODEL}/classify` requests, "
        f"{result['concurrency']} at a time, each on a new connection to `vowels serve` on 127.0.0.1 (a process of "
        f"its own, fast engine); each uploads one of {result['n_probe_files']} espeak-ng recordings "
        f"({min(result['probe_bytes']) // 1024}-{max(result['probe_bytes']) // 1024} KiB of 22.05 kHz WAV, "
        "resampled to the model's 16 kHz). Model: MFCC, masked BiLSTM(100), 5 speakers. Latency from sending "
        "the request to the whole answer read.",
        "",
        "| requests | at a time | median latency (ms) | 95th percentile (ms) | min (ms) | max (ms) | "
        "requests / s | errors |",
        "|---|---|---|---|---|---|---|---|",
        f"| {result['requests']} | {result['concurrency']} | {ms['median']:.1f} | {ms['p95']:.1f} | {ms['min']:.1f} | "
        f"{ms['max']:.1f} | {result['requests_per_s']:.1f} | {result['n_errors']} |",
        "",
        f"Every answer {'was' if not result['n_errors'] else 'was NOT'} a 200 naming a speaker "
        f"({', '.join(result['speakers_answered'])} among them).",
        "",
    ]
    write_text(out / "serve_load.md", "\n".join(lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="classify requests to send (default 200)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight at once (default 8)")
    parser.add_argument("--out", type=Path, default=ROOT / "reports", help="report folder (default reports/)")
    args = parser.parse_args()
    if not 1 <= args.concurrency <= 64 or not 1 <= args.requests <= 10000:
        parser.error("--concurrency must be 1 to 64 and --requests 1 to 10000")
    result = run(args)
    write_report(args.out, result, _environment())
    lat = result["latency_s"]
    print(
        f"{result['requests']} requests, {result['concurrency']} at a time: median {1000 * lat['median']:.1f} ms, "
        f"95th percentile {1000 * lat['p95']:.1f} ms, {result['n_errors']} errors; wrote {args.out / 'serve_load.md'}"
    )
    return 1 if result["n_errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
