"""Write a report's files into a folder: PNG figures, ``report.json``, ``report.md``, ``report.html``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..files import check_creatable, check_free, check_writable, write_bytes, write_json, write_text
from ._document import document
from ._render import render_html, render_markdown
from ._report import Report

if TYPE_CHECKING:
    from ..workflows.console import Console

__all__ = ["REPORT_FILES", "check_report_free", "report", "write_report"]

REPORT_FILES = ("report.md", "report.html", "report.json")
"""The files a report writes (plus one PNG per figure)."""


def check_report_free(out: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Refuse an existing report in `out` unless `force`; prove `out` could be written, creating nothing."""
    out = Path(out)
    for name in REPORT_FILES:
        check_free(out / name, force=force, what="report")
    check_creatable(out / REPORT_FILES[0])
    return out


def write_report(report: Report, out: str | os.PathLike[str], *, force: bool = False) -> list[Path]:
    """Write ``report.md`` with its PNG figures, ``report.json`` and ``report.html`` into `out`.

    Every file is written atomically; figures first, so the Markdown never links a missing one.
    An existing report is replaced only with `force`.

    Returns
    -------
    list of Path
        The files written.
    """
    out = check_report_free(out, force=force)
    check_writable(out)
    blocks = document(report, out)
    written = []
    for kind, value in blocks:
        if kind == "figure":
            write_bytes(out / f"{value.name}.png", value.png)
            written.append(out / f"{value.name}.png")
    write_json(out / "report.json", report.to_dict())
    write_text(out / "report.md", render_markdown(blocks))
    write_text(out / "report.html", render_html(blocks))
    return [*written, out / "report.json", out / "report.md", out / "report.html"]


def report(console: Console, *, run: str | None, model: str | None, data: str | None, out: str, force: bool) -> int:
    """`vowels report`: the report of `run` or `model` (scored on `data`) written into `out`; its headline said."""
    from ..workflows.models import refuse_voiceprints
    from ._gather import report_from_model, report_from_run

    refuse_voiceprints(model, "reports are written of trained models")
    check_report_free(out, force=force)
    made = report_from_run(run, data=data) if run is not None else report_from_model(str(model), data=data)
    written = write_report(made, out, force=force)
    ev, (low, high) = made.evaluation, made.interval
    seeds = ""
    if made.seeds:
        acc = made.seeds["accuracy"]
        seeds = (
            f"; over {acc['n_seeds']} seeds mean {100 * acc['mean']:.2f}%, min {100 * acc['min']:.2f}%, "
            f"max {100 * acc['max']:.2f}% (headline: seed {made.headline_seed})"
        )
    console.result(
        f"Test accuracy: {100 * ev.accuracy:.2f}% ({ev.n - ev.n_errors}/{ev.n}), 95% CI "
        f"{100 * low:.2f}-{100 * high:.2f}% (Wilson){seeds}"
    )
    console.note(*(f"Wrote {path}" for path in written))
    return 0
