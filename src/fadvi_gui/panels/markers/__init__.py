"""Marker-genes panel: differential expression with a table, a dot plot and a heat map."""

from __future__ import annotations

from fadvi_gui.panels.markers.panel import MarkersPanel

__all__ = ["MarkersPanel"]
