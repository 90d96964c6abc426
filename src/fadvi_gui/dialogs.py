"""Small dialogs: an error message with its technical details folded away, About, Getting
started (the six steps on the demo) and the keyboard shortcuts."""

from __future__ import annotations

import platform
from importlib import metadata

from qtpy import API_NAME, QT_VERSION
from qtpy.QtCore import Qt
from qtpy.QtGui import QKeySequence
from qtpy.QtWidgets import QAction, QMessageBox, QWidget

from fadvi_gui import __version__

_VERSIONED_PACKAGES = (
    "scvi-tools", "torch", "anndata", "scanpy", "numpy", "pyqtgraph", "superqt", "qtpy",
)


def error_dialog(parent: QWidget | None, message: str, details: str = "") -> QMessageBox:
    """Build a non-blocking error box; the traceback sits behind "Show Details...".

    Parameters
    ----------
    parent
        The window the box belongs to.
    message
        What went wrong and what to do, in plain words.
    details
        Technical text (a traceback), shown only on request.

    Returns
    -------
    QMessageBox
        Not yet shown; call ``open()`` so the event loop keeps running.
    """
    box = QMessageBox(parent)
    box.setObjectName("errorDialog")
    box.setIcon(QMessageBox.Warning)
    box.setWindowTitle("FADVI - something went wrong")
    box.setText(message)
    box.setInformativeText("Your data and settings are unchanged.")
    if details:
        box.setDetailedText(details)
    box.setStandardButtons(QMessageBox.Ok)
    return box


def package_versions() -> dict[str, str]:
    """Return the installed version of FADVI and of each library it relies on."""
    out = {"fadvi-gui": __version__}
    for name in _VERSIONED_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    out[f"Qt ({API_NAME})"] = QT_VERSION or "unknown"
    out["Python"] = platform.python_version()
    return out


def about_text() -> str:
    """Return the About box's HTML: what FADVI is, versions, and data credits."""
    rows = "".join(f"<tr><td>{name}</td><td>{ver}</td></tr>" for name, ver in package_versions().items())
    return (
        "<h3>FADVI desktop</h3>"
        "<p>Integrate single-cell batches and transfer cell-type labels with "
        "Factor Disentanglement Variational Inference.</p>"
        f"<table cellspacing='6'>{rows}</table>"
        "<p>Demo data: 10x Genomics public PBMC datasets (CC BY 4.0), as subset in the "
        "Symphony R package (Kang et al. 2021, Nat Commun).</p>"
    )


def about_dialog(parent: QWidget | None) -> QMessageBox:
    """Build the About box (not yet shown; call ``open()``)."""
    box = QMessageBox(parent)
    box.setObjectName("aboutDialog")
    box.setWindowTitle("About FADVI")
    box.setTextFormat(Qt.RichText)
    box.setText(about_text())
    box.setStandardButtons(QMessageBox.Ok)
    return box


#: The six steps, in the order the window is laid out (left to right), tried on the demo.
GETTING_STARTED = (
    ("Open data", "File &gt; Open Demo Data (or the Demo button in the Data dock) opens 1,200 "
     "blood cells (PBMC) of nine types from three 10x chemistries (the batches). Your own "
     "data: File &gt; Open, or drop an .h5ad, 10x .h5 or 10x folder on the window."),
    ("Check the data", "The Data dock guesses the counts layer, batch key (<i>batch</i>), labels "
     "key (<i>cell_type</i>) and the value that means unlabelled (<i>Unknown</i>). Change them if "
     "they are wrong; problems are listed with their fix."),
    ("Train", "In the Training dock press Train. The defaults suit most data; training stops by "
     "itself when the cell-type accuracy stops improving, and the curves show its progress."),
    ("Look at the cells", "The viewer in the middle shows the cell-type space z_l: colour it by "
     "batch (batches should mix) or by cell type (types should separate). Hover a cell to see it; "
     "draw a lasso to select cells."),
    ("Predict and review", "In the Predictions dock press Predict labels. Sort the review table by "
     "confidence, set the threshold, and press Accept above threshold to copy confident "
     "predictions into <i>fadvi_accepted_label</i> (your labels stay unchanged)."),
    ("Explain and save", "In the Explanations dock pick a class and press Run to see the genes "
     "behind it; click a gene to colour the viewer by it. File &gt; Save As writes a new "
     "annotated .h5ad; File &gt; Save Model keeps the model for new data."),
)

#: Mouse and keyboard use of the viewer and tables, which no menu shows.
VIEWER_SHORTCUTS = (
    ("Mouse wheel", "Zoom the viewer"),
    ("Drag (Pan mode)", "Move the viewer"),
    ("Shift + lasso or rectangle", "Add cells to the selection"),
    ("Alt + lasso or rectangle", "Remove cells from the selection"),
    ("Double-click a legend entry", "Show that category alone"),
    ("Click a gene (Explanations)", "Colour the viewer by that gene"),
    ("Click a column header", "Sort the table by that column"),
)


def getting_started_text() -> str:
    """Return the Getting started HTML: the six steps of a first annotation, on the demo."""
    steps = "".join(f"<li><b>{title}.</b> {text}</li>" for title, text in GETTING_STARTED)
    return ("<h3>Getting started</h3><p>Annotate cell types in six steps, left to right "
            f"through the window. Try them on the demo first.</p><ol>{steps}</ol>"
            "<p>Hover over any setting to read what it does.</p>")


def getting_started_dialog(parent: QWidget | None) -> QMessageBox:
    """Build the Getting started box (not yet shown; call ``open()``)."""
    return _text_box(parent, "gettingStartedDialog", "Getting started with FADVI", getting_started_text())


def shortcuts_text(actions: list[QAction]) -> str:
    """Return an HTML table of the ``actions`` that have a shortcut, then the viewer's mouse use."""
    rows = [(action.shortcut().toString(QKeySequence.NativeText), action.text().replace("&", ""))
            for action in actions if not action.shortcut().isEmpty()]
    table = "".join(f"<tr><td><b>{keys}</b></td><td>{what}</td></tr>"
                    for keys, what in [*rows, *VIEWER_SHORTCUTS])
    return f"<h3>Keyboard shortcuts and mouse</h3><table cellspacing='6'>{table}</table>"


def shortcuts_dialog(parent: QWidget | None, actions: list[QAction]) -> QMessageBox:
    """Build the shortcuts box listing ``actions`` (not yet shown; call ``open()``)."""
    return _text_box(parent, "shortcutsDialog", "Keyboard shortcuts", shortcuts_text(actions))


def _text_box(parent: QWidget | None, name: str, title: str, html: str) -> QMessageBox:
    box = QMessageBox(parent)
    box.setObjectName(name)
    box.setWindowTitle(title)
    box.setTextFormat(Qt.RichText)
    box.setText(html)
    box.setStandardButtons(QMessageBox.Ok)
    return box
