"""The workbench's part of the main window: its docks, menu entries and wiring.

:func:`install_workbench` adds the Annotation dock (withheld labels, manual annotation,
majority voting), the Marker Genes dock, the Edit menu's Undo and Redo (Ctrl+Z,
Ctrl+Shift+Z) and Withhold Labels, and File > Save Project / Open Project, and wires them to
the window's session, so ``main_window`` needs one line for all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qtpy.QtCore import Qt
from qtpy.QtGui import QKeySequence
from qtpy.QtWidgets import QAction, QDockWidget, QFileDialog

from fadvi_gui.panels.annotation import AnnotationPanel
from fadvi_gui.panels.markers import MarkersPanel
from fadvi_gui.session import JobKind
from fadvi_gui.wiring.annotation import AnnotationWiring
from fadvi_gui.wiring.clusters import ClustersWiring
from fadvi_gui.wiring.markers import MarkersWiring
from fadvi_gui.wiring.project import ProjectWiring

if TYPE_CHECKING:
    from fadvi_gui.main_window import MainWindow


@dataclass
class WorkbenchUi:
    """What :func:`install_workbench` added to a window."""

    annotation_panel: AnnotationPanel
    annotation_dock: QDockWidget
    annotation_wiring: AnnotationWiring
    clusters_wiring: ClustersWiring
    markers_panel: MarkersPanel
    markers_dock: QDockWidget
    markers_wiring: MarkersWiring
    project_wiring: ProjectWiring
    save_project_action: QAction
    open_project_action: QAction
    undo_action: QAction
    redo_action: QAction
    withhold_action: QAction


def install_workbench(window: MainWindow) -> WorkbenchUi:
    """Add the workbench's docks, menus and wiring to ``window`` and return them."""
    if not hasattr(window, "ask_open_path"):
        window.ask_open_path = lambda title, filters: _ask_open_path(window, title, filters)
    panel = AnnotationPanel()
    dock = window.add_dock("Annotation", panel, "annotationDock", Qt.RightDockWidgetArea)
    window.tabifyDockWidget(window.explain_dock, dock)
    markers = MarkersPanel()
    markers_dock = window.add_dock("Marker Genes", markers, "markersDock", Qt.RightDockWidgetArea)
    window.tabifyDockWidget(dock, markers_dock)
    window.predictions_dock.raise_()
    wiring = AnnotationWiring(window.session, panel, window.data_panel, window.predictions_panel,
                              window.viewer, window, window)
    clusters = ClustersWiring(window.session, panel.clusters, window.viewer, window)
    markers_wiring = MarkersWiring(window.session, markers, window.viewer, window, window)
    projects = ProjectWiring(window.session, window.data_panel, window.training_panel,
                             window.predictions_panel, window.viewer, window, window)
    save_project = QAction("Save &Project...", window)
    save_project.setShortcut(QKeySequence("Ctrl+Shift+P"))
    save_project.triggered.connect(lambda _checked=False: projects.save_project())
    open_project = QAction("Open Pro&ject...", window)
    open_project.triggered.connect(lambda _checked=False: projects.open_project())
    window.file_menu.insertAction(window.quit_action, open_project)
    window.file_menu.insertAction(window.quit_action, save_project)
    window.file_menu.insertSeparator(window.quit_action)
    stack = window.session.workbench.undo_stack
    edit_menu = window.menuBar().addMenu("&Edit")
    window.menuBar().insertMenu(window.view_menu.menuAction(), edit_menu)
    undo = stack.createUndoAction(window, "&Undo")
    undo.setShortcut(QKeySequence.Undo)
    redo = stack.createRedoAction(window, "&Redo")
    redo.setShortcut(QKeySequence("Ctrl+Shift+Z"))
    edit_menu.addAction(undo)
    edit_menu.addAction(redo)
    edit_menu.addSeparator()
    withhold = edit_menu.addAction("&Withhold Labels...")
    withhold.triggered.connect(lambda _checked=False: _show(dock, panel.withhold))
    session = window.session

    def refresh_actions(*_args: object) -> None:
        free = session.blocker(JobKind.PROJECT) is None
        save_project.setEnabled(free and session.adata is not None)
        open_project.setEnabled(free)
        withhold.setEnabled(session.adata is not None)

    session.data_loaded.connect(refresh_actions)
    session.busy_changed.connect(refresh_actions)
    refresh_actions()
    return WorkbenchUi(panel, dock, wiring, clusters, markers, markers_dock, markers_wiring, projects,
                       save_project, open_project, undo, redo, withhold)


def _show(dock: QDockWidget, widget) -> None:
    dock.show()
    dock.raise_()
    area = dock.widget()
    area.ensureWidgetVisible(widget)


def _ask_open_path(window: MainWindow, title: str, filters: str) -> str:
    start = window.settings.value("paths/last_dir", str(Path.home()))
    path, _ = QFileDialog.getOpenFileName(window, title, start, filters)
    return path


__all__ = ["WorkbenchUi", "install_workbench"]
