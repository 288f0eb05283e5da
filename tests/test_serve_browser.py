"""`vowels serve` in a real browser: Debian's Chromium driven by Playwright, its microphone a WAV file.

Two speakers are enrolled by recording them in the page (Chromium's fake capture device plays an
espeak-ng voice; the file is fixed at launch, so each voice gets a browser launch of its own), a
model is trained in the page, and a third utterance of each voice is identified by reading the
answer off the page. A forward-only model trained in the page on the same recordings answers
while the recording goes on: a provisional answer ("So far: alice") shows before the final one.
Screenshots of the two pages, and of a provisional answer, are written to the test's folder, and to
``$VOWELS_SCREENSHOTS`` when set (``docs/`` holds the committed ones).
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

if importlib.util.find_spec("fastapi") is None:  # every test runs on CI, which installs the dev extra
    message = 'the web extra is not installed: pip install -e ".[web]"'
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message, allow_module_level=True)
from conftest import _absent

CHROMIUM = Path("/usr/bin/chromium")
VOICES = {"alice": ("en+f4", 75), "bob": ("en+m3", 25)}  # speaker -> espeak-ng voice, pitch 0-99
ENROL_TEXT = "ah. ee. oh. oo. eh. ah. ee. oh."
PROBE_TEXT = "eh. oo. ah."
TAKES, TAKE_MS, EPOCHS, LIVE_EPOCHS = 4, 1500, 20, 15
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def playwright():
    if not CHROMIUM.is_file():
        _absent(f"{CHROMIUM} not found: apt-get install chromium")
    if shutil.which("espeak-ng") is None:
        _absent("espeak-ng not found: apt-get install espeak-ng")
    if importlib.util.find_spec("playwright") is None:
        _absent('playwright not installed: pip install -e ".[dev]"')
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`vowels serve` on a free port of 127.0.0.1, in this process, as the command runs it."""
    import uvicorn

    from vowels.serve import create_app
    from vowels.serve.server import bind, url_of

    models = tmp_path_factory.mktemp("models")
    sock = bind("127.0.0.1", 0)
    app = create_app(models, allowed_hosts=["127.0.0.1"])
    runner = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=runner.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not runner.started:
        time.sleep(0.05)
    yield url_of(sock), models
    runner.should_exit = True
    thread.join(timeout=10)
    sock.close()


def speak(path: Path, speaker: str, text: str) -> Path:
    voice, pitch = VOICES[speaker]
    subprocess.run(["espeak-ng", "-v", voice, "-p", str(pitch), "-s", "120", "-w", str(path), text], check=True)
    return path


def browser_page(playwright, microphone: Path):
    """A fresh headless Chromium whose microphone plays `microphone`, and a page in it."""
    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=[*FLAGS, f"--use-file-for-fake-audio-capture={microphone}"],
    )
    page = browser.new_page(viewport={"width": 1100, "height": 660})
    return browser, page


def record(page, button: str, ms: int) -> None:
    page.click(button)
    page.wait_for_timeout(ms)
    page.click(button)


def enrol(playwright, url: str, tmp_path: Path, speaker: str, *, train: bool = False):
    browser, page = browser_page(playwright, speak(tmp_path / f"{speaker}-enrol.wav", speaker, ENROL_TEXT))
    try:
        page.goto(f"{url}/#enrol")
        page.fill("#enrol-model", "duo")
        page.fill("#enrol-speaker", speaker)
        for take in range(1, TAKES + 1):
            record(page, "#enrol-record", TAKE_MS)
            count = page.locator(f'#speakers tr[data-speaker="{speaker}"] .count')
            count.filter(has_text=str(take)).wait_for(timeout=20_000)
        assert page.locator("#message").is_hidden(), page.inner_text("#message")
        if train:
            page.fill("#epochs", str(EPOCHS))
            page.click("#train")
            page.locator("#use-model").wait_for(timeout=240_000)
            return page.inner_text("#job-status"), page.screenshot(full_page=True)
        return None
    finally:
        browser.close()


def identify(playwright, url: str, tmp_path: Path, speaker: str) -> tuple[str, bytes]:
    browser, page = browser_page(playwright, speak(tmp_path / f"{speaker}-probe.wav", speaker, PROBE_TEXT))
    try:
        page.goto(f"{url}/#identify")
        page.locator("#model option", has_text="duo").wait_for(state="attached")
        assert page.input_value("#model") == "duo"
        record(page, "#identify-record", 2000)
        page.locator("#figure").wait_for(state="visible", timeout=60_000)
        return page.inner_text("#answer"), page.screenshot(full_page=True)
    finally:
        browser.close()


