"""The README's promises to a newcomer stay true: .ci/run runs its test command verbatim."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_test_command():
    readme = ROOT.joinpath("README.md").read_text()
    lines = ROOT.joinpath(".ci", "run").read_text().splitlines()
    commands = [line for line in lines if "pytest" in line and not line.lstrip().startswith("#")]
    assert len(commands) == 1
    assert commands[0].strip() in readme


def test_readme_gives_the_setup_and_run_command():
    assert "pip install . && vowels reproduce" in ROOT.joinpath("README.md").read_text()


def test_ci_runs_the_quality_gates_before_the_tests():
    command = next(line for line in ROOT.joinpath(".ci", "run").read_text().splitlines() if line.startswith("python3"))
    assert command.index("scripts/check --lint") < command.index("python -m pytest")
