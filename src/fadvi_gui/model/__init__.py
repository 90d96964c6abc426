"""The app's data model, Qt-free: names, choices, results and their files, embeddings, explanations.

- :mod:`~fadvi_gui.model.keys`: every obs/obsm/uns name the app writes, and the loss terms.
- :mod:`~fadvi_gui.model.choices`: how the data maps onto the model; training settings.
- :mod:`~fadvi_gui.model.results`, :mod:`~fadvi_gui.model.results_io`: predictions, review,
  acceptance; saving and exporting them.
- :mod:`~fadvi_gui.model.embedding`: 2-D embeddings of the latent spaces.
- :mod:`~fadvi_gui.model.explain`: gene attributions per class.
"""

from __future__ import annotations
