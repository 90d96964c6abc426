"""Live curves of each loss term and of label accuracy, one point per epoch."""

from __future__ import annotations

from collections.abc import Mapping

import qtpy  # noqa: F401  - bind qtpy before pyqtgraph so both use the same Qt
import pyqtgraph as pg
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from fadvi_gui.model.keys import LOSS_TERMS

_PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)
_ACCURACY = {"label_accuracy_train": "train", "label_accuracy_validation": "validation"}


class TrainingCurves(QWidget):
    """Two plots, each with its legend underneath: loss terms (log scale) and label accuracy.

    Attributes
    ----------
    series
        ``{history key: (epochs, values)}`` as drawn, for whoever wants the numbers.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.series: dict[str, tuple[list[int], list[float]]] = {}
        self._curves: dict[str, pg.PlotDataItem] = {}
        self.loss_plot = _plot("Loss terms by epoch (log scale)")
        self.loss_plot.setLogMode(y=True)
        self.accuracy_plot = _plot("Label accuracy by epoch")
        self.accuracy_plot.setYRange(0, 1, padding=0.05)
        self.accuracy_plot.getAxis("left").setTicks([[(0.0, "0"), (0.5, "0.5"), (1.0, "1")]])
        loss_entries = []
        for index, (term, label) in enumerate(LOSS_TERMS.items()):
            colour = _PALETTE[index % len(_PALETTE)]
            self._curves[f"{term}_train"] = self.loss_plot.plot(pen=pg.mkPen(colour, width=2))
            loss_entries.append((colour, label, "solid"))
        accuracy_entries = []
        for index, (key, label) in enumerate(_ACCURACY.items()):
            style = Qt.DashLine if key.endswith("validation") else Qt.SolidLine
            pen = pg.mkPen(_PALETTE[index], width=2, style=style)
            self._curves[key] = self.accuracy_plot.plot(pen=pen, symbol="o", symbolSize=4,
                                                        symbolBrush=_PALETTE[index], symbolPen=None)
            accuracy_entries.append((_PALETTE[index], label, "dashed" if style == Qt.DashLine else "solid"))
        self._reset_ranges()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.loss_plot, 3)
        layout.addWidget(_legend(loss_entries))
        layout.addWidget(self.accuracy_plot, 2)
        layout.addWidget(_legend(accuracy_entries))

    def clear(self) -> None:
        """Remove every point."""
        self.series = {}
        for curve in self._curves.values():
            curve.setData([], [])
        self._reset_ranges()

    def _reset_ranges(self) -> None:
        """Show a tidy empty frame (epochs 1-10, losses 0.1-10^4, accuracy 0-1) until data comes."""
        for widget, y_range in ((self.loss_plot, (-1, 4)), (self.accuracy_plot, (0, 1))):
            widget.setXRange(1, 10, padding=0.02)
            widget.setYRange(*y_range, padding=0.05)
            widget.enableAutoRange(x=True, y=widget is self.loss_plot)

    def add_epoch(self, epoch: int, metrics: Mapping[str, float]) -> None:
        """Append one epoch's values to every curve that has a value in ``metrics``."""
        for key, curve in self._curves.items():
            if key not in metrics:
                continue
            xs, ys = self.series.setdefault(key, ([], []))
            xs.append(epoch + 1)
            ys.append(float(metrics[key]))
            curve.setData(xs, ys)

    def n_points(self, key: str) -> int:
        """Return how many epochs the curve for history key ``key`` shows."""
        return len(self.series.get(key, ([], []))[0])


class _EpochAxis(pg.AxisItem):
    """Bottom axis with ticks on whole epochs only."""

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802, N803 - pyqtgraph override
        levels = [(spacing, offset) for spacing, offset in super().tickSpacing(minVal, maxVal, size)
                  if spacing >= 1]
        return levels or [(1.0, 0.0)]


def _plot(title: str) -> pg.PlotWidget:
    widget = pg.PlotWidget(background="w", axisItems={"bottom": _EpochAxis("bottom")})
    widget.setMinimumHeight(90)
    plot = widget.getPlotItem()
    plot.setTitle(title, color="#333", size="9pt")  # says "by epoch": no axis label, more room
    plot.showGrid(x=True, y=True, alpha=0.15)
    for name in ("left", "bottom"):
        axis = plot.getAxis(name)
        axis.setPen("#666")
        axis.setTextPen("#333")
    return widget


def _legend(entries: list[tuple[str, str, str]]) -> QLabel:
    """A wrapped line of coloured swatches with names, as a Qt label."""
    parts = [
        f"<span style='color:{colour}'>{'&#8212;&#8212;' if style == 'solid' else '&#8211; &#8211;'}</span>&nbsp;{name}"
        for colour, name, style in entries
    ]
    label = QLabel("&nbsp;&nbsp; ".join(parts))
    label.setWordWrap(True)
    label.setTextFormat(Qt.RichText)
    label.setStyleSheet("font-size: 8pt;")
    # Its wrapped lines always get their height; the plots above give way instead.
    label.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Minimum)
    return label
