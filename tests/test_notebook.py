"""The tutorial notebook runs from top to bottom (with few epochs) and stays small."""

from __future__ import annotations

from pathlib import Path

import nbclient  # the `test` extra installs nbclient, nbformat and ipykernel
import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "japanese_vowels.ipynb"


def test_notebook_is_small_and_has_its_figures_in_place():
    assert NOTEBOOK.stat().st_size < 1_000_000
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 5  # features, lengths, padding, training progress, confusion
    assert sum(c.cell_type == "markdown" for c in nb.cells) >= 6


@pytest.mark.slow
def test_notebook_executes_without_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("VOWELS_NOTEBOOK_EPOCHS", "2")
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)  # quiet by default, as a user's kernel starts
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "trained 2 epochs" in printed
    assert "accuracy " in printed and "Wilson interval" in printed
    assert not any(o.output_type == "error" for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    streamed = [
        line for c in nb.cells if c.cell_type == "code" for o in c.outputs for line in o.get("text", "").splitlines()
    ]
    noise = [
        line
        for line in streamed
        if any(mark in line for mark in ("I0000", "W0000", "E0000", "cuInit", "oneDNN", "absl"))
    ]
    assert noise == []
