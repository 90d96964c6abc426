"""The wiring's :class:`~fadvi_gui.wiring.Prompts` inside napari: dialogs and notifications.

Errors open the app's own error box (plain message, traceback behind "Show Details..."),
status lines become napari notifications. The question methods are attributes, so a test
answers them without a dialog, as it does for the app's main window.
"""

from __future__ import annotations

from collections.abc import Callable

from napari.utils.notifications import show_info
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QFileDialog, QMessageBox, QWidget

from fadvi_gui.dialogs import error_dialog


class NapariPrompts:
    """Talk to the user from the plugin's docks.

    Parameters
    ----------
    parent
        Returns the widget dialogs belong to (a dock of the plugin), or None.

    Attributes
    ----------
    ask_yes_no, ask_save_path, ask_open_path, ask_folder
        Ask a question, for a file to write, a file to open or a folder; replace them
        to answer without a dialog.
    last_dialog
        The most recent error box (non-modal, opened with ``open()``).
    """

    def __init__(self, parent: Callable[[], QWidget | None]) -> None:
        self._parent = parent
        self.ask_yes_no = self._ask_yes_no
        self.ask_save_path = self._ask_save_path
        self.ask_open_path = self._ask_open_path
        self.ask_folder = self._ask_folder
        self.last_dialog: QMessageBox | None = None

    def show_error(self, message: str, details: str = "") -> QMessageBox:
        """Open a non-blocking error box with ``details`` behind "Show Details..."."""
        box = error_dialog(self._parent(), message, details)
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()
        self.last_dialog = box
        return box

    def status(self, text: str, timeout_ms: int = 8000) -> None:
        """Show ``text`` as a napari notification (napari decides how long)."""
        show_info(text)

    def _ask_yes_no(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self._parent(), title, text,
                                      QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

    def _ask_save_path(self, title: str, suggestion: str, filters: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self._parent(), title, suggestion, filters)
        return path

    def _ask_open_path(self, title: str, filters: str) -> str:
        path, _ = QFileDialog.getOpenFileName(self._parent(), title, "", filters)
        return path

    def _ask_folder(self, title: str) -> str:
        return QFileDialog.getExistingDirectory(self._parent(), title, "")


__all__ = ["NapariPrompts"]
