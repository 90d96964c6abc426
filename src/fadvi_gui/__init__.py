"""FADVI desktop app: integrate batches and transfer cell-type labels without code.

The window is built in :mod:`fadvi_gui.main_window`; :mod:`fadvi_gui.session`
owns the data and the model; :mod:`fadvi_gui.session.workers` runs long work off the UI
thread. Start it with ``fadvi-gui`` or ``python -m fadvi_gui``.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
