"""Accuracy reports: ``report.md`` with its PNG figures beside it, and one self-contained ``report.html``.

A report is built from a run folder of ``vowels reproduce`` (one seed, or ``--seeds N``) or
from a model bundle re-scored on data. Its numbers are recomputed from the per-utterance
predictions and checked against the run's own ``metrics.json``, so a report never shows a
number its evidence does not give. The test accuracy carries a 95 % Wilson score interval for
a binomial proportion (the uncertainty from the finite test set); over several seeds the
report gives the spread between seeds as well, a separate source of variation.

The document is a list of blocks rendered twice: to Markdown (figures as PNG files linked
relatively) and to HTML (figures as ``data:`` URIs, CSS inline, a Content-Security-Policy
that forbids any request), so the two always say the same thing.

One module per step: ``_gather`` (the numbers of a run folder or model bundle, checked),
``_stats`` (Wilson interval, spread over seeds), ``_report`` (`Report`, `Prediction`),
``_document`` (the blocks), ``_render`` (Markdown and HTML), ``_writing`` (`write_report`,
behind `vowels report`).
"""

from ._document import Block
from ._gather import REPORT_LIBRARIES, report_from_model, report_from_run
from ._render import render_html, render_markdown
from ._report import Prediction, Report
from ._stats import CONFIDENCE, wilson_interval
from ._writing import REPORT_FILES, check_report_free, report, write_report

__all__ = [
    "CONFIDENCE",
    "REPORT_FILES",
    "REPORT_LIBRARIES",
    "Block",
    "Prediction",
    "Report",
    "check_report_free",
    "render_html",
    "render_markdown",
    "report",
    "report_from_model",
    "report_from_run",
    "wilson_interval",
    "write_report",
]
