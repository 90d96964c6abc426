"""The integration-quality view: the disentanglement report as a table with help per row."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scvi
from scvi.data import synthetic_iid

from fadvi_gui.model.quality import quality_rows
from fadvi_gui.panels.quality import QualityPanel
from fadvi_gui.session import Session
from fadvi_gui.wiring.quality import QualityWiring

REPORT = pd.DataFrame({
    "space": ["b", "l", "b-l"], "measure": ["balanced_accuracy", "balanced_accuracy",
                                            "mean_abs_correlation"],
    "target": ["label", "label", ""], "value": [0.31, 0.97, 0.04], "chance": [0.25, 0.25, np.nan],
    "ideal": ["chance", "high", "zero"], "n_cells": [100, 100, 120]})


def test_each_row_says_what_to_expect(qtbot):
    panel = QualityPanel()
    qtbot.addWidget(panel)
    panel.show_report(quality_rows(REPORT))
    texts = [[panel.table.item(r, c).text() for c in range(4)] for r in range(3)]
    assert texts[0][:3] == ["Label from z_b (batch)", "0.31", "0.25"]
    assert "should be near chance" in texts[0][3]
    assert "should be high" in texts[1][3]
    assert texts[2][0].startswith("Correlation z_b ~ z_l") and "near zero" in texts[2][3]


@pytest.fixture
def trained_model():
    scvi.settings.seed = 0
    adata = synthetic_iid(batch_size=150, n_genes=40, n_batches=2, n_labels=3)
    from fadvi_core import FADVI

    FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    model = FADVI(adata, n_hidden=16, n_latent_b=4, n_latent_l=4, n_latent_r=2, n_layers=1)
    model.train(max_epochs=2, batch_size=32)
    return model


def test_a_trained_model_fills_the_table_from_a_worker(qtbot, trained_model):
    session = Session()
    panel = QualityPanel()
    qtbot.addWidget(panel)
    QualityWiring(session, panel)
    assert not panel.controls.run_buttons[0].isEnabled()
    session.adopt_model(trained_model)
    assert panel.controls.run_buttons[0].isEnabled()
    qtbot.mouseClick(panel.controls.run_buttons[0], 1)
    qtbot.waitUntil(lambda: panel.table.rowCount() == 12, timeout=60_000)
    assert panel.table.item(0, 0).text() == "Batch from z_b (batch)"
    session.shut_down()
