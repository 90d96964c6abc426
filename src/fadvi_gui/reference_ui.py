"""The reference annotation's part of the main window: File > Annotate with Reference..., File >
Save as Reference Model... and their wiring.

:func:`install_reference` adds the menu entry (after Open Demo Data), builds the
:class:`~fadvi_gui.wiring.reference.ReferenceWiring` and keeps the entry enabled only while data
is open and nothing runs, so ``main_window`` needs one line for all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from qtpy.QtWidgets import QAction

from fadvi_gui.wiring.reference import ReferenceWiring

if TYPE_CHECKING:
    from fadvi_gui.main_window import MainWindow


@dataclass
class ReferenceUi:
    """What :func:`install_reference` added to a window."""

    action: QAction
    save_action: QAction
    wiring: ReferenceWiring


def install_reference(window: MainWindow) -> ReferenceUi:
    """Add File > Annotate with Reference... to ``window`` and wire it to the window's session."""
    session = window.session
    wiring = ReferenceWiring(session, window.viewer, window, window)
    wiring.progress.connect(window._on_model_wiring_progress)  # the status bar's progress bar
    action = QAction("Annotate with &Reference...", window)
    action.setToolTip("Predict your cells' types from a labelled reference (.h5ad) or a saved "
                      "reference model.")
    action.triggered.connect(lambda _checked=False: wiring.ask_and_annotate())
    actions = window.file_menu.actions()
    after_demo = actions[actions.index(window.demo_action) + 1]
    window.file_menu.insertAction(after_demo, action)

    save_action = QAction("Save as R&eference Model...", window)
    save_action.setToolTip("Keep the trained model as a reference (with its model card) that "
                           "other files can be annotated from in seconds.")
    save_action.triggered.connect(lambda _checked=False: wiring.ask_and_save_reference())
    actions = window.file_menu.actions()
    window.file_menu.insertAction(actions[actions.index(window.save_model_action) + 1], save_action)

    def refresh(*_args: object) -> None:
        action.setEnabled(wiring.can_annotate)
        save_action.setEnabled(wiring.can_save_reference)

    session.data_loaded.connect(refresh)
    session.busy_changed.connect(refresh)
    session.model_trained.connect(refresh)
    refresh()
    return ReferenceUi(action, save_action, wiring)


__all__ = ["ReferenceUi", "install_reference"]