def keep(screenshot: bytes, name: str, tmp_path: Path) -> None:
    (tmp_path / name).write_bytes(screenshot)
    folder = os.environ.get("VOWELS_SCREENSHOTS")
    if folder:
        Path(folder, name).write_bytes(screenshot)


@pytest.fixture(scope="module")
def duo(playwright, server, tmp_path_factory):
    """Model ``duo`` enrolled in the page as it enrols by default (the pretrained speaker encoder, no training)
    on alice and bob, each recorded in the page: the Enrol page's status line and screenshot."""
    url, _ = server
    folder = tmp_path_factory.mktemp("duo")
    enrol(playwright, url, folder, "alice")
    return enrol(playwright, url, folder, "bob", train=True)


WATCH_ANSWER = """() => {
  window.answers = [];
  const answer = document.getElementById("answer");
  new MutationObserver(() => window.answers.push([
    document.getElementById("answer-label").textContent, answer.textContent, answer.className,
  ])).observe(answer, { childList: true, characterData: true, subtree: true, attributes: true });
}"""
PROVISIONAL_NAME = """(names) => {
  const answer = document.querySelector("#answer.provisional");
  return answer !== null && names.includes(answer.textContent);
}"""


def test_enrol_two_speakers_train_and_identify_them_in_the_browser(playwright, server, duo, tmp_path):
    url, models = server
    status, enrol_screen = duo
    assert status.startswith("Saved model duo (alice, bob).")
    assert (models / "duo" / "metadata.json").is_file()
    assert (models / "duo" / "voiceprints.npz").is_file()  # the page's default: the encoder, nothing trained
    keep(enrol_screen, "serve-enrol.png", tmp_path)
    answers = {}
    for speaker in VOICES:
        answers[speaker], identify_screen = identify(playwright, url, tmp_path, speaker)
        if speaker == "alice":
            keep(identify_screen, "serve-identify.png", tmp_path)
    assert answers == {"alice": "alice", "bob": "bob"}


def test_a_forward_only_model_answers_while_the_speaker_speaks(playwright, server, duo, tmp_path):
    url, models = server
    shutil.copytree(models / ".enrolment" / "duo", models / ".enrolment" / "live")
    browser, page = browser_page(playwright, speak(tmp_path / "alice-probe.wav", "alice", PROBE_TEXT))
    try:
        page.goto(f"{url}/#enrol")
        page.fill("#enrol-model", "live")
        page.press("#enrol-model", "Tab")
        page.locator('#speakers tr[data-speaker="bob"]').wait_for()
        page.select_option("#architecture", "lstm")
        page.fill("#epochs", str(LIVE_EPOCHS))
        page.click("#train")
        page.locator("#use-model").wait_for(timeout=240_000)
        assert page.inner_text("#job-status").startswith("Saved model live (alice, bob).")
        page.click("#use-model")
        page.locator("#model option", has_text="live").wait_for(state="attached")
        assert page.input_value("#model") == "live"
        assert "Forward-only: the answer updates while you speak." in page.inner_text("#model-info")

        page.evaluate(WATCH_ANSWER)
        page.click("#identify-record")
        page.wait_for_function(PROVISIONAL_NAME, arg=list(VOICES), timeout=15_000)
        assert page.inner_text("#identify-record") == "■ Stop"  # still recording
        assert page.inner_text("#answer-label") == "So far:" and page.locator("#bars .bar-row").count() == 2
        keep(page.screenshot(full_page=True), "serve-identify-live.png", tmp_path)
        page.wait_for_timeout(1000)
        page.click("#identify-record")
        page.locator("#figure").wait_for(state="visible", timeout=60_000)
        assert page.inner_text("#answer-label") == "Answer:" and "provisional" not in page.get_attribute(
            "#answer", "class"
        )
        final = page.inner_text("#answer")
        answers = page.evaluate("window.answers")
    finally:
        browser.close()
    provisional = [i for i, (label, name, kind) in enumerate(answers) if "provisional" in kind and name in VOICES]
    finals = [i for i, (label, name, kind) in enumerate(answers) if label == "Answer:" and name in VOICES]
    assert provisional and finals and provisional[0] < finals[-1], answers
    assert answers[provisional[0]][0] == "So far:"
    assert final == "alice", answers
