"""Colour-blind-aware palettes as ``(n, 4)`` uint8 RGBA arrays.

Categories take the Okabe-Ito colours while there are at most eight of them;
past eight, further colours are picked greedily to be as far as possible (in
CIELAB) from every colour already chosen, the idea behind Glasbey's palettes.
Numbers use viridis.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: Okabe & Ito (2008), "Color Universal Design": distinguishable under the common colour-vision deficiencies.
OKABE_ITO: tuple[str, ...] = (
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#009E73",  # bluish green
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#F0E442",  # yellow
    "#000000",  # black
)
#: Cells with no value (NaN, missing category).
MISSING_RGBA: tuple[int, int, int, int] = (190, 190, 190, 255)
#: Cells outside the current selection are drawn in this colour, faintly.
DIMMED_RGBA: tuple[int, int, int, int] = (225, 225, 225, 255)

_MAX_GENERATED = 256


def hex_to_rgba(colour: str) -> tuple[int, int, int, int]:
    """Return ``(r, g, b, 255)`` for a ``"#RRGGBB"`` string."""
    text = colour.lstrip("#")
    return (int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16), 255)


def categorical_palette(n: int) -> np.ndarray:
    """Return ``n`` distinct colours.

    Parameters
    ----------
    n
        Number of categories.

    Returns
    -------
    numpy.ndarray
        ``(n, 4)`` uint8 RGBA; the first eight are Okabe-Ito. Past 256
        categories the palette repeats.
    """
    if n <= 0:
        return np.zeros((0, 4), dtype=np.uint8)
    full = _greedy_palette()
    return full[np.arange(n) % len(full)].copy()


def viridis_lut(n: int = 256) -> np.ndarray:
    """Return viridis sampled at ``n`` evenly spaced points, ``(n, 4)`` uint8 RGBA, dark to bright."""
    from matplotlib import colormaps

    rgba = colormaps["viridis"](np.linspace(0.0, 1.0, n))
    return np.round(rgba * 255).astype(np.uint8)


def _srgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """Convert ``(n, 3)`` sRGB in [0, 1] to CIELAB (D65)."""
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    to_xyz = np.array(
        [[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]
    )
    xyz = linear @ to_xyz.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16.0 / 116.0)
    lightness = 116.0 * f[:, 1] - 16.0
    a = 500.0 * (f[:, 0] - f[:, 1])
    b = 200.0 * (f[:, 1] - f[:, 2])
    return np.column_stack([lightness, a, b])


@lru_cache(maxsize=1)
def _greedy_palette() -> np.ndarray:
    seeds = np.array([hex_to_rgba(c)[:3] for c in OKABE_ITO], dtype=float)
    levels = np.linspace(0, 255, 18)
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(-1, 3)
    lab = _srgb_to_lab(grid / 255.0)
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    # Skip near-white (invisible on the background), near-black and greys (read as "missing").
    usable = (lab[:, 0] > 25) & (lab[:, 0] < 88) & (chroma > 20)
    grid, lab = grid[usable], lab[usable]
    avoid = _srgb_to_lab(np.array([MISSING_RGBA[:3], DIMMED_RGBA[:3]], dtype=float) / 255.0)
    chosen = list(seeds)
    taken = np.vstack([_srgb_to_lab(seeds / 255.0), avoid])
    distance = np.min(np.linalg.norm(lab[:, None, :] - taken[None, :, :], axis=2), axis=1)
    while len(chosen) < _MAX_GENERATED:
        pick = int(np.argmax(distance))
        chosen.append(grid[pick])
        distance = np.minimum(distance, np.linalg.norm(lab - lab[pick], axis=1))
    rgb = np.round(np.array(chosen)).astype(np.uint8)
    return np.column_stack([rgb, np.full(len(rgb), 255, dtype=np.uint8)])
