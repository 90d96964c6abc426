"""Where one default training step's time goes, before and after the fused likelihood.

The step is that of ``_step.py``: default FADVI, 128 cells x 2,000 genes, ZINB, fused Adam.
Two views, both at ``--threads`` torch threads:

1. Parts timed in isolation (forward + backward of each, best of repeats): minibatch
   densification, encoders, decoder, likelihood (per-op "before" and fused "after"), heads + KL
   + cross-covariance (the loss with the likelihood replaced by zeros), optimizer step; and the
   whole step with each likelihood and with none.
2. ``torch.profiler`` over whole steps (self CPU time per op, with FLOP counts of the matmuls),
   giving the step's matmul FLOP and its share of this machine's measured matmul peak
   (2048 x 2048 float32 ``torch.matmul`` at the same thread count).

Run with the project venv, from the repository root::

    PYTHONPATH=src python benchmarks/step_profile.py
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402
import _previous_likelihood as previous  # noqa: E402
import _step  # noqa: E402

MATMUL_OPS = ("aten::addmm", "aten::mm", "aten::matmul", "aten::bmm", "aten::linear")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--number", type=int, default=10)
    p.add_argument("--rounds", type=int, default=3,
                   help="interleaved rounds of all timings; the best of each is reported")
    p.add_argument("--profile-steps", type=int, default=30)
    p.add_argument("--quick", action="store_true", help="3 repeats of 5 calls, 5 profiled steps")
    p.add_argument("--out", default=str(C.RESULTS_DIR / "step_profile"))
    return p.parse_args(argv)


def part_calls(module, optimizer, tensors, step):
    """Closures timing each part of the step alone (forward + backward where it has one)."""
    from scvi import REGISTRY_KEYS

    from fadvi_core import _likelihood, _module

    x = tensors[REGISTRY_KEYS.X_KEY]
    with torch.no_grad():
        inference = module.inference(x)
        generative_input = module._get_generative_input(tensors, inference)
        px = module.generative(**generative_input)["px"]
    z = inference["z"].detach().requires_grad_()
    leaves = [t.detach().clone().requires_grad_() for t in (px.mu, px.theta, px.zi_logits)]
    dist = type(px)(mu=leaves[0], theta=leaves[1], zi_logits=leaves[2])
    demo = _step.demo_adata(x.shape[1]).X
    rng = np.random.default_rng(0)

    def data():
        rows = np.sort(rng.choice(demo.shape[0], x.shape[0], replace=False))
        torch.as_tensor(np.asarray(demo[rows].toarray(), dtype=np.float32))

    def encoder():
        module.zero_grad(set_to_none=True)
        params = module.encoder(module.encoder_input(x))
        sum(loc.sum() + scale.sum() for loc, scale in params).backward()

    def decoder():
        module.zero_grad(set_to_none=True)
        out = module.generative(**{**generative_input, "z": z})["px"]
        (out.mu.sum() + out.zi_logits.sum() + out.theta.sum()).backward()

    def likelihood(function):
        def call():
            for leaf in leaves:
                leaf.grad = None
            (-function(dist, x).mean()).backward()
        return call

    def heads():
        module.zero_grad(set_to_none=True)
        fresh = module.inference(x)
        with _likelihood_replaced(_module, lambda px, x, nonzero=None: x.new_zeros(x.shape[0])):
            module.loss(tensors, fresh, {"px": px}).loss.backward()

    step()  # gradients exist for the optimizer timing

    def optimizer_step():
        optimizer.step()

    return {"data (128 CSR rows to a dense tensor)": data, "encoders": encoder,
            "decoder (to mu, theta, zi_logits)": decoder,
            "likelihood, per-op (before)": likelihood(previous.log_likelihood_per_cell),
            "likelihood, fused (after)": likelihood(_likelihood.log_likelihood_per_cell),
            "encoders + heads + KL + cross-cov (loss without likelihood)": heads,
            "optimizer (fused Adam)": optimizer_step}


class _likelihood_replaced:
    """Context manager swapping ``_module.log_likelihood_per_cell``."""

    def __init__(self, module, function):
        self.module, self.function = module, function

    def __enter__(self):
        self.saved = self.module.log_likelihood_per_cell
        self.module.log_likelihood_per_cell = self.function

    def __exit__(self, *exc):
        self.module.log_likelihood_per_cell = self.saved


def _trivial(px, x: torch.Tensor, nonzero=None) -> torch.Tensor:
    """A near-free stand-in for the likelihood that still sends gradients to the decoder."""
    return px.mu.sum(-1) + px.zi_logits.sum(-1) + px.theta.sum()


def profile_steps(step, n_steps: int) -> dict:
    from torch.profiler import ProfilerActivity, profile

    for _ in range(3):
        step()
    start = time.perf_counter()
    with profile(activities=[ProfilerActivity.CPU], with_flops=True) as prof:
        for _ in range(n_steps):
            step()
    wall = (time.perf_counter() - start) / n_steps
    events = prof.key_averages()
    total_self = sum(e.self_cpu_time_total for e in events)
    ops = sorted(({"op": e.key, "self_ms_per_step": e.self_cpu_time_total / 1e3 / n_steps,
                   "share": e.self_cpu_time_total / total_self, "calls_per_step": e.count / n_steps,
                   "gflop_per_step": (e.flops or 0) / 1e9 / n_steps} for e in events),
                 key=lambda r: -r["self_ms_per_step"])
    matmul = [r for r in ops if r["op"] in MATMUL_OPS]
    return {"wall_ms_per_step_profiled": wall * 1e3, "self_ms_per_step": total_self / 1e3 / n_steps,
            "matmul_self_ms_per_step": sum(r["self_ms_per_step"] for r in matmul),
            "matmul_gflop_per_step": sum(r["gflop_per_step"] for r in ops), "top_ops": ops[:25]}


def matmul_peak_gflops(n: int = 2048, reps: int = 5) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.matmul(a, b)
    best = min(_timed(lambda: torch.matmul(a, b)) for _ in range(reps))
    return 2 * n**3 / best / 1e9


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv=None) -> dict:
    args = parse_args(argv)
    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    repeats, number, n_profiled = ((3, 5, 5) if args.quick
                                   else (args.repeats, args.number, args.profile_steps))
    from fadvi_core import _module

    module, optimizer, tensors, step = _step.build_step()
    peak = matmul_peak_gflops()
    calls = part_calls(module, optimizer, tensors, step)
    variants = (("before (per-op likelihood)", previous.log_likelihood_per_cell),
                ("after (fused likelihood)", _module.log_likelihood_per_cell),
                ("trivial likelihood (sum of mu, theta, zi_logits)", _trivial))
    parts = {name: float("inf") for name in calls}
    whole = {label: float("inf") for label, _ in variants}
    for r in range(1 if args.quick else args.rounds):  # interleaved rounds, order alternating
        for name, call in (calls.items() if r % 2 == 0 else reversed(calls.items())):
            parts[name] = min(parts[name], _step.best_ms(call, repeats=repeats, number=number))
        for label, function in (variants if r % 2 == 0 else variants[::-1]):
            with _likelihood_replaced(_module, function):
                whole[label] = min(whole[label],
                                   _step.best_ms(step, repeats=repeats, number=number))
    profiles = {}
    for label, function in (("before", previous.log_likelihood_per_cell),
                            ("after", _module.log_likelihood_per_cell)):
        with _likelihood_replaced(_module, function):
            profiles[label] = profile_steps(step, n_profiled)
    result = {"command": C.command_line(), "versions": C.versions(), "threads": args.threads,
              "load_average_after": os.getloadavg(),
              "matmul_peak_gflops": peak, "parts_ms": parts, "whole_step_ms": whole,
              "profiles": profiles}
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2))
    out.with_suffix(".md").write_text(markdown(result))
    print(out.with_suffix(".md").read_text())
    return result


def markdown(r: dict) -> str:
    after = r["whole_step_ms"]["after (fused likelihood)"]
    lines = [f"# One training step, {r['threads']} torch thread(s)", "", "```", r["command"], "```",
             "", "Default FADVI, 128 cells x 2,000 genes (demo counts, genes repeated), ZINB, "
             "fused Adam. Times in ms, best of repeated runs; the machine has 2 shared cores.",
             "", "## Whole step", "", "| variant | ms |", "|---|---|"]
    lines += [f"| {k} | {v:.1f} |" for k, v in r["whole_step_ms"].items()]
    lines += ["", "## Parts, each alone (forward + backward)", "", "| part | ms | share of step "
              "(after) |", "|---|---|---|"]
    lines += [f"| {k} | {v:.2f} | {v / after:.0%} |" for k, v in r["parts_ms"].items()]
    peak = r["matmul_peak_gflops"]
    steps = {"before": r["whole_step_ms"]["before (per-op likelihood)"], "after": after}
    for label, p in r["profiles"].items():
        gflop = p["matmul_gflop_per_step"]
        at_peak_ms = gflop / peak * 1e3
        rate = gflop / max(p["matmul_self_ms_per_step"], 1e-9) * 1e3
        lines += ["", f"## torch.profiler, {label} (self CPU per step)", "",
                  f"Matmuls: {gflop * 1e3:.0f} MFLOP per step, {p['matmul_self_ms_per_step']:.1f} "
                  f"ms of self CPU under the profiler ({rate:.1f} GFLOP/s). At this machine's "
                  f"measured matmul peak ({peak:.1f} GFLOP/s, 2048^2 float32) those FLOP take {at_peak_ms:.1f} ms: "
                  f"{at_peak_ms / steps[label]:.0%} of the unprofiled step "
                  f"({steps[label]:.1f} ms). The profiler's own overhead inflates the step to "
                  f"{p['wall_ms_per_step_profiled']:.1f} ms, so read the shares below, not "
                  "the absolute times.", "", "| op | ms/step | share | calls/step | MFLOP/step |",
                  "|---|---|---|---|---|"]
        lines += [f"| `{o['op']}` | {o['self_ms_per_step']:.2f} | {o['share']:.0%} | "
                  f"{o['calls_per_step']:.0f} | {o['gflop_per_step'] * 1e3:.0f} |"
                  for o in p["top_ops"][:18]]
    v = r["versions"]
    lines += ["", f"torch {v.get('torch')}, fadvi_core {v.get('fadvi_core_commit')}; load "
              f"average at the end {r['load_average_after'][0]:.1f} on 2 shared cores.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
