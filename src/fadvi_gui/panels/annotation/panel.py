"""Annotation panel: withhold labels, annotate the selection by hand, smooth over clusters.

The panel builds widgets and emits requests (through its three boxes); the annotation
wiring applies them to the session and fills the panel back. It never holds the AnnData.
"""

from __future__ import annotations

from qtpy.QtWidgets import QVBoxLayout, QWidget

from fadvi_gui.panels.annotation._annotate_box import AnnotateBox
from fadvi_gui.panels.annotation._cluster_box import ClusterBox
from fadvi_gui.panels.annotation._withhold_box import WithholdBox


class AnnotationPanel(QWidget):
    """Three boxes, top to bottom: annotate cells, smooth over clusters, withhold labels.

    Attributes
    ----------
    annotate, clusters, withhold
        The boxes (:class:`AnnotateBox`, :class:`ClusterBox`, :class:`WithholdBox`); connect
        to their signals.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.annotate = AnnotateBox()
        self.clusters = ClusterBox()
        self.withhold = WithholdBox()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for box in (self.annotate, self.clusters, self.withhold):
            layout.addWidget(box)
        layout.addStretch(1)

    def clear(self) -> None:
        """Back to the empty state (new data)."""
        self.annotate.set_columns([])
        self.annotate.label_list.clear()
        self.annotate.set_selection_count(0)
        self.clusters.table.setRowCount(0)
        self.clusters.run_controls.clear()
        self.withhold.set_batches([])
        self.withhold.set_status("")


__all__ = ["AnnotationPanel"]
