"""Legend widgets: checkable categories, or a colour bar for numbers.

:class:`LegendPanel` shows one or the other. Unchecking a category emits
:attr:`LegendPanel.visibility_changed` with the new visibility of every
category; the panel owning the plot hides those cells. The drawing of the
colour bar is shared with figure export (:func:`paint_colour_bar`).
"""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import QRectF, QSize, Qt, Signal
from qtpy.QtGui import QColor, QIcon, QLinearGradient, QPainter, QPixmap
from qtpy.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)


def qcolor(rgba: np.ndarray) -> QColor:
    """Return a QColor for one ``(4,)`` uint8 RGBA row."""
    r, g, b, a = (int(v) for v in rgba)
    return QColor(r, g, b, a)


def paint_colour_bar(
    painter: QPainter, rect: QRectF, lut: np.ndarray, vmin: float, vmax: float, title: str
) -> None:
    """Draw a vertical colour bar (high values on top) with its title and end values inside ``rect``."""
    metrics = painter.fontMetrics()
    line = metrics.height()
    painter.save()
    painter.setPen(QColor(40, 40, 40))
    painter.drawText(QRectF(rect.left(), rect.top(), rect.width(), line), int(Qt.AlignmentFlag.AlignLeft), title)
    bar = QRectF(rect.left(), rect.top() + line * 1.5, min(18.0, rect.width() / 3), rect.height() - line * 2)
    gradient = QLinearGradient(bar.bottomLeft(), bar.topLeft())
    steps = len(lut)
    for i, row in enumerate(lut):
        gradient.setColorAt(i / max(steps - 1, 1), qcolor(row))
    painter.fillRect(bar, gradient)
    painter.drawRect(bar)
    text_left = bar.right() + 6
    painter.drawText(
        QRectF(text_left, bar.top() - line / 2, rect.right() - text_left, line),
        int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), f"{vmax:.3g}",
    )
    painter.drawText(
        QRectF(text_left, bar.bottom() - line / 2, rect.right() - text_left, line),
        int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter), f"{vmin:.3g}",
    )
    painter.restore()


class ColourBar(QWidget):
    """On-screen colour bar for a numeric colouring."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lut = np.zeros((2, 4), dtype=np.uint8)
        self._vmin, self._vmax, self._title = 0.0, 1.0, ""
        self.setMinimumSize(QSize(110, 160))

    def set_scale(self, lut: np.ndarray, vmin: float, vmax: float, title: str) -> None:
        """Show ``lut`` (``(k, 4)`` RGBA, low to high) from ``vmin`` to ``vmax``."""
        self._lut, self._vmin, self._vmax, self._title = lut, vmin, vmax, title
        self.update()

    def scale(self) -> tuple[float, float]:
        """The values at the bottom and top of the bar."""
        return self._vmin, self._vmax

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt API)
        painter = QPainter(self)
        rect = QRectF(self.rect()).adjusted(6, 6, -6, -6)
        paint_colour_bar(painter, rect, self._lut, self._vmin, self._vmax, self._title)
        painter.end()


class LegendPanel(QWidget):
    """Category list with check boxes, or a colour bar."""

    #: ``(k,)`` bool array: which categories are now shown.
    visibility_changed = Signal(object)
    #: Row of the category whose cells the user asked to select (right-click menu).
    select_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title = QLabel()
        self._title.setWordWrap(True)
        self._list = QListWidget()
        self._list.setIconSize(QSize(12, 12))
        self._list.setUniformItemSizes(True)
        self._list.itemChanged.connect(self._on_list_item_changed)
        self._list.itemDoubleClicked.connect(self._on_list_item_double_clicked)
        self._list.setToolTip("Untick a category to hide its cells; double-click one to show it "
                              "alone; right-click one to select its cells.")
        self._list.setContextMenuPolicy(Qt.CustomContextMenu)
        self._list.customContextMenuRequested.connect(self._on_list_context_menu_requested)
        show_all = QPushButton("All")
        show_all.clicked.connect(lambda: self._on_buttons_clicked(True))
        show_none = QPushButton("None")
        show_none.clicked.connect(lambda: self._on_buttons_clicked(False))
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(show_all)
        buttons.addWidget(show_none)
        categories = QWidget()
        column = QVBoxLayout(categories)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self._list)
        column.addLayout(buttons)
        self._bar = ColourBar()
        self._stack = QStackedWidget()
        self._stack.addWidget(categories)
        self._stack.addWidget(self._bar)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._title)
        layout.addWidget(self._stack, 1)
        self._updating = False

    # -------------------------------------------------------------- content
    def show_categories(self, title: str, labels: tuple[str, ...], lut: np.ndarray, counts: np.ndarray) -> None:
        """List ``labels`` with their colours (``(k, 4)`` RGBA) and cell counts, all ticked."""
        self._title.setText(f"<b>{title}</b>")
        self._updating = True
        self._list.clear()
        for label, rgba, count in zip(labels, lut, counts):
            swatch = QPixmap(12, 12)
            swatch.fill(qcolor(rgba))
            item = QListWidgetItem(QIcon(swatch), f"{label}  ({int(count):,})")
            item.setData(Qt.ItemDataRole.UserRole, label)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self._list.addItem(item)
        self._updating = False
        self._stack.setCurrentIndex(0)

    def show_colour_bar(self, title: str, lut: np.ndarray, vmin: float, vmax: float) -> None:
        """Show a colour bar instead of categories."""
        self._title.setText(f"<b>{title}</b>")
        self._bar.set_scale(lut, vmin, vmax, "")
        self._stack.setCurrentIndex(1)

    # -------------------------------------------------------------- queries
    def title(self) -> str:
        """The title shown above the categories or colour bar (rich text)."""
        return self._title.text()

    def labels(self) -> list[str]:
        """The category names listed, in order."""
        return [self._list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self._list.count())]

    def visible(self) -> np.ndarray:
        """``(k,)`` bool: which categories are ticked."""
        return np.array(
            [self._list.item(i).checkState() == Qt.CheckState.Checked for i in range(self._list.count())],
            dtype=bool,
        )

    def set_visible(self, visible: np.ndarray) -> None:
        """Tick exactly the categories where ``visible`` is True, then emit :attr:`visibility_changed` once."""
        self._updating = True
        for i, shown in enumerate(visible):
            state = Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked
            self._list.item(i).setCheckState(state)
        self._updating = False
        self.visibility_changed.emit(self.visible())

    def colour_bar(self) -> ColourBar:
        """The colour bar widget (shown for numeric colourings)."""
        return self._bar

    def showing_colour_bar(self) -> bool:
        """True when the colour bar, not the category list, is shown."""
        return self._stack.currentIndex() == 1

    # ---------------------------------------------------------------- slots
    def _on_list_item_changed(self, _item: QListWidgetItem) -> None:
        if not self._updating:
            self.visibility_changed.emit(self.visible())

    def _on_list_item_double_clicked(self, item: QListWidgetItem) -> None:
        row = self._list.row(item)
        only = np.zeros(self._list.count(), dtype=bool)
        only[row] = True
        self.set_visible(only)

    def _on_list_context_menu_requested(self, position) -> None:
        item = self._list.itemAt(position)
        if item is None:
            return
        menu = QMenu(self)
        action = menu.addAction(f"Select the cells of '{item.text().rsplit('  (', 1)[0]}'")
        if menu.exec_(self._list.viewport().mapToGlobal(position)) is action:
            self.select_requested.emit(self._list.row(item))

    def _on_buttons_clicked(self, shown: bool) -> None:
        self.set_visible(np.full(self._list.count(), shown, dtype=bool))
