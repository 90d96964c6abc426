"""Worker functions, by area: each runs on a worker thread, takes a :class:`Control` first,
calls ``fadvi_core`` (or scanpy, umap) and returns plain data. None touches Qt widgets.

- :mod:`~fadvi_gui.tasks.data`: read, check and save the data.
- :mod:`~fadvi_gui.tasks.training`: the training copy, the model, its latent spaces.
- :mod:`~fadvi_gui.tasks.model_files`: save and load models; map new data onto one.
- :mod:`~fadvi_gui.tasks.viewer`: embeddings and gene values for the latent viewer.
- :mod:`~fadvi_gui.tasks.predictions`: predict labels or batches; explain predictions.
"""

from __future__ import annotations

from fadvi_gui.tasks._control import Control

__all__ = ["Control"]
