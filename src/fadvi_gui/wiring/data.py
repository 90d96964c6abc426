"""Wiring of the data panel: setup choices to the session (and QSettings), checks back.

Opening files stays with the window (file dialogs, recent files); this module handles
what happens once the session holds the data.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from qtpy.QtCore import QObject, QSettings

from fadvi_gui import settings as stored
from fadvi_gui.model.choices import DataChoices

if TYPE_CHECKING:
    from fadvi_gui.panels.data import DataPanel
    from fadvi_gui.session import Session

#: QSettings key of the last setup choices, offered again for the next file.
CHOICES_KEY = "data/choices"


class DataWiring(QObject):
    """Connects a :class:`DataPanel` to a session.

    Parameters
    ----------
    session
        Holds the data and runs the input checks.
    panel
        The data panel.
    settings
        Where the last choices are remembered for the next file.
    """

    def __init__(self, session: Session, panel: DataPanel, settings: QSettings,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.panel = panel
        self.settings = settings
        panel.choices_changed.connect(self._on_panel_choices_changed)
        panel.drop_cells_requested.connect(session.drop_cells)
        session.data_loaded.connect(self._on_session_data_loaded)
        session.problems_changed.connect(panel.show_problems)
        session.training_started.connect(lambda _settings: panel.set_locked(True))
        session.training_ended.connect(lambda _outcome: panel.set_locked(False))

    def _on_panel_choices_changed(self, choices: DataChoices) -> None:
        if not self.session.reference.active:  # the joint data's columns mean nothing elsewhere
            stored.write_json(self.settings, CHOICES_KEY, choices.as_dict())
        self.session.set_choices(choices)

    def _on_session_data_loaded(self, adata: Any) -> None:
        path = self.session.path
        preferred = DataChoices(**_choices_kwargs(stored.read_json(self.settings, CHOICES_KEY, {})))
        withheld = self.session.workbench.withheld
        if withheld is not None:  # data set up for testing label transfer (the demo)
            preferred = replace(preferred, labels_key=withheld.column,
                                unlabeled_category=withheld.unlabeled_category)
        reference = self.session.reference.state
        if reference is not None:  # the open data joined with a reference: its columns
            preferred = reference.choices()
        self.panel.set_data(adata, path.name if path else "data", preferred)
        self.panel.show_reference(reference.summary_html() if reference is not None else None)


def _choices_kwargs(values: Any) -> dict[str, Any]:
    """Return stored choices as DataChoices keyword arguments, dropping unknown keys."""
    if not isinstance(values, dict):
        return {}
    fields = DataChoices.__dataclass_fields__
    out = {k: v for k, v in values.items() if k in fields}
    for key in ("categorical_covariate_keys", "continuous_covariate_keys"):
        out[key] = tuple(out.get(key) or ())
    return out


__all__ = ["DataWiring"]
