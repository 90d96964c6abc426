"""One training step, an earlier commit's fadvi_core against this checkout's, in one process.

Both packages build the same default FADVI on the demo file (1,767 genes padded to 2,000), take
the same 128 cells through their own data loader, and run forward, backward and fused Adam.
Reported for each:

- aten operations per step (forward, backward, optimizer), counted at the dispatcher: a count,
  not a timing, so it does not depend on what else the machine is doing;
- host syncs per step: ``aten::_local_scalar_dense`` and ``aten::nonzero`` calls, each of which
  makes a GPU wait for the host;
- wall time per step, the two packages alternating in rounds (``--rounds`` pairs of 3 steps), with
  the median of the per-round ratios: on a busy machine this ratio is steadier than either time.

The earlier commit's ``src/fadvi_core`` is extracted with ``git archive`` into a temporary folder
and imported as ``fadvi_core_base``.

Run with the project venv, from the repository root::

    PYTHONPATH=src python benchmarks/step_compare.py --base ccc20ee
"""

from __future__ import annotations

import argparse
import importlib
import io
import json
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import _step  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SYNCS = ("aten._local_scalar_dense.default", "aten.nonzero.default")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--base", default="ccc20ee", help="git commit to compare against")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=40)
    p.add_argument("--out", default=str(C.RESULTS_DIR / "step_compare"))
    return p.parse_args(argv)


def extract_base(commit: str, folder: Path) -> str:
    """``src/fadvi_core`` at ``commit`` as the importable package ``fadvi_core_base``."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, "src/fadvi_core"],
                             capture_output=True, check=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    (folder / "src" / "fadvi_core").rename(folder / "fadvi_core_base")
    sys.path.insert(0, str(folder))
    return "fadvi_core_base"


def build_step(package: str):
    """``(step, parts)``: one training step of ``package``'s FADVI, and its three parts."""
    fadvi = importlib.import_module(package).FADVI
    cell_data = importlib.import_module(package + "._data").CellData
    torch.manual_seed(0)
    adata = _step.demo_adata(2000)
    fadvi.setup_anndata(adata, batch_key="batch", labels_key="cell_type",
                        unlabeled_category="Unknown")
    model = fadvi(adata)
    module = model.module
    module.train()
    rows = np.random.default_rng(0).choice(adata.n_obs, 128, replace=False)
    data = cell_data(model.adata_manager)
    # This checkout's loader passes the likelihood the non-zero counts of batches for a loss.
    kwargs = {"for_loss": True} if "for_loss" in data.batches.__code__.co_varnames else {}
    tensors = next(iter(data.batches(rows, 128, "cpu", **kwargs)))
    params = [p for p in module.parameters() if p.requires_grad]
    optimizer = torch.optim.Adam(params, lr=1e-3, eps=0.01, weight_decay=1e-6, fused=True)
    state = {}

    def forward():
        state["out"] = module(tensors, loss_kwargs={"kl_weight": 0.5})[2]

    def backward():
        optimizer.zero_grad(set_to_none=True)
        state["out"].loss.backward()

    def step():
        forward()
        backward()
        optimizer.step()

    return step, {"forward": forward, "backward": backward, "optimizer": optimizer.step}


def count_ops(parts: dict) -> dict:
    from torch.utils._python_dispatch import TorchDispatchMode

    class Count(TorchDispatchMode):
        def __init__(self):
            super().__init__()
            self.ops = Counter()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            self.ops[str(func)] += 1
            return func(*args, **(kwargs or {}))

    result = {}
    for name, part in parts.items():
        with Count() as mode:
            part()
        result[name] = {"ops": sum(mode.ops.values()),
                        "host_syncs": sum(mode.ops[s] for s in SYNCS)}
    return result


def main(argv=None) -> None:
    args = parse_args(argv)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        base = extract_base(args.base, Path(folder))
        steps = {"base": build_step(base), "now": build_step("fadvi_core")}
        counts = {name: count_ops(parts) for name, (_, parts) in steps.items()}
        for step, _ in steps.values():
            for _ in range(5):
                step()
        times = {"base": [], "now": []}
        for _ in range(args.rounds):
            for name, (step, _) in steps.items():
                start = time.perf_counter()
                for _ in range(3):
                    step()
                times[name].append((time.perf_counter() - start) / 3 * 1e3)
    ratios = [b / n for b, n in zip(times["base"], times["now"])]
    result = {"command": C.command_line(), "base": args.base, "threads": args.threads,
              "counts": counts, "ms_min": {k: min(v) for k, v in times.items()},
              "ms_median": {k: statistics.median(v) for k, v in times.items()},
              "median_ratio_base_over_now": statistics.median(ratios),
              "versions": C.versions()}
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2))
    write_markdown(out.with_suffix(".md"), result)
    print(out.with_suffix(".md").read_text())


def write_markdown(path: Path, r: dict) -> None:
    lines = [f"# One training step: {r['base']} vs this checkout", "",
             f"```\n{r['command']}\n```", "",
             f"Default FADVI, 128 demo cells x 2,000 genes, fused Adam, {r['threads']} torch "
             "thread(s); each package through its own data loader.", "",
             "| part | aten ops, base | aten ops, now | host syncs, base | host syncs, now |",
             "|---|---|---|---|---|"]
    for part in ("forward", "backward", "optimizer"):
        b, n = r["counts"]["base"][part], r["counts"]["now"][part]
        lines.append(f"| {part} | {b['ops']} | {n['ops']} | {b['host_syncs']} | "
                     f"{n['host_syncs']} |")
    lines += ["", f"Wall time per step (alternating rounds): base {r['ms_min']['base']:.1f} ms, "
              f"now {r['ms_min']['now']:.1f} ms (best of rounds); median of per-round ratios "
              f"base/now **{r['median_ratio_base_over_now']:.2f}x**."]
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
