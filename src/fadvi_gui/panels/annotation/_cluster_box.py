"""The "Smooth over clusters" box: Leiden resolution, run and cancel, per-cluster agreement."""

from __future__ import annotations

import pandas as pd
from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QAbstractItemView, QDoubleSpinBox, QGroupBox, QHBoxLayout, QHeaderView, QLabel, QTableWidget,
    QTableWidgetItem, QVBoxLayout, QWidget,
)

from fadvi_gui.panels.common.run_controls import RunControls

_COLUMNS = ["Cluster", "Cells", "Majority label", "Agree"]


class ClusterBox(QGroupBox):
    """Leiden clustering of z_l and majority voting of predictions in each cluster.

    Signals
    -------
    run_requested(float)
        Cluster at this resolution and vote.
    cancel_requested()
        Stop the clustering.
    """

    run_requested = Signal(float)
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Smooth predictions over clusters", parent)
        self.resolution_spin = QDoubleSpinBox()
        self.resolution_spin.setRange(0.05, 5.0)
        self.resolution_spin.setSingleStep(0.1)
        self.resolution_spin.setValue(1.0)
        self.resolution_spin.setToolTip("Leiden resolution: higher gives more, smaller clusters.")
        self.run_controls = RunControls(
            ["Cluster z_l and vote"], idle_text="Predict labels first, then smooth them over clusters.",
            ready_text="Ready: Leiden clusters of z_l, then the majority prediction in each.",
            ended_texts={"finished": "Clusters and majority votes are in the data."}, keep_outcome=True)
        self.run_button = self.run_controls.run_buttons[0]
        self.run_button.clicked.connect(lambda: self.run_requested.emit(self.resolution_spin.value()))
        self.run_controls.cancel_requested.connect(self.cancel_requested)
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setHorizontalHeaderLabels(_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeToContents)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.Stretch)
        self.table.setMaximumHeight(180)
        row = QHBoxLayout()
        row.addWidget(QLabel("Resolution"))
        row.addWidget(self.resolution_spin)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.run_controls)
        layout.addWidget(self.table)

    def set_agreement(self, table: pd.DataFrame) -> None:
        """Show one row per cluster (columns ``cells``, ``majority``, ``agreement`` 0-1)."""
        self.table.setRowCount(len(table))
        for i, (cluster, row) in enumerate(table.iterrows()):
            items = [QTableWidgetItem(str(cluster)), QTableWidgetItem(f"{int(row['cells']):,}"),
                     QTableWidgetItem(str(row["majority"])),
                     QTableWidgetItem(f"{float(row['agreement']):.0%}")]
            for j, item in enumerate(items):
                if j in (1, 3):
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.table.setItem(i, j, item)


__all__ = ["ClusterBox"]
