"""`vowels serve` as issue 25 attacked it, in Debian's Chromium through Playwright: another site's page
cannot frame it; with a token the page works from its printed address (the XSRF header sent by the page),
shows why a speaker cannot be removed while training, and cancels a training with its button."""

# ruff: noqa: F811 (the fixtures of test_serve_browser, imported by name, are the tests' arguments)
from __future__ import annotations

import http.server
import shutil
import threading
from pathlib import Path

import pytest
from test_serve_browser import ENROL_TEXT, TAKE_MS, browser_page, playwright, record, speak  # noqa: F401
from test_serve_safety import running

pytestmark = pytest.mark.slow


def framing_site(folder: Path, target: str) -> http.server.ThreadingHTTPServer:
    """A web site of its own on another port of this machine, whose page frames `target`."""
    (folder / "index.html").write_text(f'<html><body><iframe id="victim" src="{target}"></iframe></body></html>')
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(folder))  # noqa: E731
    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    return site


def test_another_site_cannot_frame_the_page(playwright, tmp_path):
    (tmp_path / "site").mkdir()
    with running(tmp_path / "models") as url:
        site = framing_site(tmp_path / "site", f"{url}/#enrol")
        browser, page = browser_page(playwright, speak(tmp_path / "mic.wav", "alice", "ah"))
        try:
            page.goto(f"http://127.0.0.1:{site.server_address[1]}/index.html")
            page.wait_for_timeout(2000)
            framed = [frame for frame in page.frames if frame != page.main_frame]
            assert framed and framed[0].query_selector("#enrol-model") is None
        finally:
            browser.close()
            site.shutdown()


def test_with_a_token_the_page_enrols_refuses_a_removal_while_training_and_cancels(playwright, tmp_path):
    models, token = tmp_path / "models", "browser-token"
    for speaker in ("alice", "bob"):
        take = speak(tmp_path / f"{speaker}.wav", speaker, ENROL_TEXT)
        (models / ".enrolment" / "duo" / speaker).mkdir(parents=True)
        for n in range(1, 4):
            shutil.copyfile(take, models / ".enrolment" / "duo" / speaker / f"take-00{n}.wav")
    with running(models, token=token, allowed_hosts=["localhost"]) as url:
        browser, page = browser_page(playwright, tmp_path / "alice.wav")
        try:
            assert "asks for its token" in page.goto(f"{url}/").text()
            page.goto(f"{url}/?token={token}#enrol")
            page.fill("#enrol-model", "duo")
            page.fill("#enrol-speaker", "alice")
            page.locator('#speakers tr[data-speaker="bob"]').wait_for()
            record(page, "#enrol-record", TAKE_MS)  # a POST from the page: its XSRF header is accepted
            page.locator('#speakers tr[data-speaker="alice"] .count').filter(has_text="4").wait_for(timeout=20_000)
            page.select_option("#architecture", "bilstm")
            page.fill("#epochs", "500")
            page.click("#train")
            page.locator("#cancel").wait_for(state="visible")
            page.locator("#job-status").filter(has_text="epoch").wait_for(timeout=120_000)
            page.click('#speakers tr[data-speaker="bob"] button')
            page.locator("#message").filter(has_text="is being trained on the recordings of 'bob'").wait_for()
            page.click("#cancel")
            done = page.locator("#job-status").filter(has_text="Training cancelled; the model was not changed.")
            done.wait_for(timeout=60_000)
            assert page.locator("#cancel").is_hidden()
        finally:
            browser.close()
    assert not (models / "duo").exists()
    assert sorted(p.name for p in (models / ".enrolment" / "duo").iterdir()) == ["alice", "bob"]
