"""Live curves of each loss term and of label accuracy, one point per epoch."""

from __future__ import annotations

from collections.abc import Mapping

import qtpy  # noqa: F401  - bind qtpy before pyqtgraph so both use the same Qt
import pyqtgraph as pg
from qtpy.QtWidgets import QVBoxLayout, QWidget

from fadvi_gui.panels._hyperparameters import LOSS_TERMS

_PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)
_ACCURACY = {"label_accuracy_train": "train", "label_accuracy_validation": "validation"}


class TrainingCurves(QWidget):
    """Two plots: loss terms (train, log scale) and train/validation label accuracy.

    Attributes
    ----------
    series
        ``{history key: (epochs, values)}`` as drawn, for whoever wants the numbers.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.series: dict[str, tuple[list[int], list[float]]] = {}
        self._curves: dict[str, pg.PlotDataItem] = {}
        self.loss_plot = pg.PlotWidget(title="Loss terms (training set)")
        self.loss_plot.setLogMode(y=True)
        self.loss_plot.setLabel("bottom", "epoch")
        self.loss_plot.showGrid(y=True, alpha=0.2)
        legend = self.loss_plot.addLegend(offset=(-5, 5), labelTextSize="7pt", colCount=2)
        legend.setBrush(pg.mkBrush(255, 255, 255, 180))
        self.accuracy_plot = pg.PlotWidget(title="Label accuracy")
        self.accuracy_plot.setLabel("bottom", "epoch")
        self.accuracy_plot.setYRange(0, 1)
        self.accuracy_plot.showGrid(y=True, alpha=0.2)
        self.accuracy_plot.addLegend(offset=(-5, -5), labelTextSize="8pt")
        for index, (term, label) in enumerate(LOSS_TERMS.items()):
            pen = pg.mkPen(_PALETTE[index % len(_PALETTE)], width=2)
            self._curves[f"{term}_train"] = self.loss_plot.plot(name=label, pen=pen)
        self._curves["label_accuracy_train"] = self.accuracy_plot.plot(
            name="train", pen=pg.mkPen(_PALETTE[0], width=2)
        )
        self._curves["label_accuracy_validation"] = self.accuracy_plot.plot(
            name="validation", pen=pg.mkPen(_PALETTE[1], width=2, style=pg.QtCore.Qt.DashLine)
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.loss_plot, 3)
        layout.addWidget(self.accuracy_plot, 2)

    def clear(self) -> None:
        """Remove every point."""
        self.series = {}
        for curve in self._curves.values():
            curve.setData([], [])

    def add_epoch(self, epoch: int, metrics: Mapping[str, float]) -> None:
        """Append one epoch's values to every curve that has a value in ``metrics``."""
        for key, curve in self._curves.items():
            if key not in metrics:
                continue
            value = float(metrics[key])
            xs, ys = self.series.setdefault(key, ([], []))
            xs.append(epoch + 1)
            ys.append(value)
            curve.setData(xs, ys)

    def n_points(self, key: str) -> int:
        """Return how many epochs the curve for history key ``key`` shows."""
        return len(self.series.get(key, ([], []))[0])
