"""The trust panel: flag cells at a chosen error rate, with novelty scores."""

from __future__ import annotations

from fadvi_gui.panels.trust.panel import TrustPanel

__all__ = ["TrustPanel"]
