"""Accuracy reports: ``report.md`` with its PNG figures, ``report.json`` and one self-contained ``report.html``.

``_gather`` reads a run folder or model bundle and checks its numbers, ``_report`` holds them (`Report`, with
a 95 % Wilson interval), ``_document`` words them once as blocks that ``_writing`` renders and writes."""

from ._document import Block
from ._gather import REPORT_LIBRARIES, report_from_model, report_from_run
from ._report import CONFIDENCE, Prediction, Report, wilson_interval
from ._writing import REPORT_FILES, check_report_free, render_html, render_markdown, report, write_report

__all__ = ["Block", "REPORT_LIBRARIES", "report_from_model", "report_from_run"]
__all__ += ["CONFIDENCE", "Prediction", "Report", "wilson_interval"]
__all__ += ["REPORT_FILES", "check_report_free", "render_html", "render_markdown", "report", "write_report"]
