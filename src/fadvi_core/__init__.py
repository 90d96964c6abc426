"""fadvi_core: the FADVI model (Factor Disentanglement Variational Inference) on scvi-tools.

Qt-free: it runs in notebooks, scripts and cluster jobs, and behind the desktop app.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from ._annotate import annotate, file_sha256, joint_annotation
from ._atomic import write_atomically
from ._calibration import CalibrationError
from ._checks import InputProblem, find_input_problems, pad_missing_genes
from ._genes import GeneMatch, TooFewSharedGenes, match_genes
from ._defaults import TrainingDefaults, training_defaults
from ._hooks import Cancelled, ChunkProgress, TrainingProgress
from ._io import ModelFileError
from ._model import FADVI
from ._module import FADVAE
from ._preprocess import prepare_training_data, select_genes
from ._reference import JointData, joint_data
from ._reference_model import ReferenceModel
from ._stopping import StopReason

try:
    __version__ = version("fadvi-desktop")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "FADVI", "FADVAE", "CalibrationError", "Cancelled", "ChunkProgress", "GeneMatch", "InputProblem",
    "JointData", "ModelFileError", "ReferenceModel", "StopReason", "TooFewSharedGenes", "TrainingDefaults",
    "TrainingProgress", "annotate", "file_sha256", "find_input_problems", "joint_annotation", "joint_data", "match_genes", "pad_missing_genes",
    "prepare_training_data", "select_genes", "training_defaults",
    "write_atomically",
]
