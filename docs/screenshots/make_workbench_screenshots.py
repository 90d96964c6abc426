"""Capture the workbench on the demo: annotation, marker genes, and a reopened project.

Run from the repository root::

    xvfb-run -s "-screen 0 1920x1080x24" python docs/screenshots/make_workbench_screenshots.py

The demo opens with batch "5p"'s labels withheld; the script trains, predicts, labels a lasso
selection, votes over Leiden clusters, ranks marker genes, saves a project and reopens it in a
second window. Writes ``workbench_annotation.png``, ``workbench_markers.png`` and
``workbench_project.png`` next to this script; settings go to a temporary INI file.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "src"))
sys.path.insert(0, str(HERE))
TMP = Path(tempfile.mkdtemp())
os.environ["FADVI_GUI_SETTINGS"] = str(TMP / "screenshots.ini")

from make_screenshots import SIZE, settle, wait_until  # noqa: E402

EPOCHS = 40


def main() -> None:
    from qtpy.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from fadvi_gui.main_window import MainWindow

    window = MainWindow()
    window.resize(*SIZE)
    window.show()
    idle = lambda: not window.session.is_busy  # noqa: E731
    window.open_demo()
    wait_until(lambda: window.session.checks_current and idle())
    window.training_panel.epochs_spin.setValue(EPOCHS)
    window.training_panel.train_button.click()
    wait_until(lambda: window.session.latents is not None and idle()
               and ("z_l", "umap") in window.viewer.shown_embeddings())
    window.predictions_panel.predict_button.click()
    wait_until(lambda: idle() and "fadvi_prediction" in window.session.adata.obs)

    ui = window.workbench
    box = ui.annotation_panel.annotate
    box.start_combo.setCurrentText("fadvi_prediction")
    box.new_button.click()
    coords = window.session.adata.obsm["X_fadvi_l_umap"]
    x0, x1 = np.percentile(coords[:, 0], [0, 25])
    y0, y1 = coords[:, 1].min() - 1, coords[:, 1].max() + 1
    window.viewer.select_polygon(np.array([[x0 - 1, y0], [x1, y0], [x1, y1], [x0 - 1, y1]]))
    box.name_combo.setCurrentText("Checked by hand")
    box.label_button.click()
    ui.annotation_panel.clusters.run_button.click()
    wait_until(lambda: idle() and "fadvi_majority_vote" in window.session.adata.obs)
    window.viewer.clear_selection()
    window.viewer.set_colour_by("fadvi_annotation")
    ui.annotation_dock.raise_()
    settle(1.0)
    window.grab().save(str(HERE / "workbench_annotation.png"))

    markers = ui.markers_panel
    markers.column_combo.setCurrentText("fadvi_prediction")
    markers.run_button.click()
    wait_until(lambda: idle() and markers.result is not None)
    markers.table.cellClicked.emit(0, 0)
    wait_until(lambda: window.viewer.colouring().key == markers.table.item(0, 0).text())
    ui.markers_dock.raise_()
    settle(1.0)
    window.grab().save(str(HERE / "workbench_markers.png"))

    project = TMP / "demo.fadvi"
    ui.project_wiring.save_project(project)
    wait_until(lambda: project.exists() and idle())
    other = MainWindow()
    other.resize(*SIZE)
    other.show()
    other.workbench.project_wiring.open_project(project)
    wait_until(lambda: other.session.model is not None and other.session.checks_current
               and not other.session.is_busy)
    other.predictions_dock.raise_()
    settle(1.5)
    other.grab().save(str(HERE / "workbench_project.png"))
    for w in (window, other):
        w.confirm_close = lambda: True
        w.session.cancel_all()
        w.session.wait(30_000)
        w.close()
    app.processEvents()


if __name__ == "__main__":
    main()
