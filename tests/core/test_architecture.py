"""fadvi_core stays free of Qt and of the GUI."""

from __future__ import annotations

import subprocess
import sys


def test_importing_the_core_loads_no_qt_or_gui():
    code = ("import sys, fadvi_core; "
            "bad = [m for m in sys.modules if m.split('.')[0] in "
            "{'PyQt5', 'PyQt6', 'PySide2', 'PySide6', 'qtpy', 'pyqtgraph', 'superqt', 'fadvi_gui'}]; "
            "print(bad); sys.exit(bool(bad))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
