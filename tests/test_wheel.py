"""The package as a user installs it: a wheel built from the source, installed into a fresh venv, run elsewhere.

The venv reaches the test environment's dependencies (TensorFlow, ...) through a ``.pth`` file, so
nothing is downloaded; that path line adds the folder only, without running its ``.pth`` files, so
the editable install of this repository is not on the new venv's import path.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from vowels.names import DATA_FIGURES

ROOT = Path(__file__).resolve().parents[1]
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _run(command: list[str | Path], *, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{command} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


def _build_wheel(tmp_path: Path) -> Path:
    """A wheel of a copy of the package's sources (no ``reports/``, no build files left in the tree)."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "vowels", source / "vowels", ignore=shutil.ignore_patterns("__pycache__"))
    dist = tmp_path / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    _run([*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "--wheel-dir", dist, source], cwd=tmp_path)
    (wheel,) = dist.glob("vowels-*.whl")
    return wheel


def _fresh_venv(tmp_path: Path, wheel: Path) -> Path:
    """A venv holding only `wheel`, with this environment's site-packages appended to its path; its folder."""
    env = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env)
    python = env / "bin" / "python"
    purelib = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], cwd=tmp_path)
    dependencies = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    (Path(purelib.stdout.strip()) / "test_dependencies.pth").write_text("\n".join(dependencies) + "\n")
    # --ignore-installed: never uninstall the editable vowels that pip sees through the .pth.
    _run(
        [python, "-m", "pip", "--disable-pip-version-check", "install", "--no-deps", "--no-index", "--ignore-installed"]
        + [wheel],
        cwd=tmp_path,
    )
    return env


@pytest.mark.slow
def test_installed_wheel_draws_every_data_figure_outside_the_source_tree(tmp_path):
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        assert (
            archive.read("vowels/data/padding_experiment.json")
            == (ROOT / "reports/padding_experiment.json").read_bytes()
        )
    env = _fresh_venv(tmp_path, wheel)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    environment = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VOWELS_DATA")}
    environment.update(MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="3")

    where = _run(
        [
            env / "bin" / "python",
            "-c",
            "import vowels.plots as p; print(p.__file__); print(p.default_padding_results())",
        ],
        cwd=elsewhere,
        env=environment,
    )
    module, shipped = (Path(line) for line in where.stdout.splitlines())
    site_packages = env.resolve() / "lib"
    assert module.is_relative_to(site_packages) and not module.is_relative_to(ROOT), module
    assert shipped.is_relative_to(site_packages), shipped

    done = _run([env / "bin" / "vowels", "plot", "--out", "figs"], cwd=elsewhere, env=environment)
    figures = elsewhere / "figs"
    assert sorted(path.name for path in figures.iterdir()) == sorted(f"{name}.png" for name in DATA_FIGURES)
    for path in figures.iterdir():
        assert path.read_bytes()[:8] == PNG_MAGIC
    assert "padding-cost" not in done.stderr
    assert done.stdout.splitlines() == [f"Wrote figs/{name}.png" for name in DATA_FIGURES]
