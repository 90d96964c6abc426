"""The latent viewer: embeddings of the latent spaces, colouring, selection."""

from __future__ import annotations

from fadvi_gui.panels.viewer.latent_view import LatentView

__all__ = ["LatentView"]
