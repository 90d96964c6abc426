"""Torch thread and device choices for the app's worker threads."""

from __future__ import annotations

import os


def reserve_core_for_ui() -> int:
    """Limit torch to all CPU cores but one, so the UI thread always finds a free core.

    On a 2-core machine, torch's default of one thread per core makes its
    spinning worker threads fight the UI thread: training slows many times
    over and the window stutters (see ``benchmarks/ui_latency.py``).

    Returns
    -------
    int
        The number of torch threads now in use.
    """
    import torch

    threads = max(1, (os.cpu_count() or 2) - 1)
    if torch.get_num_threads() > threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()


def available_devices() -> list[str]:
    """Return the device choices torch can use here: ``"auto"``, ``"cpu"``, then ``"gpu"``/``"mps"``."""
    import torch

    devices = ["auto", "cpu"]
    if torch.cuda.is_available():
        devices.append("gpu")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        devices.append("mps")
    return devices


__all__ = ["available_devices", "reserve_core_for_ui"]
