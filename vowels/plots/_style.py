"""What every figure shares: the Okabe-Ito palette, the matrix colour map, a `Figure` without pyplot."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["LINE_COLOURS", "MATRIX_CMAP", "OKABE_ITO", "figure_bytes", "new_figure"]

OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "sky": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}
"""Okabe & Ito (2008) colours, distinguishable with the common colour-vision deficiencies."""

LINE_COLOURS = ("blue", "orange", "green", "vermillion", "purple", "sky")
"""Okabe-Ito names in the order lines take them (yellow is too pale for thin lines on white)."""
MATRIX_CMAP = "cividis"
"""Colour map of every matrix and image: perceptually uniform, readable with colour-vision deficiencies."""


def new_figure(width: float, height: float) -> Figure:
    """A `Figure` of `width` x `height` inches with constrained layout, outside pyplot's global state."""
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=150, layout="constrained")


def figure_bytes(figure: Figure, fmt: str = "png") -> bytes:
    """`figure` saved in format `fmt` (png, svg, pdf)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format=fmt)
    return buffer.getvalue()
