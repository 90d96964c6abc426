"""Worker function for prediction sets and novelty scores (the `Session.run_job` protocol)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fadvi_gui.model.trust import trust_columns
from fadvi_gui.tasks.devices import reserve_core_for_ui

if TYPE_CHECKING:
    import pandas as pd

    from fadvi_core import FADVI

    from fadvi_gui.tasks._control import Control


def check_predictions(control: Control, model: FADVI, alpha: float) -> pd.DataFrame:
    """Conformal sets at error rate ``alpha`` and novelty scores of every cell, as the ``obs``
    columns of :func:`fadvi_gui.model.trust.trust_columns`."""
    reserve_core_for_ui()
    sets = model.predict_sets(alpha=alpha)
    if control.should_stop():
        from fadvi_core import Cancelled

        raise Cancelled("Stopped on request.")
    return trust_columns(sets, model.get_novelty_scores())
