"""Project files without a model: what is saved, a changed or missing data file, a damaged project."""

from __future__ import annotations

import zipfile

import anndata
import numpy as np
from conftest import wait_checked, write_demo_variant
from qtpy.QtCore import Qt

from fadvi_gui.model.project_io import read_project


def idle(window) -> bool:
    return not window.session.is_busy


def save(qtbot, window, path) -> None:
    with qtbot.waitSignal(window.session.projects.saved, timeout=60_000):
        window.workbench.project_wiring.save_project(path)


def test_project_restores_annotations_and_choices_and_never_pickles(qtbot, tmp_path, make_window):
    data = write_demo_variant(tmp_path / "cells.h5ad", normalise=False, keep_counts_layer=True)
    window = make_window()
    window.open_file(data)
    wait_checked(qtbot, window)
    window.data_panel.labels_combo.setCurrentText("cell_type_broad")
    wait_checked(qtbot, window)
    box = window.workbench.annotation_panel.annotate
    box.new_name_edit.setText("mine")
    qtbot.mouseClick(box.new_button, Qt.LeftButton)
    window.viewer.set_selection(np.arange(5))
    box.name_combo.setCurrentText("Five")
    qtbot.mouseClick(box.label_button, Qt.LeftButton)
    before = data.read_bytes()
    save(qtbot, window, tmp_path / "p.fadvi")
    assert data.read_bytes() == before  # the data file is referenced, never written
    with zipfile.ZipFile(tmp_path / "p.fadvi") as archive:
        assert sorted(archive.namelist()) == ["obs.npz", "obsm.npz", "project.json"]
    project = read_project(tmp_path / "p.fadvi")
    assert project.state["data"]["sha256"] and project.state["choices"]["labels_key"] == "cell_type_broad"

    other = make_window()
    with qtbot.waitSignal(other.session.projects.opened, timeout=60_000):
        other.workbench.project_wiring.open_project(tmp_path / "p.fadvi")
    qtbot.waitUntil(lambda: idle(other) and other.session.checks_current, timeout=60_000)
    assert other.session.choices.labels_key == "cell_type_broad"
    assert list(other.session.adata.obs["mine"].astype(str)[:6]) == ["Five"] * 5 + ["Unlabelled"]
    assert other.workbench.annotation_panel.annotate.column() == "mine"


def test_changed_data_asks_and_missing_data_explains(qtbot, tmp_path, make_window):
    data = write_demo_variant(tmp_path / "cells.h5ad", normalise=False, keep_counts_layer=True)
    window = make_window()
    window.open_file(data)
    wait_checked(qtbot, window)
    save(qtbot, window, tmp_path / "p.fadvi")

    changed = anndata.read_h5ad(data)
    changed.obs["note"] = "edited"
    changed.write_h5ad(data)
    questions = []
    window.ask_yes_no = lambda title, text: questions.append(text) or False
    window.workbench.project_wiring.open_project(tmp_path / "p.fadvi")
    qtbot.waitUntil(lambda: bool(questions) and idle(window), timeout=60_000)
    assert "cells.h5ad has changed since the project was saved" in questions[0]
    assert "note" not in window.session.adata.obs  # not opened: the user said no

    window.ask_yes_no = lambda title, text: True  # open anyway: cells matched by name
    with qtbot.waitSignal(window.session.projects.opened, timeout=60_000):
        window.workbench.project_wiring.open_project(tmp_path / "p.fadvi")
    assert "note" in window.session.adata.obs
    qtbot.waitUntil(lambda: idle(window), timeout=60_000)

    data.unlink()
    with qtbot.waitSignal(window.dialog_shown, timeout=60_000) as shown:
        window.workbench.project_wiring.open_project(tmp_path / "p.fadvi")
    assert "cells.h5ad is missing" in shown.args[0].text()


def test_a_file_that_is_not_a_project_gets_a_plain_message(qtbot, tmp_path, window):
    fake = tmp_path / "fake.fadvi"
    fake.write_bytes(b"not a zip at all")
    with qtbot.waitSignal(window.dialog_shown, timeout=60_000) as shown:
        window.workbench.project_wiring.open_project(fake)
    assert "not a FADVI project" in shown.args[0].text()
