"""Capture the window on the demo data: idle, training, finished, viewer, predictions, explanations.

Run from the repository root::

    QT_QPA_PLATFORM=offscreen python docs/screenshots/make_screenshots.py [WIDTHxHEIGHT [FOLDER]]

(or under Xvfb with ``xvfb-run``). The window fills a WIDTHxHEIGHT screen (default 1920x1080,
as a maximised window would); the pictures go to FOLDER (default: next to this script).
Batch "5p" of the demo gets its labels hidden ("Unknown") in a temporary copy, so the
prediction review has cells to predict. Writes ``app_idle.png``, ``app_training.png``,
``app_finished.png``, ``viewer.png``, ``predictions.png``, ``confusion.png`` (the "Open
larger" window) and ``explanations.png``. Settings go to a temporary INI file, so the user's
own settings are neither read nor changed.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
TMP = Path(tempfile.mkdtemp())
os.environ["FADVI_GUI_SETTINGS"] = str(TMP / "screenshots.ini")

EPOCHS = 40
TRAINING_SHOT_EPOCH = 10
#: Window size of every screenshot (px), and where they go; both may be given on the command line.
SIZE = tuple(int(v) for v in (sys.argv[1] if len(sys.argv) > 1 else "1920x1080").split("x"))
OUT = Path(sys.argv[2]) if len(sys.argv) > 2 else HERE


def wait_until(condition, timeout_s: float = 900) -> None:
    """Run the event loop until ``condition()`` is true."""
    from qtpy.QtWidgets import QApplication

    end = time.perf_counter() + timeout_s
    while not condition():
        if time.perf_counter() > end:
            raise SystemExit("Timed out waiting for the window.")
        QApplication.processEvents()
        time.sleep(0.02)


def settle(seconds: float = 0.3) -> None:
    """Run the event loop for ``seconds`` so layouts and deferred calls take effect."""
    end = time.perf_counter() + seconds
    wait_until(lambda: time.perf_counter() > end)


def hidden_batch_copy() -> Path:
    """Write the demo with the labels of batch "5p" set to "Unknown"; return its path."""
    import anndata

    adata = anndata.read_h5ad(ROOT / "resources" / "pbmc_symphony.h5ad")
    labels = adata.obs["cell_type"].astype(str)
    labels[adata.obs["batch"] == "5p"] = "Unknown"
    adata.obs["cell_type"] = labels.astype("category")
    path = TMP / "pbmc_symphony_5p_unlabelled.h5ad"
    adata.write_h5ad(path)
    return path


def main() -> None:
    """Drive the window through its widgets and grab it at each step."""
    from fadvi_gui.app import get_app

    app = get_app()
    from fadvi_gui.main_window import MainWindow

    window = MainWindow()
    window.resize(*SIZE)
    window.show()
    settle()
    session, view = window.session, window.viewer

    def grab(name: str, widget=None) -> None:
        settle()  # the docks keep their width: no re-sizing before a picture
        (widget or window).grab().save(str(OUT / f"{name}.png"))

    def idle() -> bool:
        return not session.is_busy

    window.open_file(hidden_batch_copy())
    wait_until(lambda: session.checks_current and idle())
    # The expected training time, measured in a worker once the checks pass.
    wait_until(lambda: window.training_panel.estimate_text.startswith("About") and idle())
    grab("app_idle")
    window.training_panel.epochs_spin.setValue(EPOCHS)
    seen = []
    session.training_progress.connect(
        lambda p: seen.append(p.epoch) if p.epoch_end and p.epoch + 1 == TRAINING_SHOT_EPOCH else None)
    window.training_panel.train_button.click()
    wait_until(lambda: bool(seen))
    grab("app_training")
    wait_until(lambda: session.latents is not None and idle()
               and ("z_l", "umap") in view.shown_embeddings())
    grab("app_finished")

    view.set_colour_by("cell_type")
    view.set_side_by_side(True)
    wait_until(lambda: view.shown_embeddings() == [("z_b", "umap"), ("z_l", "umap")] and idle())
    docks = (window.data_dock, window.training_dock, window.predictions_dock, window.explain_dock)
    for dock in docks:
        dock.hide()
    time.sleep(0.2)
    grab("viewer")
    for dock in docks:
        dock.show()
    window.tabifyDockWidget(window.data_dock, window.training_dock)
    window.tabifyDockWidget(window.predictions_dock, window.explain_dock)
    settle()
    view.set_side_by_side(False)

    window.predictions_dock.raise_()
    window.predictions_panel.predict_button.click()
    wait_until(lambda: "fadvi_prediction" in session.adata.obs and idle())
    window.predictions_panel.set_threshold(0.7)
    window.predictions_panel.set_filter("unlabelled")
    view.set_colour_by("fadvi_prediction_thresholded")
    grab("predictions")
    larger = window.predictions_panel.open_larger_confusion()
    larger.resize(1000, 800)
    grab("confusion", larger)
    larger.close()

    explain = window.explain_panel
    window.explain_dock.raise_()
    explain.class_combo.setCurrentText("B")
    explain.max_cells_spin.setValue(200)
    explain.run_button.click()
    wait_until(lambda: explain.result is not None and idle())
    top = str(explain.result.tables["B"]["feature"].iloc[0])
    explain.gene_clicked.emit(top)
    wait_until(lambda: view.colouring().key == top and idle())
    grab("explanations")
    window.confirm_close = lambda: True
    window.close()


if __name__ == "__main__":
    main()
