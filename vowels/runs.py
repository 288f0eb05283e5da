"""Run folders of `vowels reproduce` (``metrics.json``, ``history.json``, ``predictions.csv``, ``model/``), written
whole or not at all (`vowels.files.atomic_folder`) and read back only when their parts, tied by one run
identifier and sha256s in ``metrics.json``, belong together; a multi-seed run adds ``seeds.json``."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path

from .errors import BundleError, DataError
from .files import atomic_folder, check_creatable, check_format_version, check_free, sha256_of, write_json, write_text

__all__ = ["SEEDS_FILE", "check_run_folder_free", "check_seed_runs", "load_run", "read_run_json", "write_run"]

_RUN_FILES = ("metrics.json", "history.json", "predictions.csv", "model")
SEEDS_FILE = "seeds.json"
_CHECKED_FILES = ("history.json", "predictions.csv")
"""The files beside ``metrics.json`` whose sha256 it records."""


def check_run_folder_free(folder: Path, *, force: bool) -> None:
    """Refuse `folder` before any training if writing a run there would fail or destroy other work: a folder
    holding a run is replaced only with `force`, one holding anything else never."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise BundleError(f"{folder}: exists and is not a folder; choose another --out.")
    others = sorted(p.name for p in folder.glob("[!.]*") if p.name not in _RUN_FILES)
    if others:
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise BundleError(
            f"{folder}: holds files that are not part of a run ({shown}), which replacing it would "
            "delete; choose another --out or move them."
        )
    check_free(folder, force=force, what="result of an earlier run")
    check_creatable(folder)


def write_run(
    folder: str | os.PathLike[str],
    *,
    metrics: dict,
    history: dict,
    predictions_csv: str,
    save_model: Callable[[Path, str], object],
    force: bool = False,
) -> dict:
    """Write a run folder as a unit, `save_model(path, run_id)` writing the bundle that records `run_id`; returns
    `metrics` as written, with ``run_id`` and ``files`` (sha256 of each checked file)."""
    folder = Path(folder)
    check_run_folder_free(folder, force=force)
    run_id = uuid.uuid4().hex
    with atomic_folder(folder, force=force) as staging:
        save_model(staging / "model", run_id)
        write_json(staging / "history.json", history)
        write_text(staging / "predictions.csv", predictions_csv)
        files = {name: sha256_of(staging / name) for name in _CHECKED_FILES}
        written = {**metrics, "run_id": run_id, "files": files}
        write_json(staging / "metrics.json", written)
    return written


def _missing(file: Path, folder: Path) -> DataError:
    return DataError(f"{file}: missing; {folder} is not a complete 'vowels reproduce' run folder.")


def read_run_json(file: Path, folder: Path) -> dict:
    """The JSON object in `file` of the run folder `folder` (``metrics.json``, ``seeds.json``, ...)."""
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _missing(file, folder) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DataError(f"{file}: cannot be read as JSON ({exc}).") from None
    if not isinstance(data, dict):
        raise DataError(f"{file}: not a 'vowels reproduce' result (a JSON object was expected).")
    return data


def _mixed(folder: Path, detail: str) -> DataError:
    return DataError(
        f"{folder}: {detail}; its parts come from different runs or were edited. Rerun 'vowels reproduce'."
    )


def load_run(path: str | os.PathLike[str]) -> dict:
    """``{"metrics": ..., "history": ...}`` of a run folder, after checking its parts belong together (a
    `DataError` if a file is missing or unreadable, or the parts are not of one run)."""
    folder = Path(path)
    if not folder.is_dir():
        raise DataError(f"{folder}: no run folder there; make one with 'vowels reproduce --out {folder}'.")
    metrics = read_run_json(folder / "metrics.json", folder)
    history = read_run_json(folder / "history.json", folder)
    model_metadata = folder / "model" / "metadata.json"
    if not model_metadata.is_file():
        raise _missing(folder / "model", folder)
    model = read_run_json(model_metadata, folder)
    check_format_version(model.get("format_version"), model_metadata, f"vowels reproduce --out {folder}")
    run_id, files = metrics.get("run_id"), metrics.get("files")
    if not isinstance(files, dict):
        raise _mixed(folder, "metrics.json records no file checksums")
    for name in _CHECKED_FILES:
        file = folder / name
        if not file.is_file():
            raise _missing(file, folder)
        if sha256_of(file) != files.get(name):
            raise _mixed(folder, f"{name} is not the one metrics.json records")
    model_run = model.get("metrics", {}).get("run_id")
    if model_run != run_id:
        raise _mixed(folder, f"model/ belongs to run {model_run!r}, metrics.json to run {run_id!r}")
    return {"metrics": metrics, "history": history}


def check_seed_runs(folder: Path, seeds: dict) -> None:
    """``seeds.json`` (`seeds`) must be of this format version, and each seed folder it lists hold the run it names."""
    check_format_version(
        seeds.get("format_version"), Path(folder) / SEEDS_FILE, f"vowels reproduce --seeds N --out {folder}"
    )
    for entry in seeds["runs"]:
        recorded = entry["run_id"]
        seed_folder = Path(folder) / str(entry.get("folder"))
        found = read_run_json(seed_folder / "metrics.json", seed_folder).get("run_id")
        if found != recorded:
            raise _mixed(
                Path(folder), f"{SEEDS_FILE} records run {recorded!r} in {seed_folder.name}, which holds {found!r}"
            )
