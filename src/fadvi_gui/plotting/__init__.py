"""Drawing for the latent viewer: a scatter item fast at a million points, palettes, selection, export.

Modules without Qt (``palettes``, ``colouring``, ``lasso``, ``locate``, ``raster``)
hold the numbers; the others (``scatter_item``, ``selection_box``, ``canvas``,
``legend``, ``export``, ``export_dialog``) draw them.
"""
