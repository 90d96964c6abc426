"""Last-used choices, recent files and layout survive closing the window."""

from __future__ import annotations

from conftest import DEMO, close_window, wait_checked
from qtpy.QtCore import QSettings, Qt

from fadvi_gui import settings as stored


def test_last_choices_round_trip_through_qsettings(qtbot, make_window, isolated_settings):
    first = make_window()
    first.open_demo()
    wait_checked(qtbot, first)
    first.data_panel.labels_combo.setCurrentText("cell_type_broad")
    first.data_panel.hvg_box.setChecked(True)
    first.data_panel.hvg_spin.setValue(800)
    first.data_panel.hvg_spin.editingFinished.emit()
    first.data_panel.continuous_list.findItems("percent_mito", Qt.MatchExactly)[0].setCheckState(Qt.Checked)
    wait_checked(qtbot, first)
    first.training_panel.inputs["n_latent_l"].setValue(12)
    first.training_panel.inputs["gene_likelihood"].setCurrentText("nb")
    first.training_panel.epochs_spin.setValue(7)
    close_window(qtbot, first)
    assert isolated_settings.exists()

    second = make_window()
    assert second.training_panel.inputs["n_latent_l"].value() == 12
    assert second.training_panel.inputs["gene_likelihood"].currentText() == "nb"
    assert second.training_panel.epochs_spin.value() == 7
    assert second.recent_menu.actions()[0].text() == str(DEMO)
    second.open_demo()
    wait_checked(qtbot, second)
    choices = second.session.choices
    assert choices.labels_key == "cell_type_withheld"  # the demo always selects its withheld labels
    assert choices.n_top_genes == 800
    assert choices.continuous_covariate_keys == ("percent_mito",)


def test_settings_file_is_isolated(isolated_settings):
    settings = stored.open_settings()
    assert settings.format() == QSettings.IniFormat
    assert settings.fileName() == str(isolated_settings)
    stored.add_recent_file(settings, "/a.h5ad")
    stored.add_recent_file(settings, "/b.h5ad")
    stored.add_recent_file(settings, "/a.h5ad")
    assert stored.recent_files(settings) == ["/a.h5ad", "/b.h5ad"]
