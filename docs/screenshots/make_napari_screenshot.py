"""Capture napari with FADVI's docks on the demo: trained, predicted, coloured by prediction.

Run from the repository root, under Xvfb (napari draws with OpenGL)::

    xvfb-run -s "-screen 0 1920x1080x24" python docs/screenshots/make_napari_screenshot.py

Needs the ``napari`` extra. As ``make_screenshots.py`` does, batch "5p" of the demo gets its
labels hidden ("Unknown") in a temporary copy, so the review has cells to predict, and the
settings go to a temporary INI file. Writes ``napari.png`` next to this script.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parents[1] / "src"))
os.environ.setdefault("QT_QPA_PLATFORM", "xcb")  # napari's canvas needs OpenGL: not offscreen
os.environ["FADVI_GUI_SETTINGS"] = str(Path(tempfile.mkdtemp()) / "screenshots.ini")

from make_screenshots import SIZE, hidden_batch_copy, settle, wait_until  # noqa: E402

EPOCHS = 40


def main() -> None:
    """Open the demo copy in napari with the docks, train, predict, select a few cells, grab."""
    warnings.filterwarnings("ignore", message="napari support for the PyQt5")  # no toast over the cells
    import napari

    from fadvi_napari import bridge_for
    from fadvi_napari._docking import show_docks

    viewer = napari.Viewer(title="FADVI in napari")
    viewer.window.resize(*SIZE)
    show_docks(viewer)
    bridge = bridge_for(viewer)
    session = bridge.session
    bridge.open(hidden_batch_copy())
    wait_until(lambda: session.checks_current and not session.is_busy)
    bridge.panels["training"].epochs_spin.setValue(EPOCHS)
    bridge.panels["training"].train_button.click()
    wait_until(lambda: bridge.cells.layer is not None and "UMAP" in bridge.cells.layer.name
               and not session.is_busy)
    predictions = bridge.panels["predictions"]
    predictions.predict_button.click()
    wait_until(lambda: "fadvi_prediction" in session.adata.obs and not session.is_busy)
    predictions.set_threshold(0.7)
    predictions.set_filter("unlabelled")
    layer = bridge.cells.layer
    layer.mode = "select"
    uncertain = session.adata.obs["fadvi_confidence"].to_numpy() < 0.7
    bridge.cells.set_selection(uncertain.nonzero()[0][:40])
    viewer.window.dock_widgets["Predictions (fadvi-desktop)"].parent().raise_()
    settle(1.0)
    time.sleep(0.5)
    settle(0.5)
    viewer.screenshot(str(HERE / "napari.png"), canvas_only=False)
    session.cancel_all()
    session.wait(30_000)
    viewer.close()


if __name__ == "__main__":
    main()
