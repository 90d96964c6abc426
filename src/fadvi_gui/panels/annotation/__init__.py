"""Annotation panel: withheld labels, manual annotation with undo, majority voting over clusters."""

from __future__ import annotations

from fadvi_gui.panels.annotation.panel import AnnotationPanel

__all__ = ["AnnotationPanel"]
