"""The dock widgets of the manifest: the app's panels, each in a scrolling frame.

napari creates a dock widget by calling its class with the viewer as ``napari_viewer``;
each class here asks the viewer's :class:`~fadvi_napari._bridge.FadviBridge` for the app's
panel and shows it. The panels are the app's own objects, never copies, so the four docks
share one session and one set of wiring.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from qtpy.QtWidgets import QScrollArea

from fadvi_napari._bridge import bridge_for

if TYPE_CHECKING:
    from napari.viewer import Viewer


class _PanelDock(QScrollArea):
    """A scrolling frame around the app's panel of :attr:`area`, so narrow docks scroll."""

    area: ClassVar[str] = ""

    def __init__(self, napari_viewer: Viewer) -> None:
        super().__init__()
        self.bridge = bridge_for(napari_viewer)
        self.panel = self.bridge.panel(self.area)
        self.setObjectName(f"fadvi_{self.area}_dock")
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.NoFrame)
        self.setWidget(self.panel)
        self.setMinimumWidth(min(self.panel.minimumSizeHint().width() + 24, 480))
        self.bridge.add_dock(self)


class DataDock(_PanelDock):
    """The data panel: open a file or the demo, choose counts, batch and labels, see checks."""

    area = "data"


class TrainingDock(_PanelDock):
    """The training panel: hyperparameters, Train and Cancel, progress and loss curves."""

    area = "training"


class PredictionsDock(_PanelDock):
    """The predictions panel: predict, review (with napari's selection), accept, export."""

    area = "predictions"


class ExplainDock(_PanelDock):
    """The explanations panel: gene attributions of the selection or of a class."""

    area = "explain"


__all__ = ["DataDock", "ExplainDock", "PredictionsDock", "TrainingDock"]
