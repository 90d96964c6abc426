"""Inline list of input problems, each with its fix and, where one exists, a button that applies it."""

from __future__ import annotations

import html

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStyle, QVBoxLayout, QWidget


class ProblemList(QWidget):
    """Show ``fadvi_core.InputProblem`` items as rows: icon, message, fix, optional action.

    Signals
    -------
    use_layer_requested(str)
        The user chose to use a layer that holds raw counts ("X" for ``adata.X``).
    drop_cells_requested(object)
        The user chose to drop empty cells; carries the boolean mask ``(n_cells,)``.
    """

    use_layer_requested = Signal(str)
    drop_cells_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._rows: list[QWidget] = []
        self.messages: list[str] = []
        self.set_status("Open a file to check it.")

    def set_status(self, text: str) -> None:
        """Replace the rows by one line of text (e.g. "Checking...")."""
        self._clear()
        label = QLabel(text)
        label.setObjectName("problemStatus")
        label.setWordWrap(True)
        self._add(label)

    def set_problems(self, problems: list) -> None:
        """Show ``problems``; an empty list shows that the data is ready."""
        self._clear()
        if not problems:
            label = QLabel("Ready to train: the data looks like raw counts and the labels are usable.")
            label.setObjectName("problemStatus")
            label.setWordWrap(True)
            self._add(label)
            return
        for problem in problems:
            self._add(self._row(problem))
            self.messages.append(problem.message)

    def _clear(self) -> None:
        for row in self._rows:
            self._layout.removeWidget(row)
            row.deleteLater()
        self._rows = []
        self.messages = []

    def _add(self, widget: QWidget) -> None:
        self._rows.append(widget)
        self._layout.addWidget(widget)

    def _row(self, problem) -> QWidget:
        frame = QFrame()
        frame.setObjectName(f"problem_{problem.code}")
        frame.setFrameShape(QFrame.StyledPanel)
        layout = QHBoxLayout(frame)
        icon_kind = QStyle.SP_MessageBoxCritical if problem.severity == "error" else QStyle.SP_MessageBoxWarning
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(icon_kind).pixmap(20, 20))
        icon.setAlignment(Qt.AlignTop)
        layout.addWidget(icon)
        text = QLabel(f"<b>{html.escape(problem.message)}</b><br>{html.escape(problem.fix)}")
        text.setWordWrap(True)
        text.setTextFormat(Qt.RichText)
        layout.addWidget(text, 1)
        button = self._action_button(problem)
        if button is not None:
            layout.addWidget(button, 0, Qt.AlignTop)
        return frame

    def _action_button(self, problem) -> QPushButton | None:
        detail = problem.detail or {}
        if problem.code == "not_counts" and detail.get("count_layers"):
            layer = str(detail["count_layers"][0])
            button = QPushButton(f"Use {layer}" if layer == "X" else f"Use layer '{layer}'")
            button.clicked.connect(lambda: self.use_layer_requested.emit(layer))
            return button
        if problem.code == "empty_cells" and detail.get("mask") is not None:
            n = int(detail.get("n_cells", 0))
            button = QPushButton(f"Drop {n} empty cell{'s' if n != 1 else ''}")
            button.setObjectName("dropEmptyCellsButton")
            mask = detail["mask"]
            button.clicked.connect(lambda: self.drop_cells_requested.emit(mask))
            return button
        return None
