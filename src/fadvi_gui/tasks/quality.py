"""Worker function for the integration-quality report (the `Session.run_job` protocol)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fadvi_gui.tasks.devices import reserve_core_for_ui

if TYPE_CHECKING:
    import pandas as pd

    from fadvi_core import FADVI

    from fadvi_gui.tasks._control import Control


def disentanglement_report(control: Control, model: FADVI) -> pd.DataFrame:
    """`FADVI.get_disentanglement_report` of the model on its own data."""
    reserve_core_for_ui()
    return model.get_disentanglement_report()
