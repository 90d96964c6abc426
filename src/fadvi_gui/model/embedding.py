"""Two-dimensional embeddings (PCA, UMAP) of FADVI's latent spaces, without Qt.

A worker thread calls :func:`compute_embedding` with plain-callable hooks: a
``progress_callback`` that receives :class:`EmbeddingProgress` records and a
``should_stop`` check. When ``should_stop`` returns True the computation ends
by raising :class:`EmbeddingCancelled`.

The latent spaces the viewer offers, and where they live in ``obsm``:

=========== ========================== ======================
space       latent ``obsm`` keys       embedding key (UMAP)
=========== ========================== ======================
``z_l``     ``X_fadvi_l``              ``X_fadvi_l_umap``
``z_b``     ``X_fadvi_b``              ``X_fadvi_b_umap``
``z_r``     ``X_fadvi_r``              ``X_fadvi_r_umap``
``z_l+z_r`` ``X_fadvi_l``, ``_r``      ``X_fadvi_lr_umap``
``all``     ``X_fadvi_b``, ``_l``, ``_r`` ``X_fadvi_all_umap``
=========== ========================== ======================

Use :func:`space_latent` to build the matrix of a space from ``obsm`` and
:func:`embedding_key` for the ``obsm`` key its embedding is stored under.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np

from fadvi_core._hooks import StopCheck
from fadvi_gui.model.keys import LATENT_B, LATENT_L, LATENT_R

Space = Literal["z_l", "z_b", "z_r", "z_l+z_r", "all"]
Method = Literal["pca", "umap"]

#: Spaces in the order the viewer lists them; ``z_l`` is the default.
SPACES: tuple[str, ...] = ("z_l", "z_b", "z_r", "z_l+z_r", "all")
#: What the viewer shows for each space.
SPACE_LABELS: dict[str, str] = {
    "z_l": "z_l (cell type)",
    "z_b": "z_b (batch)",
    "z_r": "z_r (residual)",
    "z_l+z_r": "[z_l, z_r]",
    "all": "all of them",
}
METHODS: tuple[str, ...] = ("umap", "pca")
METHOD_LABELS: dict[str, str] = {"umap": "UMAP", "pca": "PCA"}

_LATENT_KEYS: dict[str, tuple[str, ...]] = {
    "z_l": (LATENT_L,),
    "z_b": (LATENT_B,),
    "z_r": (LATENT_R,),
    "z_l+z_r": (LATENT_L, LATENT_R),
    "all": (LATENT_B, LATENT_L, LATENT_R),
}
_KEY_STEMS: dict[str, str] = {"z_l": "l", "z_b": "b", "z_r": "r", "z_l+z_r": "lr", "all": "all"}


class EmbeddingCancelled(Exception):
    """Raised by :func:`compute_embedding` when ``should_stop`` returned True."""


@dataclass(frozen=True)
class EmbeddingProgress:
    """What ``progress_callback`` receives: a fraction in [0, 1] and the current step in words."""

    fraction: float
    message: str


ProgressCallback = Callable[[EmbeddingProgress], None]


def _check_space(space: str) -> None:
    if space not in _LATENT_KEYS:
        raise ValueError(f"Unknown latent space {space!r}. Choose one of {', '.join(SPACES)}.")


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"Unknown embedding method {method!r}. Choose 'umap' or 'pca'.")


def space_latent_keys(space: Space) -> tuple[str, ...]:
    """Return the ``obsm`` keys whose matrices, side by side, make up ``space``."""
    _check_space(space)
    return _LATENT_KEYS[space]


def space_latent(obsm: Mapping[str, np.ndarray], space: Space) -> np.ndarray:
    """Build the latent matrix of ``space`` from ``obsm``.

    Parameters
    ----------
    obsm
        ``adata.obsm`` or any mapping holding ``X_fadvi_l``, ``X_fadvi_b``, ``X_fadvi_r``.
    space
        One of :data:`SPACES`.

    Returns
    -------
    numpy.ndarray
        ``(n_cells, n_dims)`` float32, the space's matrices concatenated column-wise.
    """
    keys = space_latent_keys(space)
    missing = [k for k in keys if k not in obsm]
    if missing:
        raise KeyError(
            f"obsm has no {', '.join(missing)}. Train a FADVI model (or load one) and compute "
            "its latent representation first."
        )
    return np.hstack([np.asarray(obsm[k], dtype=np.float32) for k in keys])


def embedding_key(space: Space, method: Method) -> str:
    """Return the ``obsm`` key of an embedding, e.g. ``X_fadvi_l_umap`` for ``("z_l", "umap")``."""
    _check_space(space)
    _check_method(method)
    return f"X_fadvi_{_KEY_STEMS[space]}_{method}"


def compute_embedding(
    latent: np.ndarray,
    method: Method,
    *,
    progress_callback: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
    seed: int = 0,
    n_neighbors: int = 15,
    min_dist: float = 0.3,
) -> np.ndarray:
    """Compute a 2-D embedding of a latent matrix.

    Parameters
    ----------
    latent
        ``(n_cells, n_dims)`` latent representation, e.g. from :func:`space_latent`.
    method
        ``"pca"`` (exact, under a second at a million cells) or ``"umap"``
        (minutes at a million cells; initialised from the PCA).
    progress_callback
        Called with :class:`EmbeddingProgress` as the work advances.
    should_stop
        Checked between steps and, for UMAP, during the layout epochs; when it
        returns True the function raises :class:`EmbeddingCancelled`.
    seed
        Random seed; the same seed gives the same embedding.
    n_neighbors, min_dist
        UMAP's neighbourhood size and minimum distance; ignored for PCA.

    Returns
    -------
    numpy.ndarray
        ``(n_cells, 2)`` float32 coordinates.
    """
    _check_method(method)
    report = progress_callback or (lambda _progress: None)
    stop = should_stop or (lambda: False)
    x = _checked_latent(latent, method)
    _raise_if_stopped(stop)
    report(EmbeddingProgress(0.0, "Computing PCA"))
    pca = _pca_2d(x)
    if method == "pca":
        report(EmbeddingProgress(1.0, "PCA done"))
        return pca
    report(EmbeddingProgress(0.05, "Finding nearest neighbours"))
    _raise_if_stopped(stop)
    coords = _umap_2d(x, pca, report, stop, seed=seed, n_neighbors=n_neighbors, min_dist=min_dist)
    report(EmbeddingProgress(1.0, "UMAP done"))
    return coords


def _raise_if_stopped(stop: StopCheck) -> None:
    if stop():
        raise EmbeddingCancelled("The embedding was cancelled.")


def _checked_latent(latent: np.ndarray, method: str) -> np.ndarray:
    x = np.asarray(latent, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(
            f"The latent matrix must be 2-D (cells x dimensions), got shape {x.shape}."
        )
    minimum = 4 if method == "umap" else 2
    if x.shape[0] < minimum:
        raise ValueError(
            f"A {METHOD_LABELS[method]} needs at least {minimum} cells; this matrix has {x.shape[0]}."
        )
    if not np.isfinite(x).all():
        raise ValueError(
            "The latent matrix holds NaN or infinite values. Retrain the model; if it happens "
            "again, lower the learning rate."
        )
    return x


def _pca_2d(x: np.ndarray) -> np.ndarray:
    """Project onto the top two principal axes (eigenvectors of the covariance), signs fixed."""
    centred = x - x.mean(axis=0, dtype=np.float64).astype(np.float32)
    cov = centred.T.astype(np.float64) @ centred.astype(np.float64) / max(len(x) - 1, 1)
    _values, vectors = np.linalg.eigh(cov)
    axes = vectors[:, ::-1][:, :2]
    if axes.shape[1] < 2:
        axes = np.hstack([axes, np.zeros((axes.shape[0], 2 - axes.shape[1]))])
    # Make the largest loading of each axis positive so the result does not flip between runs.
    signs = np.sign(axes[np.abs(axes).argmax(axis=0), [0, 1]])
    axes = axes * np.where(signs == 0, 1.0, signs)
    return (centred @ axes.astype(np.float32)).astype(np.float32)


def _release_tqdm_lock() -> None:
    """Release tqdm's write lock if this thread still holds it.

    tqdm's ``refresh`` takes the lock without ``with``, so the stop raised from
    :class:`_EpochWatcher` while it draws leaves the lock held; any later tqdm bar
    (or a bar's garbage collection on the UI thread) would then wait forever.
    """
    from tqdm import tqdm

    for lock in reversed(getattr(tqdm.get_lock(), "locks", [])):
        semlock = getattr(lock, "_semlock", None)
        owned = semlock._is_mine if semlock is not None else getattr(lock, "_is_owned", None)
        while owned is not None and owned():
            lock.release()


class _EpochWatcher(io.StringIO):
    """A text stream for UMAP's tqdm bar: turns ``"n/total"`` writes into progress and stops."""

    _COUNT = re.compile(r"(\d+)/(\d+)")

    def __init__(self, report: ProgressCallback, stop: StopCheck) -> None:
        super().__init__()
        self._report = report
        self._stop = stop
        self.stopped = False

    def write(self, text: str) -> int:
        if self.stopped:
            return len(text)
        found = self._COUNT.findall(text)
        if found:
            done, total = (int(v) for v in found[-1])
            fraction = 0.5 + 0.5 * done / max(total, 1)
            self._report(EmbeddingProgress(fraction, f"Laying out: epoch {done} of {total}"))
        if self._stop():
            self.stopped = True
            raise EmbeddingCancelled("The embedding was cancelled.")
        return len(text)


def _umap_2d(
    x: np.ndarray,
    init: np.ndarray,
    report: ProgressCallback,
    stop: StopCheck,
    *,
    seed: int,
    n_neighbors: int,
    min_dist: float,
) -> np.ndarray:
    import umap

    n_cells = x.shape[0]
    start = init.astype(np.float64)
    spread = np.ptp(start, axis=0)
    start = 10.0 * (start - start.min(axis=0)) / np.where(spread > 0, spread, 1.0)
    # A tiny, seeded jitter keeps duplicate cells apart, as UMAP requires of an initial layout.
    start += np.random.default_rng(seed).normal(scale=1e-4, size=start.shape)
    watcher = _EpochWatcher(report, stop)
    reducer = umap.UMAP(
        n_components=2,
        n_neighbors=max(2, min(n_neighbors, n_cells - 1)),
        min_dist=min_dist,
        init=start,
        random_state=seed,
        tqdm_kwds={"file": watcher, "disable": False, "mininterval": 0.2, "bar_format": "{n}/{total}"},
    )
    report(EmbeddingProgress(0.1, "Finding nearest neighbours"))
    with warnings.catch_warnings():
        # "n_jobs overridden to 1 by setting random_state": expected, we want reproducibility.
        warnings.filterwarnings("ignore", message=".*n_jobs.*", category=UserWarning)
        try:
            coords = reducer.fit_transform(x)
        except EmbeddingCancelled:
            _release_tqdm_lock()
            raise
    if watcher.stopped:
        raise EmbeddingCancelled("The embedding was cancelled.")
    _raise_if_stopped(stop)
    return np.asarray(coords, dtype=np.float32)
