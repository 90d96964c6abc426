"""Turn scvi-tools style ``accelerator``/``devices`` options into a torch device."""

from __future__ import annotations

import torch


def _mps_available() -> bool:
    return bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())


def resolve_device(accelerator: str = "auto", devices: int | list[int] | str = "auto"
                   ) -> torch.device:
    """The single torch device that ``accelerator``/``devices`` name.

    Raises
    ------
    ValueError
        For an unknown accelerator, or a GPU that torch cannot see.
    """
    index = devices[0] if isinstance(devices, (list, tuple)) else devices
    index = None if index in ("auto", None, -1) else int(index)
    if accelerator == "auto":
        if torch.cuda.is_available():
            accelerator = "cuda"
        elif _mps_available():
            accelerator = "mps"
        else:
            accelerator = "cpu"
    if accelerator == "cpu":
        return torch.device("cpu")
    if accelerator in ("gpu", "cuda"):
        if not torch.cuda.is_available():
            raise ValueError("accelerator='gpu' was requested but torch sees no CUDA GPU; "
                             "use accelerator='cpu' or 'auto'.")
        return torch.device("cuda", index or 0)
    if accelerator == "mps":
        if not _mps_available():
            raise ValueError("accelerator='mps' was requested but MPS is not available; "
                             "use accelerator='cpu' or 'auto'.")
        return torch.device("mps")
    raise ValueError(f"Unknown accelerator {accelerator!r}; use 'auto', 'cpu', 'gpu' or 'mps'.")
