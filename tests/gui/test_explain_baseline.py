"""The explanation view says which attribution baseline its genes were measured against."""

from __future__ import annotations

import numpy as np
import pandas as pd

from fadvi_gui.model.explain import RANKED_COLUMNS, ExplainResult, method_args
from fadvi_gui.panels.explain import ExplainPanel


def _result(method: str, baseline: str) -> ExplainResult:
    table = pd.DataFrame({"feature": ["LYZ", "CD14"], "feature_idx": [0, 1],
                          "attribution_mean": [0.5, 0.2], "attribution_std": [0.1, 0.1],
                          "attribution_abs_mean": [0.5, 0.2], "n_cells": [3, 3]})[list(RANKED_COLUMNS)]
    return ExplainResult(method=method, scope="class", tables={"Mono_CD14": table},
                         by_label=pd.DataFrame(), indices=np.arange(3),
                         predictions=np.array(["Mono_CD14"] * 3), baseline=baseline)


def test_the_view_names_the_baseline(qtbot):
    panel = ExplainPanel()
    qtbot.addWidget(panel)
    panel.set_result(_result("ig", "other_classes"))
    assert "other cell types" in panel.baseline_label.text()
    panel.set_result(_result("gs", "zero"))
    assert "no expression" in panel.baseline_label.text()
    panel.clear()
    assert panel.baseline_label.text() == ""


def test_the_app_asks_the_engine_for_the_measured_baselines():
    assert method_args("ig", 20, 0)["baselines"] == "other_classes"
    assert method_args("gs", 20, 0)["baselines"] == "zero"
