"""A window that shows a plot larger than its dock allows (the "Open larger" button)."""

from __future__ import annotations

from qtpy.QtCore import Qt
from qtpy.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout, QWidget

#: Share of the screen's width and height the larger view takes.
SCREEN_SHARE = 0.7


def show_larger(parent: QWidget, title: str, content: QWidget) -> QDialog:
    """Show ``content`` (a new plot widget, owned by the window) in its own resizable window.

    The window is not modal: the user keeps working in the main window beside it; it is
    deleted when closed.

    Parameters
    ----------
    parent
        The panel that opens it (the window stays on top of the main window).
    title
        Window title.
    content
        The widget to show, typically a fresh copy of the panel's plot at full size.

    Returns
    -------
    QDialog
        The shown window.
    """
    dialog = QDialog(parent.window() if parent is not None else None)
    dialog.setObjectName("largerView")
    dialog.setWindowTitle(title)
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    layout = QVBoxLayout(dialog)
    layout.addWidget(content, 1)
    buttons = QDialogButtonBox(QDialogButtonBox.Close)
    buttons.rejected.connect(dialog.close)
    layout.addWidget(buttons)
    screen = dialog.screen() if hasattr(dialog, "screen") else None
    if screen is not None:
        area = screen.availableGeometry()
        dialog.resize(int(area.width() * SCREEN_SHARE), int(area.height() * SCREEN_SHARE))
    dialog.show()
    return dialog


__all__ = ["show_larger"]
