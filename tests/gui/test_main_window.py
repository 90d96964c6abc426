"""The window: menus, shortcuts, recent files, drag and drop, saving, About."""

from __future__ import annotations

import anndata
from conftest import DEMO, set_fast_model, wait_checked, write_demo_variant
from qtpy.QtCore import QMimeData, QPoint, Qt, QUrl
from qtpy.QtGui import QDropEvent, QKeySequence

from fadvi_gui.app import parse_args
from fadvi_gui.main_window import demo_path


def test_empty_window_offers_demo_and_open(window):
    assert window.data_panel.demo_button.isVisible()
    assert window.data_panel.open_button.isVisible()
    assert not window.training_panel.train_button.isEnabled()
    assert window.open_action.shortcut() == QKeySequence(QKeySequence.Open)
    assert window.quit_action.shortcut() == QKeySequence("Ctrl+Q")
    assert demo_path() == DEMO


def test_demo_button_opens_demo_and_lists_it_as_recent(qtbot, window):
    qtbot.mouseClick(window.data_panel.demo_button, Qt.LeftButton)
    wait_checked(qtbot, window)
    assert window.session.adata.n_obs == 1200
    assert window.data_label.text() == "1,200 cells x 1,767 genes"
    recent = [a.text() for a in window.recent_menu.actions() if a.text()]
    assert recent[0] == str(DEMO)


def test_status_bar_says_what_runs(qtbot, window):
    texts = []
    window.session.busy_changed.connect(texts.append)
    window.open_demo()
    wait_checked(qtbot, window)
    assert any(t.startswith("Opening pbmc_symphony.h5ad") for t in texts)
    assert window.busy_label.text() == ""


def test_dropping_a_file_opens_it(qtbot, tmp_path, window):
    path = write_demo_variant(tmp_path / "dropped.h5ad", normalise=False, keep_counts_layer=True)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPoint(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    window.dropEvent(event)
    wait_checked(qtbot, window)
    assert window.session.path == path
    assert window.session.adata.n_obs == 300


def test_save_as_writes_latents_atomically_and_never_the_input(qtbot, tmp_path, window):
    source = write_demo_variant(tmp_path / "input.h5ad", normalise=False, keep_counts_layer=True)
    before = source.read_bytes()
    window.open_file(source)
    wait_checked(qtbot, window)
    set_fast_model(window.training_panel, epochs=1)
    with qtbot.waitSignal(window.session.training_ended, timeout=120_000):
        qtbot.mouseClick(window.training_panel.train_button, Qt.LeftButton)

    with qtbot.waitSignal(window.dialog_shown, timeout=10_000) as refused:
        window.save_as(source)
    assert "never overwritten" in refused.args[0].text()

    target = tmp_path / "out.h5ad"
    with qtbot.waitSignal(window.session.saved, timeout=60_000):
        window.save_as(target)
    saved = anndata.read_h5ad(target)
    assert saved.obsm["X_fadvi_l"].shape == (300, 8)
    assert saved.obsm["X_fadvi_b"].shape == (300, 4)
    assert saved.obsm["X_fadvi_r"].shape == (300, 4)
    assert saved.uns["fadvi"]["settings"]["setup"]["labels_key"] == "cell_type"
    assert "versions" in saved.uns["fadvi"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["input.h5ad", "out.h5ad", "out_rerun.py"]
    script = (tmp_path / "out_rerun.py").read_text()
    compile(script, "out_rerun.py", "exec")  # a valid script (the workbench's rerun script)
    assert "labels_key='cell_type'" in script and "max_epochs=1," in script
    assert source.read_bytes() == before
    assert "_scvi_manager_uuid" not in window.session.adata.uns


def test_about_lists_versions(window):
    box = window.show_about()
    assert "scvi-tools" in box.text() and "torch" in box.text()
    assert window.last_dialog is box


def test_command_line():
    assert parse_args(["--demo"]).demo
    assert parse_args(["data.h5ad"]).path == "data.h5ad"
    assert parse_args([]).path is None and not parse_args([]).demo
