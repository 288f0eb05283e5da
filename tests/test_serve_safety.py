"""`vowels serve` left running as issue 25 attacked it: names that read alike or overflow a file name,
bounded work, cancelling, the token and Host allowlist off loopback, framing, and clean-up.

The app runs through FastAPI's test client over real files; the command runs as a real process.
"""

# ruff: noqa: F811 (the fixtures of test_serve, imported by name, are the tests' arguments)
from __future__ import annotations

import pytest
from test_serve import bundle, client, detail, enrol, models, post_file, voices  # noqa: F401

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
