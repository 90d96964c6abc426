"""FADVI inside napari: the app's panels as dock widgets and the cells as a Points layer.

The npe2 manifest (``napari.yaml``, entry point ``napari.manifest``) contributes the data,
training, predictions and explanations panels of :mod:`fadvi_gui` as dock widgets and a
reader for ``.h5ad`` files. Each viewer gets one FADVI session (:func:`bridge_for`); its
jobs run on napari's worker threads and show in napari's activity dock. Needs the
``napari`` extra: ``pip install -e ".[napari]"``.
"""

from __future__ import annotations

from typing import Any

#: The distribution's name, which is the plugin's name in napari.
PLUGIN_NAME = "fadvi-desktop"


def __getattr__(name: str) -> Any:
    # napari imports this package to find the manifest at start-up: the app (and torch)
    # load only when a FADVI dock or the reader is used.
    if name in ("FadviBridge", "bridge_for"):
        from fadvi_napari import _bridge

        return getattr(_bridge, name)
    raise AttributeError(f"module 'fadvi_napari' has no attribute {name!r}")


__all__ = ["PLUGIN_NAME", "FadviBridge", "bridge_for"]
