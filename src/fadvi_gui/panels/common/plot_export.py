"""Write a pyqtgraph plot to PNG or SVG, atomically."""

from __future__ import annotations

import os
from pathlib import Path

import qtpy  # noqa: F401 - import before pyqtgraph so both use the same binding
import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401 - registers pg.exporters

from fadvi_core import write_atomically

from fadvi_gui.plotting.export import figure_suffix


def export_plot(item: pg.PlotItem, path: str | os.PathLike, *, width: int = 1200) -> Path:
    """Write ``item`` to ``path``; ``.png`` gives a ``width``-pixel image, ``.svg`` vector graphics.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    target = Path(path)
    suffix = figure_suffix(target)

    def write(temporary: Path) -> None:
        if suffix == ".png":
            exporter = pg.exporters.ImageExporter(item)
            exporter.parameters()["width"] = int(width)
        else:
            exporter = pg.exporters.SVGExporter(item)
        exporter.export(str(temporary))
        if not temporary.exists() or temporary.stat().st_size == 0:
            raise OSError(f"Could not write {target}. Check that the folder is writable.")

    return write_atomically(target, write, create_folder=False)
