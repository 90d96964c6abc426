"""The "Withhold labels" box: hide the labels of chosen batches, or of a random share of cells."""

from __future__ import annotations

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QGroupBox, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPushButton, QRadioButton,
    QSpinBox, QVBoxLayout, QWidget,
)


class WithholdBox(QGroupBox):
    """Choose what to withhold and ask for it.

    Signals
    -------
    withhold_requested(list, object)
        The checked batches (empty for a random share) and the share of cells (0 to 1), or
        None when batches are chosen.
    """

    withhold_requested = Signal(list, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Test label transfer: withhold labels", parent)
        self.batches_radio = QRadioButton("Labels of these batches")
        self.batches_radio.setChecked(True)
        self.share_radio = QRadioButton("A random share of cells")
        self.batch_list = QListWidget()
        self.batch_list.setMaximumHeight(80)
        self.share_spin = QSpinBox()
        self.share_spin.setRange(5, 95)
        self.share_spin.setValue(30)
        self.share_spin.setSuffix(" %")
        self.withhold_button = QPushButton("Withhold into a new labels column")
        self.withhold_button.setToolTip(
            "Copy the labels column with the chosen labels set to 'Unknown', and select it for "
            "training. After predicting, the review shows how often the predictions agree with "
            "the hidden labels. The original column is not changed.")
        self.withhold_button.clicked.connect(self._on_withhold_button_clicked)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.batches_radio)
        layout.addWidget(self.batch_list)
        share = QHBoxLayout()
        share.addWidget(self.share_radio)
        share.addWidget(self.share_spin)
        share.addStretch(1)
        layout.addLayout(share)
        layout.addWidget(self.withhold_button)
        layout.addWidget(self.status_label)

    def set_batches(self, batches: list[str]) -> None:
        """List the batches that can be withheld (none checked)."""
        self.batch_list.clear()
        for name in batches:
            item = QListWidgetItem(str(name))
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Unchecked)
            self.batch_list.addItem(item)

    def check_batch(self, name: str) -> None:
        """Tick the batch ``name``."""
        for i in range(self.batch_list.count()):
            if self.batch_list.item(i).text() == name:
                self.batch_list.item(i).setCheckState(Qt.Checked)

    def checked_batches(self) -> list[str]:
        """The ticked batches."""
        items = (self.batch_list.item(i) for i in range(self.batch_list.count()))
        return [item.text() for item in items if item.checkState() == Qt.Checked]

    def set_status(self, text: str) -> None:
        """Show what is withheld now."""
        self.status_label.setText(text)

    def _on_withhold_button_clicked(self) -> None:
        if self.share_radio.isChecked():
            self.withhold_requested.emit([], self.share_spin.value() / 100)
        else:
            self.withhold_requested.emit(self.checked_batches(), None)


__all__ = ["WithholdBox"]
