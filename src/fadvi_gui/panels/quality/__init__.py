"""The integration-quality panel: how well the latent spaces keep batch and cell type apart."""

from __future__ import annotations

from fadvi_gui.panels.quality.panel import QualityPanel

__all__ = ["QualityPanel"]
