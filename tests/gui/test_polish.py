"""The window on an ordinary screen: docks that keep their width, review columns in view, model
files by name, dialogs that open in the user's folders, and Help."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from conftest import set_fast_model, wait_checked
from prediction_data import trained_model
from qtpy.QtCore import Qt

from fadvi_gui.model import results
from fadvi_gui.session import Session
from fadvi_gui.wiring.models import ModelWiring

SMALL_SCREEN = (1366, 740)  # a maximised window on a 1366 x 768 screen


def _left_width(window) -> int:
    return max(d.width() for d in (window.data_dock, window.training_dock) if d.isVisible())


def _right_width(window) -> int:
    return max(d.width() for d in (window.predictions_dock, window.explain_dock) if d.isVisible())


def _no_sideways_scrolling(window) -> bool:
    docks = (window.data_dock, window.training_dock, window.predictions_dock, window.explain_dock)
    return all(d.widget().horizontalScrollBar().maximum() == 0 for d in docks if d.isVisible())


def _small_window(qtbot, window):
    window.resize(*SMALL_SCREEN)
    qtbot.wait(200)  # the first layout and `size_docks`
    return window


def test_docks_keep_their_width_through_a_training_run(qtbot, window):
    _small_window(qtbot, window)
    window.open_demo()
    wait_checked(qtbot, window)
    left, right = _left_width(window), _right_width(window)
    assert _no_sideways_scrolling(window)
    seen = []
    window.session.training_progress.connect(
        lambda _p: seen.append((_left_width(window), _right_width(window), _no_sideways_scrolling(window))))
    set_fast_model(window.training_panel, epochs=2)
    window.training_panel.train_button.click()
    qtbot.waitUntil(lambda: window.session.latents is not None and not window.session.is_busy
                    and bool(window.viewer.shown_embeddings()), timeout=180_000)
    window.viewer.controls().show_progress(0.5, "Computing UMAP")  # as a background embedding does
    qtbot.wait(100)
    assert seen and set(seen) == {(left, right, True)}
    assert (_left_width(window), _right_width(window)) == (left, right)
    assert _no_sideways_scrolling(window)


def test_review_columns_a_user_acts_on_are_in_view_on_a_small_screen(qtbot, demo_window):
    window = _small_window(qtbot, demo_window)
    adata = window.session.adata
    classes = sorted(map(str, adata.obs["cell_type"].unique()))
    rng = np.random.default_rng(0)
    probabilities = pd.DataFrame(rng.dirichlet(np.ones(len(classes)), adata.n_obs), columns=classes)
    results.write_predictions(adata, probabilities)
    panel = window.predictions_panel
    panel.set_review(results.review_table(adata, batch_key="batch", labels_key="cell_type",
                                          unlabeled_category="Unknown"))
    window.predictions_dock.raise_()
    qtbot.wait(100)
    view = panel.table_view
    headers = [panel.review.headerData(c, Qt.Horizontal) for c in range(panel.review.columnCount())]
    for name in ("Prediction", "Confidence", "Flag"):
        column = headers.index(name)
        right_edge = view.columnViewportPosition(column) + view.columnWidth(column)
        assert 0 <= view.columnViewportPosition(column) and right_edge <= view.viewport().width(), name
    assert _no_sideways_scrolling(window)


def test_accept_with_nothing_to_accept_says_why(qtbot, demo_window):
    window = demo_window
    adata = window.session.adata
    classes = sorted(map(str, adata.obs["cell_type"].unique()))
    probabilities = pd.DataFrame(np.full((adata.n_obs, len(classes)), 1 / len(classes)), columns=classes)
    window.session.write_predictions(probabilities, indices=None, mode="label")
    panel = window.predictions_panel
    panel.set_review(results.review_table(adata, batch_key="batch", labels_key="cell_type",
                                          unlabeled_category="Unknown"))
    qtbot.mouseClick(panel.accept_all_button, Qt.LeftButton)
    # The demo withholds the 5p batch's labels: 430 unlabelled cells, none confident enough.
    assert panel.state_text.startswith("Accepted no predictions: none of the unlabelled cells "
                                       "(430) reaches the confidence threshold")


class _Prompts:
    """Answers the model dialogs as a user would: with a typed name, then "No" to replacing."""

    def __init__(self, answers: list[str], replace: bool = False) -> None:
        self.answers, self.replace = answers, replace
        self.asked: list[tuple] = []
        self.messages: list[str] = []

    def show_error(self, message: str, details: str = "") -> None:
        self.messages.append(message)

    def ask_yes_no(self, title: str, text: str) -> bool:
        self.asked.append(("yes_no", title, text))
        return self.replace

    def ask_save_path(self, title: str, suggestion: str, filters: str) -> str:
        self.asked.append(("save", title, suggestion, filters))
        return self.answers.pop(0)

    def ask_open_path(self, title: str, filters: str) -> str:
        self.asked.append(("open", title, filters))
        return self.answers.pop(0)

    def status(self, text: str, timeout_ms: int = 8000) -> None:
        self.messages.append(text)


def test_save_model_by_name_ask_before_replacing_and_load_the_file(qtbot, tmp_path):
    session = Session()
    session.adopt_model(trained_model()[0])
    prompts = _Prompts([str(tmp_path / "pbmc"), str(tmp_path / "pbmc.npz")])
    wiring = ModelWiring(session, prompts)
    wiring.ask_and_save_model()
    saved = tmp_path / "pbmc_fadvi_model.npz"
    qtbot.waitUntil(lambda: saved.exists() and not session.is_busy, timeout=30_000)
    kind, _title, suggestion, filters = prompts.asked[0]
    assert (kind, suggestion) == ("save", "fadvi_model.npz") and "*fadvi_model.npz" in filters
    written = saved.stat().st_mtime_ns
    wiring.ask_and_save_model()  # the same name again: asked, and "No" keeps the file
    assert prompts.asked[-1][0] == "yes_no" and "pbmc_fadvi_model.npz" in prompts.asked[-1][2]
    assert not session.is_busy and saved.stat().st_mtime_ns == written
    assert prompts.messages[-1] == "The model was not saved."

    prompts.answers = [str(saved)]
    wiring.ask_and_load_model()
    qtbot.waitUntil(lambda: session.reference_model is not None and not session.is_busy,
                    timeout=30_000)
    assert prompts.asked[-1][0] == "open" and "*fadvi_model.npz" in prompts.asked[-1][2]
    assert list(session.reference_model.var_names) == list(session.model.var_names)


def test_save_dialogs_propose_the_last_folder_never_the_demo_folder(qtbot, demo_window, tmp_path):
    window = demo_window
    asked = []
    window.ask_save_path = lambda title, suggestion, filters: asked.append(suggestion) or ""
    window.save_action.trigger()
    assert asked == ["pbmc_symphony_fadvi.h5ad"]
    assert window.start_folder() != Path(window.session.path).parent
    window.remember_folder(tmp_path / "annotated.h5ad")
    assert window.start_folder() == tmp_path


def test_help_has_getting_started_and_shortcuts(window):
    texts = [a.text() for a in window.menuBar().actions()[-1].menu().actions()]
    assert texts[:2] == ["&Getting Started", "&Keyboard Shortcuts"]
    guide = window.show_getting_started().text()
    assert guide.count("<li>") == 6 and "Open Demo Data" in guide
    shortcuts = window.show_shortcuts().text()
    assert "Ctrl+O" in shortcuts and "Ctrl+Q" in shortcuts and "Shift + lasso" in shortcuts


def test_layouts_saved_by_older_versions_are_not_restored(qtbot, make_window):
    from fadvi_gui import settings as stored

    first = make_window()
    first.predictions_dock.hide()
    settings = stored.open_settings()
    settings.setValue("window/state", first.saveState())  # as versions before the pinned docks
    settings.sync()
    assert make_window().predictions_dock.isVisible()
    first._save_window_state()  # this version's layout is kept
    assert not make_window().predictions_dock.isVisible()


def test_model_names_map_to_the_engine_files(tmp_path):
    from fadvi_gui.tasks.model_files import model_file_name, model_location

    assert model_file_name("pbmc") == "pbmc_fadvi_model.npz"
    assert model_file_name("pbmc.npz") == model_file_name("pbmc_fadvi_model.npz") == "pbmc_fadvi_model.npz"
    assert model_file_name("") == "fadvi_model.npz"
    assert model_location(tmp_path / "pbmc_fadvi_model.npz") == (tmp_path, "pbmc_")
    assert model_location(tmp_path / "fadvi_model.npz") == (tmp_path, "")
    assert model_location(tmp_path / "my_model") == (tmp_path / "my_model", "")  # a `fadvi train` folder


def test_open_larger_shows_the_same_matrix_and_genes(qtbot):
    from fadvi_gui.panels.explain.panel import ExplainPanel
    from fadvi_gui.panels.predictions.panel import PredictionsPanel

    predictions = PredictionsPanel()
    qtbot.addWidget(predictions)
    names = ["B cells", "CD14+ Monocytes", "NK cells"]
    matrix = pd.DataFrame([[50, 2, 1], [3, 80, 0], [0, 1, 40]], index=names, columns=names)
    predictions.confusion_view.set_matrix(matrix)
    larger = predictions.open_larger_confusion()
    qtbot.addWidget(larger)
    (view,) = [w for w in larger.findChildren(type(predictions.confusion_view))]
    assert view.matrix.equals(matrix) and larger.isVisible()

    explain = ExplainPanel()
    qtbot.addWidget(explain)
    explain.chart.set_genes(["CD74", "MS4A1"], [0.3, 0.1])
    larger = explain.open_larger_chart()
    qtbot.addWidget(larger)
    (chart,) = larger.findChildren(type(explain.chart))
    assert chart.genes == ["CD74", "MS4A1"]
    with qtbot.waitSignal(explain.gene_clicked) as clicked:
        chart.click_gene("MS4A1")
    assert clicked.args == ["MS4A1"]


def test_hovering_a_confusion_cell_tells_its_labels_and_count(qtbot):
    from qtpy.QtCore import QEvent, QPointF
    from qtpy.QtGui import QHelpEvent, QMouseEvent
    from qtpy.QtWidgets import QApplication, QToolTip

    from fadvi_gui.panels.predictions._confusion_view import ConfusionView

    view = ConfusionView()
    qtbot.addWidget(view)
    view.resize(400, 400)
    view.show()
    names = ["B cells", "NK cells"]
    view.set_matrix(pd.DataFrame([[30, 10], [0, 40]], index=names, columns=names))
    qtbot.wait(50)
    point = view.mapFromScene(view.plotItem.vb.mapViewToScene(QPointF(1.5, 0.5)))
    viewport = view.viewport()
    QApplication.sendEvent(viewport, QMouseEvent(QEvent.Type.MouseMove, QPointF(point), Qt.NoButton,
                                                 Qt.NoButton, Qt.NoModifier))
    QApplication.sendEvent(viewport, QHelpEvent(QEvent.Type.ToolTip, point, viewport.mapToGlobal(point)))
    assert QToolTip.isVisible()
    assert QToolTip.text() == ("Existing label: B cells\nPredicted label: NK cells\n"
                               "10 cells (25% of this label's cells)")
