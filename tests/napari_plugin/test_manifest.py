"""The npe2 manifest: valid, named as the distribution, with four docks and an .h5ad reader."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib.resources import files
from pathlib import Path

import pytest

npe2 = pytest.importorskip("npe2")

ROOT = Path(__file__).resolve().parents[2]


def _manifest():
    return npe2.PluginManifest.from_file(str(files("fadvi_napari") / "napari.yaml"))


def test_manifest_is_valid_and_named_as_the_distribution():
    manifest = _manifest()
    manifest.validate_imports()  # every command's python_name imports
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert manifest.name == project["name"]
    entry = project["entry-points"]["napari.manifest"]
    assert entry == {project["name"]: "fadvi_napari:napari.yaml"}


def test_manifest_offers_the_four_panels_the_cells_dock_and_an_h5ad_reader():
    contributions = _manifest().contributions
    assert [w.display_name for w in contributions.widgets] == [
        "Data", "Training", "Predictions", "Explanations", "Cells"]
    (reader,) = contributions.readers
    assert reader.filename_patterns == ["*.h5ad"]


def test_loading_the_manifest_does_not_load_the_app():
    # napari imports the package at start-up to find the manifest: that must stay cheap.
    code = ("import sys, fadvi_napari; "
            "print(sorted(m for m in ('torch', 'fadvi_gui', 'fadvi_core', 'napari') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(ROOT / "src"), "PATH": ""})
    assert out.stdout.strip() == "[]"
