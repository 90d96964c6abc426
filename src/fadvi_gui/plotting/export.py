"""Write the viewer's plots, with their legend or colour bar, to PNG or SVG at a chosen size.

The plots are laid out at the requested size (not scaled from the screen), so
text keeps its size and the points are rasterised at the export's own
resolution. In SVG, titles and legend are vector; the points are one embedded
image, because a million vector circles would make a file no program opens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from qtpy.QtCore import QRectF, QSize, Qt
from qtpy.QtGui import QColor, QFont, QImage, QPainter
from qtpy.QtSvg import QSvgGenerator

from fadvi_core import write_atomically

from fadvi_gui.plotting.legend import paint_colour_bar, qcolor

#: Smallest and largest side, in pixels, an export may have.
MIN_SIDE, MAX_SIDE = 100, 10_000
_SWATCH = 12
_MARGIN = 12


@dataclass(frozen=True)
class LegendContent:
    """What the exported legend shows: categories (labels + colours) or a colour bar."""

    title: str
    labels: tuple[str, ...] = ()
    colours: np.ndarray | None = None  # (k, 4) uint8 RGBA, categories only
    lut: np.ndarray | None = None  # (steps, 4) uint8 RGBA, colour bar only
    vmin: float = 0.0
    vmax: float = 1.0


PaintPlots = Callable[[QPainter, QRectF], None]


def figure_suffix(path: Path) -> str:
    """``".png"`` or ``".svg"``, the figure format ``path`` names.

    Raises
    ------
    ValueError
        For any other file name, saying which endings work.
    """
    suffix = path.suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ValueError(f"Cannot export to {path.name!r}: choose a file name ending in .png or .svg.")
    return suffix


def export_figure(
    path: str | Path,
    paint_plots: PaintPlots,
    *,
    width: int,
    height: int,
    legend: LegendContent | None = None,
) -> Path:
    """Write a figure to ``path``; the format follows its suffix (``.png`` or ``.svg``).

    Parameters
    ----------
    path
        Destination file.
    paint_plots
        Paints the plots into the given rectangle of the given painter
        (:meth:`EmbeddingCanvas.render_plots`).
    width, height
        Figure size in pixels.
    legend
        Drawn in a column on the right, or nothing when ``None``.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    out = Path(path)
    suffix = figure_suffix(out)
    for side, name in ((width, "width"), (height, "height")):
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise ValueError(f"The {name} must be between {MIN_SIDE} and {MAX_SIDE} pixels, not {side}.")
    def write(temporary: Path) -> None:
        if suffix == ".png":
            image = QImage(width, height, QImage.Format.Format_ARGB32)
            image.fill(QColor("white"))
            painter = QPainter(image)
            _paint_figure(painter, paint_plots, width, height, legend)
            painter.end()
            written = image.save(str(temporary), "PNG")
        else:
            generator = QSvgGenerator()
            generator.setFileName(str(temporary))
            generator.setSize(QSize(width, height))
            generator.setViewBox(QRectF(0, 0, width, height))
            generator.setResolution(96)  # CSS pixels, so the file opens at width x height
            generator.setTitle("FADVI latent view")
            painter = QPainter(generator)
            painter.fillRect(QRectF(0, 0, width, height), QColor("white"))
            _paint_figure(painter, paint_plots, width, height, legend)
            painter.end()
            written = temporary.stat().st_size > 0
        if not written:
            raise OSError(f"Could not write {out}. Check that the folder is writable.")

    return write_atomically(out, write, create_folder=False)


def _paint_figure(
    painter: QPainter, paint_plots: PaintPlots, width: int, height: int, legend: LegendContent | None
) -> None:
    font = QFont(painter.font())
    font.setPixelSize(13)
    painter.setFont(font)
    legend_width = _legend_width(painter, legend, width)
    paint_plots(painter, QRectF(0, 0, width - legend_width, height))
    if legend is None or legend_width == 0:
        return
    area = QRectF(width - legend_width, _MARGIN, legend_width - _MARGIN, height - 2 * _MARGIN)
    painter.setFont(font)
    if legend.lut is not None:
        bar = area.adjusted(0, 0, 0, -area.height() * 0.4)
        paint_colour_bar(painter, bar, legend.lut, legend.vmin, legend.vmax, legend.title)
    else:
        _paint_categories(painter, area, legend)


def _legend_width(painter: QPainter, legend: LegendContent | None, width: int) -> int:
    if legend is None:
        return 0
    metrics = painter.fontMetrics()
    texts = [legend.title, *legend.labels] if legend.lut is None else [legend.title, "0.000e+00"]
    widest = max(metrics.horizontalAdvance(t) for t in texts) + _SWATCH + 3 * _MARGIN
    return int(min(widest, width * 0.4))


def _paint_categories(painter: QPainter, area: QRectF, legend: LegendContent) -> None:
    metrics = painter.fontMetrics()
    line = metrics.height() + 3
    painter.setPen(QColor(40, 40, 40))
    painter.drawText(QRectF(area.left(), area.top(), area.width(), line), int(Qt.AlignmentFlag.AlignLeft), legend.title)
    rows = max(1, int(area.height() // line) - 1)
    labels = list(legend.labels)
    shown = labels if len(labels) <= rows else labels[: rows - 1]
    y = area.top() + line * 1.3
    for label, rgba in zip(shown, legend.colours):
        painter.fillRect(QRectF(area.left(), y + (line - _SWATCH) / 2, _SWATCH, _SWATCH), qcolor(rgba))
        text_rect = QRectF(area.left() + _SWATCH + 6, y, area.width() - _SWATCH - 6, line)
        elided = metrics.elidedText(label, Qt.TextElideMode.ElideRight, int(text_rect.width()))
        painter.drawText(text_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), elided)
        y += line
    if len(shown) < len(labels):
        painter.drawText(
            QRectF(area.left(), y, area.width(), line), int(Qt.AlignmentFlag.AlignLeft),
            f"… and {len(labels) - len(shown)} more",
        )
