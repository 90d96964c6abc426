"""The trust panel: an error rate, a button, and what came out in one sentence."""

from __future__ import annotations

from qtpy.QtCore import Signal
from qtpy.QtWidgets import QDoubleSpinBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from fadvi_gui.panels.common.run_controls import RunControls


class TrustPanel(QWidget):
    """Asks for prediction sets at an error rate and novelty scores; shows their summary.

    Signals
    -------
    run_requested(float)
        Compute sets and novelty at this error rate (a fraction, e.g. 0.1).
    """

    run_requested = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.error_spin = QDoubleSpinBox()
        self.error_spin.setRange(1.0, 50.0)
        self.error_spin.setSingleStep(1.0)
        self.error_spin.setDecimals(0)
        self.error_spin.setValue(10.0)
        self.error_spin.setSuffix(" %")
        self.error_spin.setToolTip(
            "For cells of the labelled types, the set of possible types misses the true type for "
            "at most this share of cells (measured on labelled cells held out from training). "
            "The predicted type is always in the set unless the cell is unlike every labelled "
            "type; then the set is empty.")
        self.controls = RunControls(["Flag as Unknown"],
                                    idle_text="Train a model with labelled cells first.",
                                    ready_text="Cells whose set is not exactly one type become "
                                               "'Unknown'; each cell also gets a novelty score.")
        self.controls.run_buttons[0].setToolTip(
            "Flag cells as Unknown at this error rate: cells whose set of possible types is not "
            "exactly one type.")
        self.controls.run_buttons[0].clicked.connect(
            lambda: self.run_requested.emit(self.error_rate()))
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Error rate", self.error_spin)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.controls)
        layout.addWidget(self.summary_label)
        layout.addStretch(1)

    def error_rate(self) -> float:
        """The chosen error rate as a fraction."""
        return self.error_spin.value() / 100.0

    def show_summary(self, text: str) -> None:
        """Show what the last run found."""
        self.summary_label.setText(text)


__all__ = ["TrustPanel"]
