"""How wide the main window's docks are: what their panels need, pinned, so nothing scrolls sideways.

Each dock's panel sits in a scroll area (`scrolling`). `pin_widths` keeps every dock at least as
wide as its panel needs (`needed_width`), so the viewer in the middle gives way when something
appears in it (a progress bar) and the docks never jump; `default_widths` gives the first layout.
"""

from __future__ import annotations

from collections.abc import Sequence

from qtpy.QtWidgets import QDockWidget, QMainWindow, QScrollArea, QStyle, QWidget

#: Default widths (px) of the left (data, training) and right (predictions, explanations) docks.
DOCK_WIDTHS = (410, 480)
#: No dock is made wider than this share of the window by `default_widths`.
MAX_DOCK_SHARE = 0.35
#: Narrower windows give the docks only what their panels need, and the viewer the rest.
ROOMY_WIDTH = 1600


def scrolling(widget: QWidget) -> QScrollArea:
    """Wrap ``widget`` so a dock too short for it scrolls down instead of growing the window."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.NoFrame)
    area.setWidget(widget)
    return area


def needed_width(dock: QDockWidget) -> int:
    """Width (px) of ``dock`` at which its panel fits beside a vertical scroll bar."""
    area = dock.widget()
    bar = area.style().pixelMetric(QStyle.PM_ScrollBarExtent)
    return area.widget().minimumSizeHint().width() + bar + 2 * area.frameWidth() + 4


def pin_widths(window: QMainWindow, centre: QWidget) -> None:
    """Keep each of ``window``'s docks at least as wide as its panel needs.

    Where the window is too narrow for both sides and the minimum width of ``centre`` (the
    central widget), each side gets its share of what is left.
    """
    separator = window.style().pixelMetric(QStyle.PM_DockWidgetSeparatorExtent)
    room = window.width() - centre.minimumSizeHint().width() - 2 * separator - 4
    docks = [d for d in window.findChildren(QDockWidget) if isinstance(d.widget(), QScrollArea)]
    areas = {d: window.dockWidgetArea(d) for d in docks}
    needs = {area: max(needed_width(d) for d in docks if areas[d] == area) for area in set(areas.values())}
    scale = min(1.0, room / max(sum(needs.values()), 1))
    for dock in docks:
        dock.widget().setMinimumWidth(int(min(needed_width(dock), needs[areas[dock]] * scale)))


def default_widths(window: QMainWindow, sides: Sequence[Sequence[QDockWidget]]) -> list[int]:
    """First widths of the left and right ``sides`` (each a list of docks).

    Each side gets its default (`DOCK_WIDTHS`; none in windows narrower than `ROOMY_WIDTH`,
    to leave the viewer room), widened to what its widest panel needs, but to at most
    `MAX_DOCK_SHARE` of the window, and never below the width `pin_widths` keeps.
    """
    cap = int(window.width() * MAX_DOCK_SHARE)
    defaults = DOCK_WIDTHS if window.width() >= ROOMY_WIDTH else (0,) * len(sides)
    return [max(min(max(default, *map(needed_width, docks)), cap),
                *(d.widget().minimumWidth() for d in docks))
            for default, docks in zip(defaults, sides)]


__all__ = ["DOCK_WIDTHS", "MAX_DOCK_SHARE", "ROOMY_WIDTH", "default_widths", "needed_width",
           "pin_widths", "scrolling"]
