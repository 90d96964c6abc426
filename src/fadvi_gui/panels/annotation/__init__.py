"""Annotation panel: withheld labels, manual annotation with undo, majority voting over clusters."""

from __future__ import annotations

from fadvi_gui.panels.annotation._annotate_box import AnnotateBox
from fadvi_gui.panels.annotation._cluster_box import ClusterBox
from fadvi_gui.panels.annotation._withhold_box import WithholdBox
from fadvi_gui.panels.annotation.panel import AnnotationPanel

__all__ = ["AnnotateBox", "AnnotationPanel", "ClusterBox", "WithholdBox"]
