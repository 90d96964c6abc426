"""Small dialogs: an error message with its technical details folded away, and About."""

from __future__ import annotations

import platform
from importlib import metadata

from qtpy import API_NAME, QT_VERSION
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QMessageBox, QWidget

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
