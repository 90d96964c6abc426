"""The ``.h5ad`` reader of the manifest.

In a napari window the file opens in the viewer's FADVI session (read in a job, the docks
shown), and the cells appear as a Points layer as soon as the data has latent spaces: at
once for a file FADVI saved, after training otherwise. The reader itself then returns
napari's "nothing to add" value. Without a window (``npe2`` or a script) it reads the file
and returns the cells' Points layer when the file holds an embedding of ``z_l``.
Reading never executes code from the file and never writes to it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any


LayerData = list[tuple[Any, ...]]


def get_reader(path: str | Sequence[str]) -> Callable[[Any], LayerData] | None:
    """Return :func:`read_h5ad` for one ``.h5ad`` file, else None (napari asks others)."""
    paths = [path] if isinstance(path, (str, Path)) else list(path)
    if len(paths) != 1 or not str(paths[0]).lower().endswith(".h5ad"):
        return None
    return read_h5ad


def read_h5ad(path: str | Sequence[str]) -> LayerData:
    """Open an ``.h5ad`` file in FADVI.

    Returns
    -------
    list
        ``[(None,)]`` (napari's "no layer") when a viewer takes the file: its FADVI session
        adds the cells' layer itself. Without a viewer, the cells' layer data
        ``[(coordinates, kwargs, "points")]`` from the file's stored ``z_l`` embedding,
        or ``[(None,)]`` if it has none.
    """
    import napari

    file = Path(path if isinstance(path, (str, Path)) else path[0])
    viewer = napari.current_viewer()
    if viewer is not None:
        from fadvi_napari._bridge import bridge_for
        from fadvi_napari._docking import show_docks

        show_docks(viewer)
        bridge_for(viewer).open(file)
        return [(None,)]
    return _points_from_file(file)


def _points_from_file(file: Path) -> LayerData:
    from fadvi_gui.model.keys import UNS_KEY
    from fadvi_gui.tasks.data import read_data
    from fadvi_napari._cells import (
        POINT_SIZE, cell_features, colour_feature, layer_name, point_coordinates,
        stored_embedding,
    )

    adata = read_data(None, file)
    stored = stored_embedding(adata, space="z_l")
    if stored is None:
        return [(None,)]
    setup = adata.uns.get(UNS_KEY, {}).get("settings", {}).get("setup", {})
    features = cell_features(adata.obs, batch_key=setup.get("batch_key"),
                             labels_key=setup.get("labels_key"))
    kwargs: dict[str, Any] = {"features": features, "size": POINT_SIZE, "border_width": 0,
                              "name": layer_name("z_l", stored[0])}
    colour = colour_feature(features)
    if colour is not None:
        kwargs["face_color"] = colour
    return [(point_coordinates(stored[1]), kwargs, "points")]


__all__ = ["get_reader", "read_h5ad"]
