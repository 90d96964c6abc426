"""Fixtures for the napari plugin's tests: isolated settings, a FADVI-saved file, a viewer.

Test files that need napari start with ``pytest.importorskip("napari")``, so the app's
test suite runs without the ``napari`` extra.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

_SRC = Path(__file__).resolve().parents[2] / "src"
if str(_SRC) not in sys.path:  # running from a source tree without an install
    sys.path.insert(0, str(_SRC))

import anndata  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from fadvi_gui.settings import SETTINGS_ENV, keep_settings_in  # noqa: E402

N_CELLS = 120
CLASSES = ("B", "T", "NK")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory, monkeypatch) -> Path:
    """Keep every test's QSettings in its own INI file, away from the user's settings."""
    path = Path(keep_settings_in(tmp_path_factory.mktemp("settings")))
    monkeypatch.setenv(SETTINGS_ENV, str(path))
    return path


def annotated_data(*, novelty: bool = True, seed: int = 0) -> anndata.AnnData:
    """Return a small AnnData as FADVI saves it: counts, latents, a z_l UMAP and predictions."""
    rng = np.random.default_rng(seed)
    counts = rng.poisson(2.0, size=(N_CELLS, 40)).astype(np.float32)
    labels = np.array(CLASSES)[np.arange(N_CELLS) % len(CLASSES)]
    obs = pd.DataFrame({
        "batch": pd.Categorical(np.where(np.arange(N_CELLS) < N_CELLS // 2, "b1", "b2")),
        "cell_type": pd.Categorical(labels),
        "fadvi_prediction": pd.Categorical(labels[::-1]),
        "fadvi_confidence": rng.uniform(0.3, 1.0, N_CELLS),
    }, index=[f"cell{i}" for i in range(N_CELLS)])
    if novelty:
        obs["fadvi_novelty"] = rng.uniform(0, 5, N_CELLS)
    adata = anndata.AnnData(counts, obs=obs)
    adata.var_names = [f"gene{i}" for i in range(adata.n_vars)]
    for key, width in (("X_fadvi_l", 6), ("X_fadvi_b", 4), ("X_fadvi_r", 4)):
        adata.obsm[key] = rng.normal(size=(N_CELLS, width)).astype(np.float32)
    adata.obsm["X_fadvi_l_umap"] = rng.normal(size=(N_CELLS, 2)).astype(np.float32)
    adata.uns["fadvi"] = {"settings": {"setup": {"batch_key": "batch", "labels_key": "cell_type"}}}
    return adata


@pytest.fixture
def saved_file(tmp_path) -> Path:
    """An .h5ad written as FADVI saves one (see :func:`annotated_data`)."""
    path = tmp_path / "annotated_fadvi.h5ad"
    annotated_data().write_h5ad(path)
    return path


@pytest.fixture
def viewer(make_napari_viewer, qtbot):
    """A napari viewer that knows the plugin; its FADVI jobs end before it closes."""
    from fadvi_napari._bridge import _BRIDGES
    from fadvi_napari._docking import ensure_registered

    ensure_registered()
    viewer = make_napari_viewer()
    yield viewer
    for bridge in list(_BRIDGES.values()):
        bridge.session.cancel_all()
        qtbot.waitUntil(lambda b=bridge: not b.session.is_busy, timeout=60_000)
