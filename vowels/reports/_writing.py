"""Render the document's blocks to Markdown and to one self-contained HTML page (figures as ``data:`` URIs,
CSS inline, a Content-Security-Policy that forbids any request), and write a report's files into a folder."""

from __future__ import annotations

import base64
import html
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

from ..files import check_creatable, check_free, check_writable, write_bytes, write_json, write_text
from ._document import Block, document
from ._report import Report

if TYPE_CHECKING:
    from ..workflows.console import Console

__all__ = ["REPORT_FILES", "check_report_free", "render_html", "render_markdown", "report", "write_report"]


def render_markdown(blocks: list[Block]) -> str:
    """Markdown of the blocks; each figure is linked as ``<name>.png`` beside the file."""
    lines: list[str] = []
    for kind, value in blocks:
        if kind in ("h1", "h2"):
            lines += [f"{'#' * int(kind[1])} {value}", ""]
        elif kind == "p":
            lines += [value, ""]
        elif kind == "code":
            lines += ["```", value, "```", ""]
        elif kind == "figure":
            lines += [f"![{value.alt}]({value.name}.png)", "", f"*{value.caption}*", ""]
        elif kind == "table":
            header, rows, align = value
            cells = [[c.replace("|", "\\|").replace("\n", " ") for c in row] for row in (header, *rows)]
            table = ["| " + " | ".join(row) + " |" for row in cells]
            lines += [table[0], "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|", *table[1:], ""]
    return "\n".join(lines).rstrip() + "\n"


def _inline(text: str) -> str:
    """Escape `text` for HTML, then render ``code`` and **bold**."""
    escaped = html.escape(text, quote=False)
    escaped = re.sub(r"`([^`]+)`", r"<code>\1</code>", escaped)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", escaped)


_CSS = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1a1a1a;
       max-width: 62rem; margin: 2rem auto; padding: 0 1.5rem; }
h1 { font-size: 1.7rem; border-bottom: 2px solid #0072B2; padding-bottom: .3rem; }
h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem; }
table { border-collapse: collapse; margin: .8rem 0 1.2rem; font-size: .92rem; }
th, td { border: 1px solid #d0d0d0; padding: .25rem .6rem; vertical-align: top; }
th { background: #f2f5f8; text-align: left; }
td.r, th.r { text-align: right; font-variant-numeric: tabular-nums; }
td.r { white-space: nowrap; }
tr:nth-child(even) td { background: #fafafa; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .88em; }
code { background: #f2f2f2; padding: 0 .2em; border-radius: 3px; }
pre { background: #f6f6f6; border: 1px solid #e0e0e0; padding: .7rem; white-space: pre-wrap;
      overflow-wrap: break-word; }
pre code { background: none; padding: 0; }
figure { margin: 1rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .9rem; color: #555; }
""".strip()


def render_html(blocks: list[Block]) -> str:
    """One self-contained HTML page: CSS inline, figures as ``data:image/png;base64`` URIs, and a
    Content-Security-Policy allowing only those, so a browser makes no request."""
    title = next((v for k, v in blocks if k == "h1"), "vowels report")
    body: list[str] = []
    for kind, value in blocks:
        if kind in ("h1", "h2"):
            body.append(f"<{kind}>{_inline(value)}</{kind}>")
        elif kind == "p":
            body.append(f"<p>{_inline(value)}</p>")
        elif kind == "code":
            body.append(f"<pre><code>{html.escape(value, quote=False)}</code></pre>")
        elif kind == "figure":
            data = base64.b64encode(value.png).decode("ascii")
            body.append(
                f'<figure><img src="data:image/png;base64,{data}" alt="{html.escape(value.alt)}">'
                f"<figcaption>{_inline(value.caption)}</figcaption></figure>"
            )
        elif kind == "table":
            header, rows, align = value
            cls = [' class="r"' if a == "r" else "" for a in align]
            head = "".join(f"<th{c}>{_inline(h)}</th>" for h, c in zip(header, cls))
            rows_html = "".join(
                "<tr>" + "".join(f"<td{c}>{html.escape(cell, quote=False)}</td>" for cell, c in zip(row, cls)) + "</tr>"
                for row in rows
            )
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows_html}</tbody></table>")
    policy = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(re.sub(r'[`*]', '', title))}</title>\n<style>\n{_CSS}\n</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


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
    """Write ``report.md`` with its PNG figures, ``report.json`` and ``report.html`` into `out`, each file
    atomically and the figures first; an existing report is replaced only with `force`.

    Returns
    -------
    list of Path
        The files written.
    """
    out = check_report_free(out, force=force)
    check_writable(out)
    blocks = document(report, out)
    figures = {out / f"{value.name}.png": value.png for kind, value in blocks if kind == "figure"}
    for path, png in figures.items():
        write_bytes(path, png)
    write_json(out / "report.json", report.to_dict())
    write_text(out / "report.md", render_markdown(blocks))
    write_text(out / "report.html", render_html(blocks))
    return [*figures, out / "report.json", out / "report.md", out / "report.html"]


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
