"""Flag cells as Unknown at a chosen error rate, with novelty scores, from the trust panel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scvi
from scvi.data import synthetic_iid

from fadvi_gui.model.keys import AT_ERROR_RATE_KEY, NOVELTY_KEY, PREDICTION_SET_KEY, SET_SIZE_KEY
from fadvi_gui.model.trust import summary, trust_columns
from fadvi_gui.panels.trust import TrustPanel
from fadvi_gui.session import Session
from fadvi_gui.wiring.trust import TrustWiring


def test_sets_become_text_sizes_and_unknown():
    sets = pd.DataFrame({"T_CD4": [True, True, False], "T_CD8": [False, True, False]},
                        index=["a", "b", "c"])
    columns = trust_columns(sets, pd.Series([0.1, 0.2, 0.9], index=["a", "b", "c"]))
    assert list(columns[PREDICTION_SET_KEY]) == ["T_CD4", "T_CD4 or T_CD8", ""]
    assert list(columns[SET_SIZE_KEY]) == [1, 2, 0]
    assert list(columns[AT_ERROR_RATE_KEY]) == ["T_CD4", "Unknown", "Unknown"]
    assert "1 cells have one type, 1 could be several" in summary(columns, 0.1)


@pytest.fixture
def data_and_model():
    scvi.settings.seed = 0
    adata = synthetic_iid(batch_size=150, n_genes=40, n_batches=2, n_labels=3)
    from fadvi_core import FADVI

    FADVI.setup_anndata(adata, batch_key="batch", labels_key="labels")
    model = FADVI(adata, n_hidden=16, n_latent_b=4, n_latent_l=4, n_latent_r=2, n_layers=1)
    model.train(max_epochs=2, batch_size=32)
    return adata, model


def test_flagging_writes_sets_and_novelty_into_the_data(qtbot, data_and_model):
    adata, model = data_and_model
    session = Session()
    session._set_data(adata, None)
    panel = TrustPanel()
    qtbot.addWidget(panel)
    TrustWiring(session, panel)
    session.adopt_model(model)
    assert panel.controls.run_buttons[0].isEnabled()
    panel.error_spin.setValue(20)
    with qtbot.waitSignal(session.cells_changed, timeout=60_000):
        qtbot.mouseClick(panel.controls.run_buttons[0], 1)
    obs = session.adata.obs
    assert obs[SET_SIZE_KEY].between(0, 3).all() and np.isfinite(obs[NOVELTY_KEY]).all()
    assert set(obs[AT_ERROR_RATE_KEY]) <= {"Unknown", "label_0", "label_1", "label_2"}
    assert "20% error rate" in panel.summary_label.text()
    session.shut_down()


def test_review_table_shows_each_cells_set_and_novelty(qtbot):
    import anndata as ad
    from qtpy.QtCore import Qt

    from fadvi_gui.model import results
    from fadvi_gui.model.keys import CONFIDENCE_KEY, PREDICTION_KEY
    from fadvi_gui.panels.predictions._review_table import ReviewModel

    obs = pd.DataFrame({"batch": ["a", "b"], "labels": ["T_CD4", "Unknown"],
                        PREDICTION_KEY: ["T_CD4", "T_CD8"], CONFIDENCE_KEY: [0.9, 0.5]},
                       index=["c1", "c2"])
    adata = ad.AnnData(np.zeros((2, 3), dtype=np.float32), obs=obs)
    table = results.review_table(adata, batch_key="batch", labels_key="labels",
                                 unlabeled_category="Unknown")
    assert list(table["prediction_set"]) == ["", ""] and table["novelty"].isna().all()

    adata.obs[PREDICTION_SET_KEY] = ["T_CD4", "T_CD4 or T_CD8"]
    adata.obs[NOVELTY_KEY] = [0.12, 0.61]
    model = ReviewModel()
    model.set_table(results.review_table(adata, batch_key="batch", labels_key="labels",
                                         unlabeled_category="Unknown"))
    headers = [model.headerData(c, Qt.Horizontal) for c in range(model.columnCount())]
    shown = {h: [model.data(model.index(r, headers.index(h))) for r in range(2)]
             for h in ("Set", "Novelty")}
    assert shown == {"Set": ["T_CD4", "T_CD4 or T_CD8"], "Novelty": ["0.120", "0.610"]}
    model.sort(headers.index("Novelty"), Qt.DescendingOrder)
    assert model.data(model.index(0, headers.index("Set"))) == "T_CD4 or T_CD8"
