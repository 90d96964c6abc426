"""Capture the window idle, training and finished on the demo data.

Run from the repository root::

    QT_QPA_PLATFORM=offscreen python docs/screenshots/make_screenshots.py

(or under Xvfb with ``xvfb-run``). Writes ``app_idle.png``, ``app_training.png``
and ``app_finished.png`` next to this script. Settings go to a temporary INI
file, so the user's own settings are neither read nor changed.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "src"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["FADVI_GUI_SETTINGS"] = str(Path(tempfile.mkdtemp()) / "screenshots.ini")

EPOCHS = 25
TRAINING_SHOT_EPOCH = 10


def main() -> None:
    """Open the demo, train it through the Train button and grab the window three times."""
    from qtpy.QtCore import QTimer

    from fadvi_gui.app import get_app

    app = get_app()
    from fadvi_gui.main_window import MainWindow

    window = MainWindow()
    window.resize(1500, 920)
    window.show()
    panel = window.training_panel
    shots: set[str] = set()

    def grab(name: str) -> None:
        window.grab().save(str(HERE / f"app_{name}.png"))
        shots.add(name)

    def on_checked(_problems) -> None:
        if "idle" in shots:
            return
        QTimer.singleShot(300, lambda: (grab("idle"), _start_training()))

    def _start_training() -> None:
        panel.epochs_spin.setValue(EPOCHS)
        panel.train_button.click()

    def on_progress(progress) -> None:
        if progress.epoch_end and progress.epoch + 1 == TRAINING_SHOT_EPOCH and "training" not in shots:
            QTimer.singleShot(50, lambda: grab("training"))

    def on_ended(_outcome: str) -> None:
        QTimer.singleShot(300, lambda: (grab("finished"), window.close()))

    window.session.problems_changed.connect(on_checked)
    window.session.training_progress.connect(on_progress)
    window.session.training_ended.connect(on_ended)
    window.open_demo()
    app.exec_()
    missing = {"idle", "training", "finished"} - shots
    if missing:
        raise SystemExit(f"Screenshots not taken: {sorted(missing)}")


if __name__ == "__main__":
    main()
