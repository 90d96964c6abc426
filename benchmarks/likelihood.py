"""Fused vs per-op (ZI)NB likelihood: forward+backward alone and a whole training step.

Both implementations run in this one process, interleaved (old, new, old, new, ...), at each
thread count; the best of ``--repeats`` timings of ``--number`` calls is reported. Inputs are the
ZINB parameters of a default FADVI module on a 128-cell minibatch of the demo file, padded to
2,000 genes (``_step.py``). The whole step is forward, loss, backward and fused Adam.

Run with the project venv, from the repository root::

    PYTHONPATH=src python benchmarks/likelihood.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import _previous_likelihood as previous  # noqa: E402
import _step  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--number", type=int, default=10)
    p.add_argument("--rounds", type=int, default=4,
                   help="interleaved old/new rounds per thread count; the best is reported")
    p.add_argument("--quick", action="store_true", help="3 repeats of 5 calls")
    p.add_argument("--out", default=str(C.RESULTS_DIR / "likelihood"))
    return p.parse_args(argv)


def likelihood_calls(module, tensors):
    """Closures running forward+backward of the old and the new likelihood on one minibatch."""
    from fadvi_core import _likelihood

    with torch.no_grad():
        inference = module.inference(tensors["X"])
        px = module.generative(**module._get_generative_input(tensors, inference))["px"]
    x = tensors["X"]
    leaves = [t.detach().clone().requires_grad_() for t in (px.mu, px.theta, px.zi_logits)]
    dist = type(px)(mu=leaves[0], theta=leaves[1], zi_logits=leaves[2])

    def run(function):
        def call():
            for leaf in leaves:
                leaf.grad = None
            (-function(dist, x).mean()).backward()
        return call

    generator = torch.Generator().manual_seed(0)
    n_cells, n_genes = x.shape
    tails = [(torch.rand(n_cells, n_genes, generator=generator) * 300).requires_grad_(),
             (torch.rand(n_genes, generator=generator) * 100 + 1).requires_grad_(),
             (torch.randn(n_cells, n_genes, generator=generator) * 5).requires_grad_()]
    tail_dist = type(px)(mu=tails[0], theta=tails[1], zi_logits=tails[2])

    def run_tails(function):
        def call():
            for leaf in tails:
                leaf.grad = None
            (-function(tail_dist, x).mean()).backward()
        return call

    return {"old": run(previous.log_likelihood_per_cell),
            "new": run(_likelihood.log_likelihood_per_cell),
            "tails_old": run_tails(previous.log_likelihood_per_cell),
            "tails_new": run_tails(_likelihood.log_likelihood_per_cell)}


def main(argv=None) -> dict:
    args = parse_args(argv)
    warnings.filterwarnings("ignore")
    repeats, number = (3, 5) if args.quick else (args.repeats, args.number)
    from fadvi_core import _module

    fused = _module.log_likelihood_per_cell
    module, _, tensors, step = _step.build_step()
    calls = likelihood_calls(module, tensors)
    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        times = {"likelihood_old": [], "likelihood_new": [], "tails_old": [], "tails_new": [],
                 "step_old": [], "step_new": []}
        for r in range(1 if args.quick else args.rounds):  # interleaved, order alternating
            for which in (("old", "new") if r % 2 == 0 else ("new", "old")):
                times[f"likelihood_{which}"].append(
                    _step.best_ms(calls[which], repeats=repeats, number=number))
                times[f"tails_{which}"].append(
                    _step.best_ms(calls[f"tails_{which}"], repeats=repeats, number=number))
                _module.log_likelihood_per_cell = (
                    previous.log_likelihood_per_cell if which == "old" else fused)
                times[f"step_{which}"].append(_step.best_ms(step, repeats=repeats, number=number))
        _module.log_likelihood_per_cell = fused
        best = {name: min(values) for name, values in times.items()}
        rows.append({"threads": threads, **best, "all_rounds": times})
        print(threads, best, flush=True)
    result = {"command": C.command_line(), "load_average_after": os.getloadavg(),
              "versions": C.versions(), "rows": rows,
              "n_cells": 128, "n_genes": 2000, "repeats": repeats, "number": number}
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2))
    lines = [f"# Fused likelihood: forward+backward and whole step (ms, best of {repeats}x"
             f"{number})", "", "```", result["command"], "```", "",
             "Minibatch: 128 cells x 2,000 genes (demo file, 86% zeros), default FADVI, ZINB. "
             "'Tails': the same counts with parameters like a trained model's extremes (mu up "
             "to 300, theta up to 100, zero-inflation logits sd 5), where exp() of the per-op "
             "version's softplus lands on float32 subnormals, which CPUs compute slowly.", "",
             "| threads | likelihood old | new | speed-up | tails old | new | speed-up | "
             "step old | new | speed-up |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        cells = [f"{r['threads']}"]
        for key in ("likelihood", "tails", "step"):
            old, new = r[f"{key}_old"], r[f"{key}_new"]
            cells += [f"{old:.2f}", f"{new:.2f}", f"{old / new:.2f}x"]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", f"torch {result['versions'].get('torch')}, fadvi_core "
              f"{result['versions'].get('fadvi_core_commit')}; 2 cores shared with other work "
              f"(load average at the end {result['load_average_after'][0]:.1f}): timings are "
              "rough; old and new were interleaved, so compare within a row."]
    out.with_suffix(".md").write_text("\n".join(lines) + "\n")
    return result


if __name__ == "__main__":
    main()
