"""Colour-blind-aware palettes as ``(n, 4)`` uint8 RGBA arrays.

Categories take the Okabe-Ito colours while there are at most eight of them;
past eight, further colours are picked greedily to be as far as possible (in
CIELAB) from every colour already chosen, the idea behind Glasbey's palettes.
The distance used is the smallest of those seen with normal vision, with
protanopia and with deuteranopia (simulated as in Machado et al. 2009), so
the added colours stay apart for most colour-blind readers too. Numbers use
viridis.
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
    if n <= len(OKABE_ITO):
        return np.array([hex_to_rgba(c) for c in OKABE_ITO[:n]], dtype=np.uint8)
    full = _greedy_palette(min(_MAX_GENERATED, 32 * -(-n // 32)))
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


#: Linear-RGB simulation matrices of Machado, Oliveira & Fernandes (2009), severity 1.
_PROTANOPIA = np.array(
    [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]]
)
_DEUTERANOPIA = np.array(
    [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]]
)


def _as_seen(rgb: np.ndarray) -> list[np.ndarray]:
    """CIELAB of ``(n, 3)`` sRGB in [0, 1] as seen with normal vision, protanopia and deuteranopia."""
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    views = [rgb]
    for matrix in (_PROTANOPIA, _DEUTERANOPIA):
        simulated = np.clip(linear @ matrix.T, 0.0, 1.0)
        views.append(np.where(simulated <= 0.0031308, simulated * 12.92, 1.055 * simulated ** (1 / 2.4) - 0.055))
    return [_srgb_to_lab(v) for v in views]


def _min_distance(views: list[np.ndarray], taken: list[np.ndarray]) -> np.ndarray:
    """For each candidate, the smallest Lab distance to any taken colour under any of the three visions."""
    return np.min(
        [np.linalg.norm(v[:, None, :] - t[None, :, :], axis=2).min(axis=1) for v, t in zip(views, taken)],
        axis=0,
    )


@lru_cache(maxsize=4)
def _greedy_palette(count: int) -> np.ndarray:
    """The first ``count`` colours: Okabe-Ito, then greedy picks (each prefix is the same for any ``count``)."""
    seeds = np.array([hex_to_rgba(c)[:3] for c in OKABE_ITO], dtype=float)
    levels = np.linspace(0, 255, 16)
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(-1, 3)
    lab = _srgb_to_lab(grid / 255.0)
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    # Skip near-white (invisible on the background), near-black and greys (read as "missing").
    usable = (lab[:, 0] > 30) & (lab[:, 0] < 85) & (chroma > 25)
    grid = grid[usable]
    views = _as_seen(grid / 255.0)
    avoid = np.array([MISSING_RGBA[:3], DIMMED_RGBA[:3], (255, 255, 255)], dtype=float)
    taken = _as_seen(np.vstack([seeds, avoid]) / 255.0)
    distance = _min_distance(views, taken)
    chosen = list(seeds)
    while len(chosen) < count:
        pick = int(np.argmax(distance))
        chosen.append(grid[pick])
        distance = np.minimum(distance, _min_distance(views, [v[pick : pick + 1] for v in views]))
    rgb = np.round(np.array(chosen)).astype(np.uint8)
    return np.column_stack([rgb, np.full(len(rgb), 255, dtype=np.uint8)])
