"""Fixtures for GUI tests: offscreen Qt, isolated QSettings, a window, small data files."""

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
import pytest  # noqa: E402
from scipy import sparse  # noqa: E402

from fadvi_gui.settings import SETTINGS_ENV, keep_settings_in  # noqa: E402

DEMO = _SRC.parent / "resources" / "pbmc_symphony.h5ad"


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory, monkeypatch) -> Path:
    """Keep every test's QSettings in its own INI file, away from the user's settings."""
    path = Path(keep_settings_in(tmp_path_factory.mktemp("settings")))
    monkeypatch.setenv(SETTINGS_ENV, str(path))
    return path


def close_window(qtbot, window) -> None:
    """Stop any work, wait for it, and close ``window`` without a question."""
    window.confirm_close = lambda: True
    window.session.cancel_all()
    window.session.wait(30_000)
    qtbot.waitUntil(lambda: not window.session.is_busy, timeout=30_000)
    window.close()


@pytest.fixture
def make_window(qtbot):
    """Return a factory of shown main windows that are shut down cleanly after the test."""
    from fadvi_gui.main_window import MainWindow

    windows = []

    def factory() -> MainWindow:
        window = MainWindow()  # closed by us below, after its workers ended
        window.show()
        windows.append(window)
        return window

    yield factory
    for window in windows:
        close_window(qtbot, window)
        window.deleteLater()


@pytest.fixture
def window(make_window):
    """A fresh main window with nothing open."""
    return make_window()


def wait_checked(qtbot, window, timeout: int = 30_000) -> None:
    """Wait until data is loaded and the checks for the current choices are done."""
    qtbot.waitUntil(
        lambda: window.session.adata is not None and window.session.checks_current
        and not window.session.is_busy,
        timeout=timeout,
    )


@pytest.fixture
def demo_window(qtbot, window):
    """A window with the demo data open and checked."""
    window.open_demo()
    wait_checked(qtbot, window)
    return window


def set_fast_model(panel, epochs: int) -> None:
    """Make training quick through the panel's own widgets: small network, few epochs."""
    panel.inputs["n_hidden"].setValue(16)
    panel.inputs["n_layers"].setValue(1)
    panel.inputs["n_latent_l"].setValue(8)
    panel.inputs["n_latent_b"].setValue(4)
    panel.inputs["n_latent_r"].setValue(4)
    panel.epochs_spin.setValue(epochs)
    panel.batch_spin.setValue(256)


def write_demo_variant(path: Path, *, normalise: bool, keep_counts_layer: bool,
                       empty_cells: int = 0, n_cells: int = 300) -> Path:
    """Write a small copy of the demo to ``path``: optionally normalised X, dropped layer, empty cells."""
    adata = anndata.read_h5ad(DEMO)[:n_cells].copy()
    counts = sparse.csr_matrix(adata.layers["counts"])
    if empty_cells:
        counts = counts.tolil()
        counts[:empty_cells] = 0
        counts = counts.tocsr()
        adata.layers["counts"] = counts
        adata.X = counts.copy()
    if normalise:
        totals = np.asarray(counts.sum(axis=1)).ravel()
        scaled = sparse.diags(1e4 / np.maximum(totals, 1)) @ counts
        adata.X = sparse.csr_matrix(np.log1p(scaled.toarray()).astype(np.float32))
    if not keep_counts_layer:
        del adata.layers["counts"]
    adata.write_h5ad(path)
    return path


HIDDEN_BATCH = "5p"


def write_hidden_batch(path: Path) -> Path:
    """Write the demo with the labels of batch "5p" replaced by "Unknown" (issue 5's test data)."""
    adata = anndata.read_h5ad(DEMO)
    labels = adata.obs["cell_type"].astype(str)
    labels[adata.obs["batch"] == HIDDEN_BATCH] = "Unknown"
    adata.obs["cell_type"] = labels.astype("category")
    adata.write_h5ad(path)
    return path


@pytest.fixture(scope="session")
def trained_window(qapp, tmp_path_factory, request):
    """One window, shared by the end-to-end tests: the demo with batch "5p" unlabelled, trained.

    Tests that use it run in file order and may build on each other's results
    (predictions, accepted labels); each only adds to the data.
    """
    from pytestqt.qtbot import QtBot
    from qtpy.QtCore import QSettings

    from fadvi_gui.main_window import MainWindow

    folder = tmp_path_factory.mktemp("trained_settings")
    with pytest.MonkeyPatch.context() as patch:
        for fmt in (QSettings.NativeFormat, QSettings.IniFormat):
            QSettings.setPath(fmt, QSettings.UserScope, str(folder))
        patch.setenv(SETTINGS_ENV, str(folder / "fadvi-gui.ini"))
        path = write_hidden_batch(tmp_path_factory.mktemp("hidden") / "hidden_5p.h5ad")
        window = MainWindow()
        window.show()
    bot = QtBot(request)
    window.open_file(path)
    bot.waitUntil(lambda: window.session.adata is not None and window.session.checks_current
                  and not window.session.is_busy, timeout=60_000)
    assert window.session.choices.unlabeled_category == "Unknown"
    set_fast_model(window.training_panel, epochs=15)
    window.training_panel.inputs["n_hidden"].setValue(64)
    window.training_panel.inputs["n_latent_l"].setValue(10)
    window.training_panel.train_button.click()
    bot.waitUntil(lambda: window.session.latents is not None and not window.session.is_busy,
                  timeout=300_000)
    yield window
    window.confirm_close = lambda: True
    window.session.cancel_all()
    window.session.wait(30_000)
    bot.waitUntil(lambda: not window.session.is_busy, timeout=30_000)
    window.close()
    window.deleteLater()
