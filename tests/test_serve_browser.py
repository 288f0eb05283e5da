"""`vowels serve` in a real browser: Debian's Chromium driven by Playwright, its microphone a WAV file.

Two speakers are enrolled by recording them in the page (Chromium's fake capture device plays an
espeak-ng voice; the file is fixed at launch, so each voice gets a browser launch of its own), a
model is trained in the page, and a third utterance of each voice is identified by reading the
answer off the page. A forward-only model trained in the page on the same recordings answers
while the recording goes on: a provisional answer ("So far: alice") shows before the final one.
Recordings on disk are enrolled by choosing them and by dropping them on the page, a bad one refused
with the server's reason. After each training the page's outcome (how the model was made, its
threshold and how it was chosen, what was skipped) is read off it.
Screenshots of the two pages (the Enrol page after enrolling from files), and of a provisional
answer, are written to the test's folder, and to ``$VOWELS_SCREENSHOTS`` when set (``docs/`` holds
the committed ones).
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
            return page.inner_text("#job-status"), page.inner_text("#outcome")
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
    on alice and bob, each recorded in the page: the Enrol page's status line and the outcome below it."""
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
    status, outcome = duo
    assert status.startswith("Saved model duo (alice, bob).")
    lines = outcome.splitlines()
    assert lines[0] == "Pretrained speaker encoder: 8 recordings embedded, nothing trained, so no validation accuracy."
    assert lines[1].startswith("Unknown-speaker threshold ") and "(the default: too few recordings" in lines[1]
    assert len(lines) == 2, lines
    assert (models / "duo" / "metadata.json").is_file()
    assert (models / "duo" / "voiceprints.npz").is_file()  # the page's default: the encoder, nothing trained
    answers = {}
    for speaker in VOICES:
        answers[speaker], identify_screen = identify(playwright, url, tmp_path, speaker)
        if speaker == "alice":
            keep(identify_screen, "serve-identify.png", tmp_path)
    assert answers == {"alice": "alice", "bob": "bob"}


SLOW_DEFAULT_ENROLMENT = """
const fetchNow = window.fetch;
window.fetch = (url, ...rest) => fetchNow(url, ...rest).then((response) => String(url).includes("/my-voices/enrolment")
  ? new Promise((resolve) => setTimeout(() => resolve(response), 1500)) : response);
"""
"""The page's first enrolment request (of the default model name) answered 1.5 s late, as on a loaded server."""


def test_a_forward_only_model_answers_while_the_speaker_speaks(playwright, server, duo, tmp_path):
    url, models = server
    shutil.copytree(models / ".enrolment" / "duo", models / ".enrolment" / "live")
    browser, page = browser_page(playwright, speak(tmp_path / "alice-probe.wav", "alice", PROBE_TEXT))
    page.add_init_script(SLOW_DEFAULT_ENROLMENT)
    try:
        page.goto(f"{url}/#enrol")
        page.fill("#enrol-model", "live")
        page.press("#enrol-model", "Tab")
        page.locator('#speakers tr[data-speaker="bob"]').wait_for()
        page.wait_for_timeout(2000)  # the default model's enrolment arrives late, and is not shown over live's
        assert page.locator('#speakers tr[data-speaker="bob"]').count() == 1 and page.is_enabled("#train")
        page.select_option("#architecture", "lstm")
        page.fill("#epochs", str(LIVE_EPOCHS))
        page.click("#train")
        page.locator("#use-model").wait_for(timeout=240_000)
        assert page.inner_text("#job-status").startswith("Saved model live (alice, bob).")
        network, threshold = page.inner_text("#outcome").splitlines()
        assert network.startswith("Forward-only network: validation accuracy ")
        assert network.endswith("% on 2 recordings held out of training; the model saved was then trained on all 8.")
        assert threshold == (
            "Unknown-speaker threshold -1.000, so every recording is named (not calibrated: needs at least 3 speakers, "
            "so that each left-out group leaves 2 to train on)."
        )
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


DROP_FILES = """([selector, files]) => {
  const transfer = new DataTransfer();
  for (const [name, b64] of files) {
    transfer.items.add(new File([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))], name, { type: "audio/wav" }));
  }
  document.querySelector(selector).dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true }));
}"""


