"""Job kinds, and the one table of which running job blocks which action.

A job kind names one long step; only one job of each kind runs at a time. An action
(starting a job of some kind) is blocked while any of its :data:`BLOCKED_BY` kinds runs;
:func:`blocker` says which one, and :data:`WAIT_TEXT` says so in words.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import Enum


class JobKind(str, Enum):
    """What a job does; the value is the short key shown in errors and logs."""

    LOAD = "load"
    CHECK = "check"
    TRAIN = "train"
    ESTIMATE = "estimate"
    LATENTS = "latents"
    SAVE = "save"
    MODEL_IO = "model_io"
    ALIGN = "align"
    MAP = "map"
    EMBEDDING = "embedding"
    GENE = "gene"
    PREDICT = "predict"
    EXPLAIN = "explain"
    CLUSTER = "cluster"
    MARKERS = "markers"
    PROJECT = "project"
    TABLE = "table"
    QUALITY = "quality"
    TRUST = "trust"

    def __str__(self) -> str:
        return self.value


K = JobKind
#: Jobs that replace or rewrite the data or the model: nothing that reads them may start.
_DATA_CHANGING = frozenset({K.LOAD, K.TRAIN, K.SAVE, K.MAP})

#: For each kind of job, the running kinds that stop it from starting.
BLOCKED_BY: dict[JobKind, frozenset[JobKind]] = {
    K.LOAD: frozenset({K.TRAIN}),
    K.CHECK: frozenset(),
    K.TRAIN: frozenset({K.LOAD, K.TRAIN, K.SAVE}),
    # Timing training steps while training runs would measure a busy machine.
    K.ESTIMATE: frozenset({K.LOAD, K.TRAIN}),
    K.LATENTS: frozenset(),
    K.SAVE: frozenset({K.TRAIN}),
    K.MODEL_IO: frozenset({K.TRAIN, K.MODEL_IO}),
    K.ALIGN: _DATA_CHANGING | {K.ALIGN},
    K.MAP: _DATA_CHANGING | {K.ALIGN},
    K.EMBEDDING: frozenset(),
    K.GENE: frozenset(),
    K.PREDICT: _DATA_CHANGING,
    K.EXPLAIN: _DATA_CHANGING,
    K.CLUSTER: _DATA_CHANGING,
    K.MARKERS: _DATA_CHANGING,
    K.PROJECT: _DATA_CHANGING | {K.PROJECT},
    K.TABLE: _DATA_CHANGING | {K.TABLE},
    K.QUALITY: _DATA_CHANGING,
    K.TRUST: _DATA_CHANGING,
}

#: What to tell the user while a job of this kind blocks an action.
WAIT_TEXT: dict[JobKind, str] = {
    K.LOAD: "Wait for the data to open.",
    K.TRAIN: "Wait for training to finish.",
    K.SAVE: "Wait for saving to finish.",
    K.MAP: "Wait for the mapping to finish.",
    K.ALIGN: "Wait for the genes to be matched.",
    K.MODEL_IO: "Wait for the model file.",
    K.PROJECT: "Wait for the project file.",
}


def blocker(kind: JobKind, running: Collection[JobKind]) -> JobKind | None:
    """Return the running kind that blocks starting ``kind``, or None if it may start.

    The order of :class:`JobKind` decides which blocker is named when several run.
    """
    blocked_by = BLOCKED_BY[JobKind(kind)]
    return next((k for k in JobKind if k in blocked_by and k in running), None)


def wait_text(kind: JobKind) -> str:
    """Return what to tell the user while ``kind`` blocks something."""
    return WAIT_TEXT.get(JobKind(kind), "A job is running.")


__all__ = ["BLOCKED_BY", "WAIT_TEXT", "JobKind", "blocker", "wait_text"]
