"""The dialog of File > Annotate with Reference...: which column of the reference is what.

For a labelled ``.h5ad`` it asks the reference's counts, labels, batch and (optional) coarse label
columns; for a saved reference model it shows the model card. Either way it asks which column of
the open data holds its batches. It only builds widgets: the wiring reads :meth:`ReferenceDialog.keys`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qtpy.QtCore import Qt
from qtpy.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget,
)

from fadvi_gui.panels.data import _obs_columns as cols

if TYPE_CHECKING:
    import pandas as pd

    from fadvi_gui.tasks.reference import ReadReference

NONE = "(none)"
X_LAYER = "X"
_COARSE_NAMES = ("broad", "coarse", "major", "lineage", "level1", "l1")


class ReferenceDialog(QDialog):
    """Ask how to read the reference (or show its model card) and the open data's batch column.

    Parameters
    ----------
    read
        The reference as read (:class:`~fadvi_gui.tasks.reference.ReadReference`).
    query_obs
        The open data's ``obs``, for its batch column.
    query_batch
        The batch column the data panel shows now (the default), or None.

    Attributes
    ----------
    intro
        What the reference is: its size, or its model card.
    labels_combo, batch_combo, coarse_combo, layer_combo
        The reference's columns (absent for a reference model).
    query_batch_combo
        The open data's batch column.
    """

    def __init__(self, read: ReadReference, query_obs: pd.DataFrame, query_batch: str | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("referenceDialog")
        self.setWindowTitle("Annotate with a reference")
        self.is_model = read.model is not None
        layout = QVBoxLayout(self)
        self.intro = QLabel(self._intro(read))
        self.intro.setWordWrap(True)
        self.intro.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout.addWidget(self.intro)
        form = QFormLayout()
        self.labels_combo = self.batch_combo = self.coarse_combo = self.layer_combo = None
        if not self.is_model:
            obs = read.adata.obs
            categorical = cols.categorical_columns(obs)
            labels = cols.guess_labels_key(categorical)
            layers = [str(k) for k in read.adata.layers.keys()]
            self.layer_combo = _combo([X_LAYER, *layers], cols.guess_counts_layer(layers) or X_LAYER,
                                      "Which matrix of the reference holds raw counts.")
            self.labels_combo = _combo(categorical, labels or "",
                                       "The reference's column of cell types: they become the predictions.")
            self.batch_combo = _combo([NONE, *categorical], cols.guess_batch_key(categorical) or NONE,
                                      "The reference's batches (donors, runs); (none) for one batch.")
            coarse = next((c for c in categorical if c != labels and any(
                n in c.lower() for n in _COARSE_NAMES)), NONE)
            self.coarse_combo = _combo([NONE, *categorical], coarse,
                                       "Broader cell types (e.g. T cells for CD4 and CD8 T cells), "
                                       "used where a cell is between two fine types. Optional.")
            form.addRow("Reference counts", self.layer_combo)
            form.addRow("Reference labels", self.labels_combo)
            form.addRow("Reference batch", self.batch_combo)
            form.addRow("Coarse labels", self.coarse_combo)
        query_columns = cols.categorical_columns(query_obs)
        self.query_batch_combo = _combo([NONE, *query_columns],
                                        query_batch if query_batch in query_columns else NONE,
                                        "Your data's batch column; (none) for one batch.")
        form.addRow("Your data's batch", self.query_batch_combo)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.Ok)
        self.ok_button.setText("Map onto the reference" if self.is_model else "Join with the reference")
        self.ok_button.setEnabled(self.is_model or self.labels_combo.count() > 0)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _intro(self, read: ReadReference) -> str:
        if self.is_model:
            return (f"<b>Reference model {read.path.name}</b><pre>{_escape(read.model.describe())}</pre>"
                    "Your cells are mapped onto it: only their batch weights learn, in seconds.")
        adata = read.adata
        return (f"<b>{read.path.name}</b>: {adata.n_obs:,} cells x {adata.n_vars:,} genes. "
                "Its labelled cells and your cells are joined on their shared genes; train "
                "on them next, and predict your cells' types.")

    def keys(self) -> dict[str, str | None]:
        """The chosen columns, as keyword arguments of the session's reference ``join`` / ``map``."""
        out = {"batch_key": _key(self.query_batch_combo)}
        if not self.is_model:
            layer = self.layer_combo.currentText()
            out |= {"labels_key": self.labels_combo.currentText(),
                    "reference_batch_key": _key(self.batch_combo),
                    "coarse_labels_key": _key(self.coarse_combo),
                    "reference_layer": None if layer == X_LAYER else layer}
        return out


def _combo(items: list[str], current: str, tooltip: str) -> QComboBox:
    combo = QComboBox()
    combo.addItems(items)
    combo.setCurrentIndex(max(combo.findText(current), 0))
    combo.setToolTip(tooltip)
    return combo


def _key(combo: QComboBox) -> str | None:
    text = combo.currentText()
    return None if text in ("", NONE) else text


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


__all__ = ["ReferenceDialog"]
