"""The main window: docks, menus, the status bar and saved window settings.

It builds the panels, the :class:`~fadvi_gui.session.Session` and one wiring object per
area (:mod:`fadvi_gui.wiring`), and implements the wiring's
:class:`~fadvi_gui.wiring.Prompts` (errors, questions, status messages).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qtpy.QtCore import QStandardPaths, Qt, QTimer, Signal
from qtpy.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from qtpy.QtWidgets import (
    QAction, QApplication, QDockWidget, QFileDialog, QLabel, QMainWindow, QMenu, QMessageBox, QProgressBar,
    QWidget,
)

from fadvi_gui import settings as stored
from fadvi_gui.dialogs import about_dialog, error_dialog, getting_started_dialog, shortcuts_dialog
from fadvi_gui.dock_widths import default_widths, pin_widths, scrolling
from fadvi_gui.panels import DataPanel, ExplainPanel, LatentView, PredictionsPanel, TrainingPanel
from fadvi_gui.panels.quality import QualityPanel
from fadvi_gui.panels.trust import TrustPanel
from fadvi_gui.reference_ui import install_reference
from fadvi_gui.session import JobKind, Session
from fadvi_gui.tasks.devices import available_devices
from fadvi_gui.workbench_ui import install_workbench
from fadvi_gui.wiring import (
    DataWiring, ModelWiring, PredictionsWiring, TrainingWiring, ViewerWiring,
)
from fadvi_gui.wiring.quality import QualityWiring
from fadvi_gui.wiring.trust import TrustWiring

if TYPE_CHECKING:
    from anndata import AnnData

DEMO_NAME = "pbmc_symphony.h5ad"
#: Version of the saved dock layout; layouts saved by older versions (which could be
#: squeezed narrower than their panels) are not restored.
WINDOW_STATE_VERSION = 2
_OPEN_FILTER = "Single-cell data (*.h5ad *.h5 *.mtx *.mtx.gz);;All files (*)"


def demo_path() -> Path:
    """Return the built-in demo dataset: shipped in the package, else at the repository root."""
    here = Path(__file__).resolve()
    packaged = here.parent / "resources" / DEMO_NAME
    return packaged if packaged.exists() else here.parents[2] / "resources" / DEMO_NAME


class MainWindow(QMainWindow):
    """FADVI's window: the latent viewer in the middle, data and training docks on the left,
    predictions and explanations docks on the right.

    Parameters
    ----------
    session
        The session to show; a new one when None.

    Attributes
    ----------
    session, data_panel, training_panel, viewer, predictions_panel, explain_panel
        The parts the window wires together.
    viewer_wiring, predictions_wiring, model_wiring
        The wiring of each area (:mod:`fadvi_gui.wiring`).
    confirm_close
        Called when the window closes during training; return True to stop
        training and close. Replace it to answer without a dialog.
    ask_yes_no, ask_save_path, ask_open_path
        Ask the user a question, for a file name to write, or for a file to read
        (``(title, text)``, ``(title, suggestion, filter)``, ``(title, filter)``);
        replace them to answer without a dialog. File dialogs open in the last-used
        folder (`start_folder`).
    last_dialog
        The most recent error or About box (non-modal, opened with ``open()``).

    Signals
    -------
    dialog_shown(object)
        An error or About box was opened; carries the ``QMessageBox``.
    """

    dialog_shown = Signal(object)

    def __init__(self, session: Session | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("FADVI")
        self.setObjectName("fadviMainWindow")
        self.setAcceptDrops(True)
        self._resize_to_screen()
        self.settings = stored.open_settings()
        self.session = session or Session(self)
        self.confirm_close = self._ask_close_during_training
        self.ask_yes_no = self._ask_yes_no
        self.ask_save_path = self._ask_save_path
        self.ask_open_path = self._ask_open_path
        self.last_dialog: QMessageBox | None = None
        self._closing = False

        self.data_panel = DataPanel()
        self.training_panel = TrainingPanel(devices=available_devices())
        self.viewer = LatentView()
        self.predictions_panel = PredictionsPanel()
        self.explain_panel = ExplainPanel()
        self.setCentralWidget(self.viewer)
        self.data_dock = self.add_dock("Data", self.data_panel, "dataDock")
        self.training_dock = self.add_dock("Training", self.training_panel, "trainingDock")
        self.tabifyDockWidget(self.data_dock, self.training_dock)
        right = Qt.RightDockWidgetArea
        self.predictions_dock = self.add_dock("Predictions", self.predictions_panel, "predictionsDock", right)
        self.explain_dock = self.add_dock("Explanations", self.explain_panel, "explainDock", right)
        self.tabifyDockWidget(self.predictions_dock, self.explain_dock)
        self.quality_panel = QualityPanel()  # integration quality (disentanglement report)
        # With the training it judges, on the left: the right side holds five docks already.
        self.quality_dock = self.add_dock("Integration quality", self.quality_panel, "qualityDock")
        self.tabifyDockWidget(self.training_dock, self.quality_dock)
        self.quality_wiring = QualityWiring(self.session, self.quality_panel, self)
        self.trust_panel = TrustPanel()  # prediction sets at an error rate, novelty
        self.trust_dock = self.add_dock("Error rate", self.trust_panel, "trustDock", right)
        self.tabifyDockWidget(self.explain_dock, self.trust_dock)
        self.trust_wiring = TrustWiring(self.session, self.trust_panel, self)
        self.data_dock.raise_()
        self.predictions_dock.raise_()
        self.viewer_wiring = ViewerWiring(self.session, self.viewer, self)
        self.predictions_wiring = PredictionsWiring(self.session, self.predictions_panel,
                                                    self.explain_panel, self, self)
        self.model_wiring = ModelWiring(self.session, self, self)
        # Last: on new data these answer after the viewer and predictions have reset.
        self.data_wiring = DataWiring(self.session, self.data_panel, self.settings, self)
        self.training_wiring = TrainingWiring(self.session, self.training_panel, self.settings,
                                              self, self)

        self._build_menus()
        self._build_status_bar()
        self._connect()
        self.workbench = install_workbench(self)  # annotation and marker docks, projects
        self.reference_ui = install_reference(self)  # File > Annotate with Reference...
        self.pin_dock_widths()
        if not self._restore_window_state():
            QTimer.singleShot(0, self.size_docks)
        self._refresh_actions()

    # --------------------------------------------------------------- layout
    def add_dock(
        self, title: str, widget: QWidget, name: str, area: Qt.DockWidgetArea = Qt.LeftDockWidgetArea
    ) -> QDockWidget:
        """Put ``widget`` in a dock (listed in the View menu once menus exist) and return the dock."""
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(scrolling(widget))
        dock.setFeatures(QDockWidget.DockWidgetMovable | QDockWidget.DockWidgetFloatable | QDockWidget.DockWidgetClosable)
        self.addDockWidget(area, dock)
        if hasattr(self, "view_menu"):
            self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def _resize_to_screen(self) -> None:
        screen = QApplication.primaryScreen()
        available = screen.availableGeometry() if screen is not None else None
        width = min(1600, int(available.width() * 0.9)) if available else 1600
        height = min(960, int(available.height() * 0.9)) if available else 960
        self.resize(width, height)

    def _build_menus(self) -> None:
        file_menu = self.file_menu = self.menuBar().addMenu("&File")
        self.open_action = self._action(file_menu, "&Open...", self._on_open_action_triggered, QKeySequence.Open)
        self.open_folder_action = self._action(file_menu, "Open 10x &Folder...", self._on_open_folder_action_triggered)
        self.recent_menu = QMenu("Open &Recent", self)
        file_menu.addMenu(self.recent_menu)
        self.demo_action = self._action(file_menu, "Open &Demo Data", self.open_demo)
        file_menu.addSeparator()
        self.save_action = self._action(file_menu, "Save &As...", self._on_save_action_triggered, QKeySequence.SaveAs)
        self.export_view_action = self._action(file_menu, "&Export Figure...", self.viewer.controls().export_button.click)
        file_menu.addSeparator()
        self.save_model_action = self._action(file_menu, "Save &Model...", self._on_save_model_action_triggered,
                                              "Ctrl+Shift+M")
        self.load_model_action = self._action(file_menu, "&Load Model...", self._on_load_model_action_triggered,
                                              "Ctrl+Shift+L")
        self.map_action = self._action(file_menu, "Map Data onto Mo&del", self.model_wiring.map_data)
        file_menu.addSeparator()
        self.quit_action = self._action(file_menu, "&Quit", self.close, QKeySequence("Ctrl+Q"))
        self.view_menu = self.menuBar().addMenu("&View")
        for dock in (self.data_dock, self.training_dock, self.predictions_dock, self.explain_dock,
                     self.quality_dock, self.trust_dock):
            self.view_menu.addAction(dock.toggleViewAction())
        help_menu = self.menuBar().addMenu("&Help")
        self.getting_started_action = self._action(help_menu, "&Getting Started", self.show_getting_started,
                                                   QKeySequence.HelpContents)
        self.shortcuts_action = self._action(help_menu, "&Keyboard Shortcuts", self.show_shortcuts)
        help_menu.addSeparator()
        self.about_action = self._action(help_menu, "&About FADVI", self.show_about)
        self._fill_recent_menu(stored.recent_files(self.settings))

    def _action(self, menu: QMenu, text: str, slot, shortcut=None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        menu.addAction(action)
        return action

    def _build_status_bar(self) -> None:
        self.busy_label = QLabel("")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(120)
        self.busy_bar.setVisible(False)
        self.data_label = QLabel("No data open")
        bar = self.statusBar()
        bar.addWidget(self.busy_label)
        bar.addWidget(self.busy_bar)
        bar.addPermanentWidget(self.data_label)

    def _connect(self) -> None:
        panel, session = self.data_panel, self.session
        panel.open_requested.connect(self._on_open_action_triggered)
        panel.open_demo_requested.connect(self.open_demo)
        session.data_loaded.connect(self._on_session_data_loaded)
        session.choices_changed.connect(self._on_session_choices_changed)
        session.problems_changed.connect(self._refresh_actions)
        session.training_started.connect(self._on_session_training_started)
        session.training_ended.connect(self._refresh_actions)
        session.busy_changed.connect(self._on_session_busy_changed)
        session.error.connect(self.show_error)
        session.saved.connect(lambda path: self.status(f"Saved {path}"))
        session.reference_model_changed.connect(self._refresh_actions)
        predictions = self.predictions_wiring
        self.viewer.selection_changed.connect(predictions.set_selection)
        predictions.cells_selected.connect(self.viewer.set_selection)
        predictions.gene_requested.connect(self._on_predictions_gene_requested)
        self.model_wiring.progress.connect(self._on_model_wiring_progress)
        self.model_wiring.state_changed.connect(self._refresh_actions)

    # -------------------------------------------------------------- actions
    def open_file(self, path: str | Path) -> None:
        """Open ``path`` (.h5ad, 10x .h5 or 10x folder) in a worker."""
        self.session.open(path)

    def open_demo(self) -> None:
        """Open the built-in demo dataset, with one batch's labels withheld for label transfer."""
        self.session.open(demo_path(), demo=True)

    def save_as(self, path: str | Path) -> None:
        """Write the annotated data to ``path`` (never over the opened file)."""
        self.session.save_as(path)

    def save_model(self, path: str | Path) -> None:
        """Write the current model (engine's safe format) in a worker, to a model file
        (``*fadvi_model.npz``) or into a folder."""
        self.model_wiring.save_model(path)

    def load_model(self, path: str | Path) -> None:
        """Load a saved model (its file, or its folder); the open data, if any, is then mapped onto it."""
        self.model_wiring.load_model(path)

    def start_folder(self) -> Path:
        """Where file dialogs open: the last folder used (not the app's own demo folder), else
        the user's documents, else home."""
        last = self.settings.value("paths/last_dir", "")
        if last and Path(last).is_dir() and not _is_demo_folder(Path(last)):
            return Path(last)
        documents = QStandardPaths.writableLocation(QStandardPaths.DocumentsLocation)
        return Path(documents) if documents and Path(documents).is_dir() else Path.home()

    def remember_folder(self, path: str | Path) -> None:
        """Make the folder of ``path`` the one file dialogs open next (never the demo's)."""
        folder = Path(path).parent
        if not _is_demo_folder(folder):
            self.settings.setValue("paths/last_dir", str(folder))

    def status(self, text: str, timeout_ms: int = 8000) -> None:
        """Show ``text`` in the status bar for ``timeout_ms`` (part of the wiring's ``Prompts``)."""
        self.statusBar().showMessage(text, timeout_ms)

    def show_error(self, message: str, details: str = "") -> QMessageBox:
        """Open a non-blocking error box with ``details`` behind "Show Details..."."""
        box = error_dialog(self, message, details)
        return self._open_dialog(box)

    def show_about(self) -> QMessageBox:
        """Open the About box with versions."""
        return self._open_dialog(about_dialog(self))

    def show_getting_started(self) -> QMessageBox:
        """Open the Getting started box: the six steps, tried on the demo."""
        return self._open_dialog(getting_started_dialog(self))

    def show_shortcuts(self) -> QMessageBox:
        """Open the list of keyboard shortcuts (every menu action that has one) and mouse use."""
        actions = [a for menu in (self.menuBar().actions()) if menu.menu() is not None
                   for a in menu.menu().actions()]
        return self._open_dialog(shortcuts_dialog(self, actions))

    def _open_dialog(self, box: QMessageBox) -> QMessageBox:
        box.setAttribute(Qt.WA_DeleteOnClose)
        box.open()
        self.last_dialog = box
        self.dialog_shown.emit(box)
        return box

    def _on_open_action_triggered(self) -> None:
        path = self.ask_open_path("Open single-cell data", _OPEN_FILTER)
        if path:
            self.open_file(path)

    def _on_open_folder_action_triggered(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, "Open a 10x folder (matrix.mtx, features.tsv, barcodes.tsv)", str(self.start_folder()))
        if path:
            self.open_file(path)

    def _on_save_action_triggered(self) -> None:
        source = self.session.path
        name = f"{source.name.split('.')[0]}_fadvi.h5ad" if source else "fadvi.h5ad"
        path = self.ask_save_path("Save annotated data", name, "AnnData (*.h5ad)")
        if path:
            self.save_as(path if path.endswith(".h5ad") else f"{path}.h5ad")

    def _on_save_model_action_triggered(self) -> None:
        self.model_wiring.ask_and_save_model()

    def _on_load_model_action_triggered(self) -> None:
        self.model_wiring.ask_and_load_model()

    def _ask_yes_no(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text, QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

    def _ask_save_path(self, title: str, suggestion: str, filters: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, title, str(self.start_folder() / suggestion), filters)
        if path:
            self.remember_folder(path)
        return path

    def _ask_open_path(self, title: str, filters: str) -> str:
        path, _ = QFileDialog.getOpenFileName(self, title, str(self.start_folder()), filters)
        if path:
            self.remember_folder(path)
        return path

    def _fill_recent_menu(self, paths: list[str]) -> None:
        self.recent_menu.clear()
        for path in paths:
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_file(p))
        if paths:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self._on_recent_menu_clear)
        self.recent_menu.setEnabled(bool(paths))

    def _on_recent_menu_clear(self) -> None:
        stored.clear_recent_files(self.settings)
        self._fill_recent_menu([])

    # ---------------------------------------------------------- panel slots
    def _on_session_choices_changed(self, _choices: object) -> None:
        self._refresh_actions()

    def _on_predictions_gene_requested(self, gene: str) -> None:
        self.viewer.show_gene(gene)

    def _on_model_wiring_progress(self, done: int, total: int) -> None:
        self.busy_bar.setRange(0, total)
        self.busy_bar.setValue(done)

    # -------------------------------------------------------- session slots
    def _on_session_data_loaded(self, adata: AnnData) -> None:
        path = self.session.path
        if path is not None:
            self._fill_recent_menu(stored.add_recent_file(self.settings, str(path)))
            self.remember_folder(path)
        self.data_label.setText(f"{adata.n_obs:,} cells x {adata.n_vars:,} genes")
        self.setWindowTitle(f"FADVI - {path.name}" if path else "FADVI")
        self._refresh_actions()

    def _on_session_training_started(self, _settings: object) -> None:
        self.training_dock.raise_()
        self._refresh_actions()

    def _on_session_busy_changed(self, text: str) -> None:
        self.busy_label.setText(f"{text}..." if text else "")
        self.busy_bar.setVisible(bool(text))
        if not self.session.is_running(JobKind.MAP):
            self.busy_bar.setRange(0, 0)
        self._refresh_actions()
        if not text and self._closing:
            self.close()

    def _refresh_actions(self, *_args: object) -> None:
        session = self.session
        self.save_action.setEnabled(session.adata is not None and session.blocker(JobKind.SAVE) is None)
        can_open = session.blocker(JobKind.LOAD) is None
        for action in (self.open_action, self.open_folder_action, self.demo_action, self.recent_menu.menuAction()):
            action.setEnabled(can_open)
        model_io_free = session.blocker(JobKind.MODEL_IO) is None
        self.save_model_action.setEnabled(session.model is not None and model_io_free)
        self.load_model_action.setEnabled(model_io_free)
        self.map_action.setEnabled(self.model_wiring.can_map)

    # ------------------------------------------------------------ closing
    def _ask_close_during_training(self) -> bool:
        answer = QMessageBox.question(
            self, "Training is running",
            "A model is training. Stop training and close FADVI?",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No,
        )
        return answer == QMessageBox.Yes

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Ask before stopping a training run, then close once every worker has ended."""
        if self.session.is_busy:
            if not self._closing and self.session.is_training and not self.confirm_close():
                event.ignore()
                return
            self._closing = True
            self.session.shut_down()
            self.busy_label.setText("Stopping before closing...")
            event.ignore()
            return
        self.training_wiring.close()
        self._save_window_state()
        event.accept()

    def _save_window_state(self) -> None:
        self.training_wiring.remember_settings()
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState(WINDOW_STATE_VERSION))
        self.settings.sync()

    def _restore_window_state(self) -> bool:
        geometry = self.settings.value("window/geometry")
        state = self.settings.value("window/state")
        if geometry is not None:
            self.restoreGeometry(geometry)
        return state is not None and self.restoreState(state, WINDOW_STATE_VERSION)

    def size_docks(self) -> None:
        """Give the docks their first widths (`fadvi_gui.dock_widths.default_widths`); later
        starts restore the saved layout."""
        self.pin_dock_widths()
        sides = ((self.data_dock, self.training_dock), (self.predictions_dock, self.explain_dock))
        self.resizeDocks([self.data_dock, self.predictions_dock], default_widths(self, sides),
                         Qt.Horizontal)

    def pin_dock_widths(self) -> None:
        """Keep every dock as wide as its panel needs (`fadvi_gui.dock_widths.pin_widths`): the
        viewer gives way when the window narrows or something in it appears, and docks never jump."""
        pin_widths(self, self.viewer)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt override
        """Re-pin the docks' minimum widths to the new window width."""
        super().resizeEvent(event)
        if hasattr(self, "viewer"):  # not during construction
            self.pin_dock_widths()

    # -------------------------------------------------------- drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt override
        """Accept a dragged local file or folder."""
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt override
        """Open the first dropped local file or folder."""
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if paths and not self.session.is_training:
            event.acceptProposedAction()
            self.open_file(paths[0])


def _is_demo_folder(folder: Path) -> bool:
    """True for the app's own folder of the demo data (never proposed for saving)."""
    return folder.resolve() == demo_path().parent.resolve()
