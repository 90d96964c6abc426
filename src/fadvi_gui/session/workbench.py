"""The session's annotation state: withheld labels, annotation columns and their undo history.

A :class:`Workbench` belongs to one :class:`~fadvi_gui.session.Session` and writes into its
data only through :meth:`Workbench._apply`, which pushes an undoable command on
:attr:`Workbench.undo_stack` and emits the session's ``cells_changed``. Every annotation edit
(label cells, rename, merge, new column, import, withhold, cluster columns) can be undone
with Ctrl+Z and redone with Ctrl+Shift+Z; the user's original columns are never written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from qtpy.QtCore import QObject, Signal
from qtpy.QtWidgets import QUndoCommand, QUndoStack

from fadvi_gui.model import annotation as notes
from fadvi_gui.model import withheld as held
from fadvi_gui.model.keys import WITHHELD_KEY

if TYPE_CHECKING:
    from anndata import AnnData

    from fadvi_gui.session.session import Session

#: A snapshot of ``obs`` columns (None: the column is absent) and of the two ``uns`` records.
_Snapshot = dict[str, Any]


class _ColumnEdit(QUndoCommand):
    """Swap ``obs`` columns (and the workbench's ``uns`` records) between two snapshots."""

    def __init__(self, workbench: Workbench, text: str, before: _Snapshot, after: _Snapshot) -> None:
        super().__init__(text)
        self._workbench, self._before, self._after = workbench, before, after

    def redo(self) -> None:  # noqa: D102 - Qt override
        self._workbench._restore(self._after)

    def undo(self) -> None:  # noqa: D102 - Qt override
        self._workbench._restore(self._before)


class Workbench(QObject):
    """Annotation columns, withheld labels and cluster columns of the session's data.

    Signals
    -------
    annotations_changed()
        Annotation columns or their labels changed (also on undo and redo).
    withheld_changed(object)
        The withheld-labels record changed; carries a
        :class:`~fadvi_gui.model.withheld.WithheldLabels` or None.
    """

    annotations_changed = Signal()
    withheld_changed = Signal(object)

    def __init__(self, session: Session) -> None:
        super().__init__(session)
        self._session = session
        self.undo_stack = QUndoStack(self)
        self.withheld: held.WithheldLabels | None = None

    @property
    def adata(self) -> AnnData | None:
        """The session's data (None before a file is open)."""
        return self._session.adata

    # ------------------------------------------------------------------ state
    def reset(self, adata: AnnData) -> None:
        """New data: forget the undo history; read the records saved with the data."""
        self.undo_stack.clear()
        self.withheld = held.read_record(adata)
        self.withheld_changed.emit(self.withheld)
        self.annotations_changed.emit()

    def columns(self) -> list[str]:
        """Return the annotation columns made in the app that the data still has."""
        adata = self.adata
        if adata is None:
            return []
        stored = adata.uns.get(notes.ANNOTATION_COLUMNS_KEY, [])
        return [str(c) for c in stored if str(c) in adata.obs]

    # ------------------------------------------------------------------ edits
    def withhold(self, *, labels_key: str, batch_key: str | None = None,
                 batches: list[str] | tuple[str, ...] = (), fraction: float | None = None,
                 seed: int = 0) -> held.WithheldLabels:
        """Hide labels into a new column (:func:`fadvi_gui.model.withheld.withhold_labels`), undoably."""
        adata = self._require()
        values, record = held.plan_withholding(adata.obs, labels_key=labels_key, batch_key=batch_key,
                                               batches=batches, fraction=fraction, seed=seed)
        self._apply(f"Withhold {record.description}", {record.column: values}, withheld=record)
        return record

    def new_column(self, name: str, *, start_from: str = notes.EMPTY_START) -> str:
        """Add the annotation column ``name`` (copied from ``start_from``); return its name."""
        adata = self._require()
        name = name.strip()
        if not name:
            raise ValueError("Type a name for the annotation column.")
        if name in adata.obs:
            raise ValueError(f"The data already has a column '{name}'. Choose another name.")
        self._apply(f"New column {name}", {name: notes.new_column(adata.obs, start_from)},
                    add_columns=[name])
        return name

    def label_cells(self, column: str, indices: ArrayLike, name: str) -> None:
        """Set the cells at positions ``indices`` to ``name`` in annotation column ``column``."""
        values = notes.label_cells(self._column(column), indices, name)
        self._apply(f"Label {len(np.atleast_1d(indices)):,} cells {name}", {column: values})

    def rename(self, column: str, old: str, new: str) -> None:
        """Rename label ``old`` to ``new`` in ``column``."""
        self._apply(f"Rename {old} to {new}", {column: notes.rename_label(self._column(column), old, new)})

    def merge(self, column: str, labels: list[str], new: str) -> None:
        """Replace every label in ``labels`` by ``new`` in ``column``."""
        self._apply(f"Merge into {new}", {column: notes.merge_labels(self._column(column), labels, new)})

    def import_table(self, report: notes.ImportReport) -> None:
        """Add the columns of an :class:`~fadvi_gui.model.annotation.ImportReport`."""
        self._require()
        categorical = [c for c, v in report.columns.items() if isinstance(v, pd.Categorical)]
        self._apply("Import annotations", dict(report.columns), add_columns=categorical)

    def set_columns(self, text: str, columns: Mapping[str, Any]) -> None:
        """Write computed ``obs`` columns (clusters, majority votes) undoably."""
        self._require()
        self._apply(text, dict(columns))

    # --------------------------------------------------------------- helpers
    def _require(self) -> AnnData:
        if self.adata is None:
            raise ValueError("Open data first.")
        return self.adata

    def _column(self, column: str) -> pd.Series:
        adata = self._require()
        if column not in self.columns():
            raise ValueError(f"'{column}' is not an annotation column. Make one with 'New column' "
                             "first; the original labels are never edited.")
        return adata.obs[column]

    def _snapshot(self, names: list[str]) -> _Snapshot:
        adata = self._require()
        shot: _Snapshot = {name: adata.obs[name].copy() if name in adata.obs else None for name in names}
        shot[notes.ANNOTATION_COLUMNS_KEY] = list(adata.uns.get(notes.ANNOTATION_COLUMNS_KEY, []))
        shot[WITHHELD_KEY] = self.withheld
        return shot

    def _apply(self, text: str, columns: Mapping[str, Any], *, add_columns: Sequence[str] = (),
               withheld: held.WithheldLabels | None = None) -> None:
        before = self._snapshot(list(columns))
        after = {**before, **{name: pd.Series(values, index=self.adata.obs.index, name=name)
                              for name, values in columns.items()}}
        after[notes.ANNOTATION_COLUMNS_KEY] = [*before[notes.ANNOTATION_COLUMNS_KEY],
                                               *[c for c in add_columns
                                                 if c not in before[notes.ANNOTATION_COLUMNS_KEY]]]
        if withheld is not None:
            after[WITHHELD_KEY] = withheld
        self.undo_stack.push(_ColumnEdit(self, text, before, after))

    def _restore(self, shot: _Snapshot) -> None:
        adata = self.adata
        if adata is None:
            return
        for name, values in shot.items():
            if name in (notes.ANNOTATION_COLUMNS_KEY, WITHHELD_KEY):
                continue
            if values is None:
                adata.obs.drop(columns=[name], inplace=True, errors="ignore")
            else:
                adata.obs[name] = values.to_numpy() if not isinstance(values.dtype, pd.CategoricalDtype) \
                    else values.array
        adata.uns[notes.ANNOTATION_COLUMNS_KEY] = list(shot[notes.ANNOTATION_COLUMNS_KEY])
        record = shot[WITHHELD_KEY]
        if record != self.withheld:
            self.withheld = record
            if record is None:
                adata.uns.pop(WITHHELD_KEY, None)
            else:
                adata.uns[WITHHELD_KEY] = record.as_dict()
            self.withheld_changed.emit(record)
        self._session.cells_changed.emit()
        self.annotations_changed.emit()


__all__ = ["Workbench"]
