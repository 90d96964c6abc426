"""Turn scvi-tools style ``accelerator``/``devices`` options into a torch device."""

from __future__ import annotations

import os

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
    # As in Lightning: a list (or "1,") names device indices, an int (or "2") counts devices.
    if isinstance(devices, str) and "," in devices:
        devices = [int(d) for d in devices.split(",") if d.strip()]
    index = int(devices[0]) if isinstance(devices, (list, tuple)) and devices else None
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


def usable_cores() -> int:
    """CPU cores this process may run on: its affinity mask, capped by a cgroup CPU quota."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    try:
        quota, period = open("/sys/fs/cgroup/cpu.max").read().split()[:2]
        if quota != "max":
            cores = min(cores, max(1, int(int(quota) // int(period))))
    except (OSError, ValueError):
        pass
    return max(1, cores)


def idle_cores() -> int:
    """Usable cores minus those other programs keep busy (the 1-minute load average), at least 1.

    On a shared machine torch threads that find their core taken spin at every parallel
    region: two threads on two cores with one busy ran a step 13 times slower than one thread.
    """
    try:
        busy = os.getloadavg()[0]
    except (AttributeError, OSError):
        busy = 0.0
    return max(1, min(usable_cores(), round(usable_cores() - busy + 0.25)))


def set_torch_threads(threads: int | None = None, *, processes: int = 1) -> int:
    """Set torch's intra-op thread count and return it.

    ``threads`` None keeps the current count (a caller may have reserved a core) but lowers it
    to the usable cores shared among ``processes`` (DDP ranks on one machine); an explicit
    count is capped at that share too. More threads than cores make every step wait on the
    slowest thread.
    """
    share = max(1, usable_cores() // max(1, processes))
    count = (min(torch.get_num_threads(), share) if threads is None
             else max(1, min(int(threads), share)))
    if torch.get_num_threads() != count:
        torch.set_num_threads(count)
    return count


def _device_count(devices) -> int | None:
    """How many devices ``devices`` names; None for "auto"/-1 (Fabric decides)."""
    if isinstance(devices, (list, tuple)):
        return len(devices)
    if devices in ("auto", None, -1, "-1"):
        return None
    if isinstance(devices, str) and "," in devices:
        return len([d for d in devices.split(",") if d.strip()])
    return int(devices)


def fabric_arguments(accelerator: str = "auto", devices: int | list[int] | str = "auto",
                     strategy: str = "auto") -> dict:
    """``Fabric(accelerator=, devices=, strategy=)`` for scvi-tools style options.

    One device (``devices`` "auto", 1 or one index, no strategy) resolves as `resolve_device`
    does; several devices or a named strategy (e.g. ``"ddp"``) go to Fabric as given, so
    ``accelerator="cpu", devices=2, strategy="ddp"`` trains with two processes.

    Raises
    ------
    ValueError
        For an unknown accelerator, a GPU that torch cannot see, or a bad ``devices``.
    """
    try:
        count = _device_count(devices)
    except (TypeError, ValueError):
        raise ValueError(f"devices={devices!r} is not understood; use 'auto', a count such "
                         "as 2, or a list of device indices.") from None
    if count is not None and count < 1:
        raise ValueError(f"devices={devices!r} must name at least one device.")
    single = (strategy in ("auto", None) and
              (count == 1 or (count is None and devices in ("auto", None))))
    device = resolve_device(accelerator, devices if single else "auto")
    kind = {"cuda": "cuda", "mps": "mps"}.get(device.type, "cpu")
    if single:
        return {"accelerator": kind, "devices": [device.index or 0] if kind == "cuda" else 1,
                "strategy": "auto"}
    return {"accelerator": kind, "devices": devices, "strategy": strategy or "auto"}