def test_recordings_you_have_are_enrolled_by_choosing_or_dropping_them(playwright, server, tmp_path):
    """Files go through the same upload and checks as recordings: each is listed, a refused one with the server's
    reason; the model trained from them says how it was made, its threshold and what training skipped."""
    import base64

    url, models = server
    texts = ("ah. ee. oh.", "oo. eh. ah.", "ee. oh. oo.")
    alice = [speak(tmp_path / f"alice-{i}.wav", "alice", text) for i, text in enumerate(texts)]
    bob = [speak(tmp_path / f"bob-{i}.wav", "bob", text) for i, text in enumerate(texts)]
    (tmp_path / "notes.wav").write_text("these are not audio samples at all\n" * 10)
    import numpy as np
    import soundfile as sf

    sf.write(tmp_path / "tone.wav", 0.3 * np.sin(2 * np.pi * 440 * np.arange(16000) / 16000), 16000)
    browser, page = browser_page(playwright, alice[0])
    try:
        page.goto(f"{url}/#enrol")
        page.fill("#enrol-model", "files")
        page.fill("#enrol-speaker", "bob")
        dropped = [[p.name, base64.b64encode(p.read_bytes()).decode()] for p in bob]
        page.evaluate(DROP_FILES, ["#enrol-area", dropped])
        page.locator('#speakers tr[data-speaker="bob"] .count').filter(has_text="3").wait_for(timeout=30_000)
        assert page.locator("#enrol-sent li.added").count() == 3

        page.fill("#enrol-speaker", "alice")
        page.set_input_files("#enrol-files", [*alice, tmp_path / "notes.wav", tmp_path / "tone.wav"])
        page.locator("#enrol-sent li").nth(4).wait_for(timeout=30_000)
        page.wait_for_function("() => !document.querySelector('#enrol-sent li:not(.added):not(.refused)')")
        sent = {
            li.get_attribute("data-file"): (li.get_attribute("class"), li.inner_text())
            for li in page.locator("#enrol-sent li").all()
        }
        assert list(sent) == ["alice-0.wav", "alice-1.wav", "alice-2.wav", "notes.wav", "tone.wav"]
        assert sent["alice-0.wav"] == ("added", "alice-0.wav added to alice")
        kind, text = sent["notes.wav"]
        assert kind == "refused" and text.startswith("notes.wav not an audio file"), text
        assert page.inner_text('#speakers tr[data-speaker="alice"] .count') == "4"
        assert page.locator("#message").is_hidden()

        page.click("#train")
        page.locator("#use-model").wait_for(timeout=240_000)
        lines = page.inner_text("#outcome").splitlines()
        assert (
            lines[0] == "Pretrained speaker encoder: 6 recordings embedded, nothing trained, so no validation accuracy."
        )
        assert lines[1].startswith("Unknown-speaker threshold ") and "(the default: too few recordings" in lines[1]
        assert lines[2] == "alice/take-004.wav: no speech found (silence, noise or a tone); not enrolled.", lines
        assert page.locator("#outcome li.warning").count() == 2
        keep(page.screenshot(full_page=True), "serve-enrol.png", tmp_path)
    finally:
        browser.close()
    assert sorted(p.name for p in (models / ".enrolment" / "files" / "alice").iterdir()) == [
        f"take-00{i}.wav" for i in range(1, 5)
    ]


def test_a_hand_given_threshold_is_shown_as_given(playwright, server, tmp_path):
    """A network's open-set threshold of 0, given by hand, still lets the model answer unknown: the page must not
    call it uncalibrated (the bundle's scoring is a description, not the kind the page compares)."""
    from vowels.recordings import RecordingClassifier

    url, models = server
    for speaker in VOICES:
        (tmp_path / "train" / speaker).mkdir(parents=True)
        for i, text in enumerate(("ah. ee.", "oh. oo.", "eh. ah.")):
            speak(tmp_path / "train" / speaker / f"{i}.wav", speaker, text)
    small = {"n_hidden": 8, "max_epochs": 2, "mini_batch_size": 4}
    model = RecordingClassifier(threshold=0.0, validation_fraction=0, random_state=0, verbose=0, **small)
    model.fit(tmp_path / "train").save(models / "strict")
    browser, page = browser_page(playwright, tmp_path / "train" / "alice" / "0.wav")
    try:
        page.goto(f"{url}/#identify")
        page.locator("#model option", has_text="strict").wait_for(state="attached")
        page.select_option("#model", "strict")
        info = page.inner_text("#model-info")
    finally:
        browser.close()
    assert info == "2 speakers: alice, bob. Unknown-speaker threshold 0.000 (given)."
