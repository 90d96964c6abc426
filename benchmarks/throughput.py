"""Speed and memory: fadvi_core vs the reference ``fadvi``, same data, same settings, CPU.

Data: ``pbmc3tech_savercat`` restricted to its 2,000 highly variable genes (scanpy seurat_v3 on
counts, batch-aware), cells replicated ``--replicate`` times for steadier timings, labels of the
``VDJ`` batch hidden. Default hyperparameters, ``batch_size`` 128, ``train_size`` 0.9.

Each method runs in its own subprocess (this script with ``--worker METHOD``) so that peak memory
is that method's alone: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (peak resident set size of
the process, including the Python interpreter, torch and the data) read at each stage.

Measured per method:

- training cells/s = (training-split cells x epochs) / wall time of ``model.train`` (setup_anndata
  and model construction excluded);
- prediction cells/s = cells / wall time of ``model.predict`` (hard labels, all cells, best of 3);
- IG cells/s = cells / wall time of ``model.predict(interpretability="ig")`` on ``--ig-cells``
  cells (captum defaults: 50 steps, zero baseline);
- accuracy / balanced accuracy on the hidden batch after the timed training.

The parent also records the machine's float32 matmul FLOP/s (2048 x 2048, torch.matmul) and, for
fadvi_core, checks its IG attributions against plain captum ``IntegratedGradients`` applied to its
label-probability forward (``fadvi_core._interpretability.ClassProbability``).

Every thread count of ``--threads`` (default 1 and 2) is measured in the same run, interleaved
with the other methods; the markdown opens with the fadvi_core / reference ratios per count.

Run with the benchmark venv and this checkout's sources, from the repository root::

    PYTHONPATH=src /work/main/.bench-venv/bin/python benchmarks/throughput.py \
        --epochs 5 --replicate 3 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C  # noqa: E402

HIDDEN = "VDJ"
FADVI_METHODS = ("fadvi_core", "reference")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--methods", nargs="+", default=list(FADVI_METHODS), choices=FADVI_METHODS)
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--replicate", type=int, default=5, help="copies of the 2,000 cells")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--ig-cells", type=int, default=256)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                   help="torch.set_num_threads for all methods; each count in turn, interleaved")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rounds", type=int, default=2,
                   help="run each method this many times, alternating the order; the best "
                        "speed of the rounds is reported (the machine is shared)")
    p.add_argument("--skip-ig-check", action="store_true")
    p.add_argument("--quick", action="store_true",
                   help="1 epoch, no replication, 1 round, IG on 32 cells: checks the script")
    p.add_argument("--out", default=str(C.RESULTS_DIR / "throughput"),
                   help="output path without extension (.json and .md are written)")
    p.add_argument("--worker", choices=FADVI_METHODS, help=argparse.SUPPRESS)
    p.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.epochs, args.replicate, args.rounds, args.ig_cells = 1, 1, 1, 32
    return args


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def build_data(replicate: int):
    import anndata as ad

    base = C.load_dataset("pbmc3tech_savercat")
    adata = ad.concat([base] * replicate, index_unique="-") if replicate > 1 else base
    adata.obs["batch"] = adata.obs["batch"].astype("category")
    hidden_idx = C.hide_batch(adata, HIDDEN)
    return adata, hidden_idx


def timed(fn, repeats: int = 1):
    """Best wall time of ``repeats`` calls, the CPU time (all threads of this process) of that
    call, and the last result."""
    best, best_cpu, out = float("inf"), float("inf"), None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if wall < best:
            best, best_cpu = wall, cpu
    return best, best_cpu, out


def ig_check(model, ig_cells: int) -> dict:
    """fadvi_core's IG vs plain captum IntegratedGradients on the same forward."""
    import torch
    from captum.attr import IntegratedGradients
    from fadvi_core._interpretability import ClassProbability

    idx = np.arange(ig_cells)
    ours = model.predict(indices=idx, interpretability="ig")
    ours_attr = np.asarray(ours["attributions"], dtype=np.float64)
    module = model.module
    module.eval()
    x = model.adata.X[idx]
    x = torch.as_tensor(x.toarray() if hasattr(x, "toarray") else np.asarray(x),
                        dtype=torch.float32)
    forward = ClassProbability(module, "l")
    with torch.no_grad():
        probs = forward(x)
    target = probs.argmax(dim=1)
    ig = IntegratedGradients(forward)
    ref_attr, delta = ig.attribute(x, baselines=torch.zeros_like(x), target=target, n_steps=50,
                                   method="gausslegendre", return_convergence_delta=True)
    ref_attr = ref_attr.detach().double().numpy()
    with torch.no_grad():
        gap = (forward(x).gather(1, target[:, None]) - forward(torch.zeros_like(x))
               .gather(1, target[:, None])).double().numpy().ravel()
    ours_delta = ours_attr.sum(axis=1) - gap
    captum_delta = delta.detach().double().numpy()
    frob = float(np.linalg.norm(ours_attr - ref_attr) / np.linalg.norm(ref_attr))
    max_rel = float(np.abs(ours_attr - ref_attr).max() / np.abs(ref_attr).max())
    per_cell = np.linalg.norm(ours_attr - ref_attr, axis=1) / np.maximum(
        np.linalg.norm(ref_attr, axis=1), 1e-30)
    return {
        "n_cells": ig_cells,
        "same_predictions": bool(np.array_equal(
            np.asarray(ours["predictions"]).astype(str),
            np.asarray(model.label_classes, dtype=object)[target.numpy()].astype(str))),
        "relative_error_frobenius": frob,
        "relative_error_max_abs": max_rel,
        "relative_error_per_cell_max": float(per_cell.max()),
        "within_1e-4": frob < 1e-4,
        "ours_abs_delta_max": float(np.abs(ours_delta).max()),
        "captum_abs_delta_max": float(np.abs(captum_delta).max()),
        "ours_delta_within_captum_delta": bool(
            np.all(np.abs(ours_delta) <= np.abs(captum_delta) + 1e-6)),
        "abs_gap_mean": float(np.abs(gap).mean()),
    }


def worker(args) -> None:
    C.quiet()
    import scvi
    import torch

    threads = args.threads[0]
    torch.set_num_threads(threads)
    method = args.worker
    out = {"method": method, "threads": torch.get_num_threads()}
    out["rss_mib_after_import"] = peak_rss_mib()
    adata, hidden_idx = build_data(args.replicate)
    out.update(n_cells=int(adata.n_obs), n_genes=int(adata.n_vars))
    out["rss_mib_after_data"] = peak_rss_mib()
    out["matmul_gflops_before_train"] = matmul_flops(threads, reps=3)["gflops_best"]
    scvi.settings.seed = args.seed
    c0 = time.process_time()
    model, setup_s, train_s = C.train_fadvi(method, adata, labels_key="labels_hidden",
                                            max_epochs=args.epochs, batch_size=args.batch_size)
    # CPU seconds of setup + train; setup is a small fraction (see setup_s)
    train_cpu_s = time.process_time() - c0
    train_indices = getattr(model, "train_indices_", None)
    n_train = len(train_indices) if train_indices is not None else int(round(0.9 * adata.n_obs))
    out.update(setup_s=setup_s, train_s=train_s, n_train_cells=n_train, epochs=args.epochs,
               train_cells_per_s=n_train * args.epochs / train_s, train_cpu_s=train_cpu_s,
               train_cells_per_cpu_s=n_train * args.epochs / train_cpu_s)
    out["rss_mib_after_train"] = peak_rss_mib()
    out["matmul_gflops_after_train"] = matmul_flops(threads, reps=3)["gflops_best"]

    from sklearn.metrics import accuracy_score, balanced_accuracy_score

    pred_s, pred_cpu_s, pred = timed(lambda: model.predict(), repeats=3)
    out.update(predict_s=pred_s, predict_cells_per_s=adata.n_obs / pred_s,
               predict_cpu_s=pred_cpu_s, predict_cells_per_cpu_s=adata.n_obs / pred_cpu_s)
    truth = adata.obs["cell_type"].astype(str).to_numpy()[hidden_idx]
    hidden_pred = np.asarray(pred).astype(str)[hidden_idx]
    out["hidden_accuracy"] = float(accuracy_score(truth, hidden_pred))
    out["hidden_balanced_accuracy"] = float(balanced_accuracy_score(truth, hidden_pred))
    out["rss_mib_after_predict"] = peak_rss_mib()

    ig_idx = np.arange(args.ig_cells)
    ig_s, ig_cpu_s, _ = timed(lambda: model.predict(indices=ig_idx, interpretability="ig"))
    out.update(ig_s=ig_s, ig_cells=args.ig_cells, ig_cells_per_s=args.ig_cells / ig_s,
               ig_cpu_s=ig_cpu_s, ig_cells_per_cpu_s=args.ig_cells / ig_cpu_s)
    out["rss_mib_after_ig"] = peak_rss_mib()
    out["peak_rss_mib"] = peak_rss_mib()
    if method == "fadvi_core" and not args.skip_ig_check:
        try:
            out["ig_check"] = ig_check(model, args.ig_cells)
        except Exception as err:  # report, do not lose the timings
            out["ig_check"] = {"error": f"{type(err).__name__}: {err}"}
    Path(args.worker_out).write_text(json.dumps(out, indent=2))


def combine(runs: list[dict]) -> dict:
    """Best speed over the rounds (least disturbed by other work), first round's accuracy,
    largest memory, and the IG check from the round that ran it."""
    first = dict(runs[0])
    for key in ("train_cells_per_s", "predict_cells_per_s", "ig_cells_per_s",
                "train_cells_per_cpu_s", "predict_cells_per_cpu_s", "ig_cells_per_cpu_s"):
        first[key] = max(r[key] for r in runs)
        first[key + "_all"] = [r[key] for r in runs]
    for key in ("train_s", "predict_s", "ig_s", "train_cpu_s", "predict_cpu_s", "ig_cpu_s"):
        first[key] = min(r[key] for r in runs)
    for key in ("peak_rss_mib", "rss_growth_mib"):
        first[key] = max(r[key] for r in runs)
    first["matmul_gflops_all"] = [[round(r["matmul_gflops_before_train"], 1),
                                   round(r["matmul_gflops_after_train"], 1)] for r in runs]
    first["n_rounds"] = len(runs)
    return first


def matmul_flops(threads: int, n: int = 2048, reps: int = 5) -> dict:
    import torch

    torch.set_num_threads(threads)
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.matmul(a, b)  # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.matmul(a, b)
        times.append(time.perf_counter() - t0)
    best = min(times)
    return {"n": n, "reps": reps, "threads": threads, "best_s": best,
            "median_s": float(np.median(times)), "gflops_best": 2 * n**3 / best / 1e9,
            "gflops_median": 2 * n**3 / float(np.median(times)) / 1e9}


_ROWS = (
    ("training cells/s", "train_cells_per_s", "{:.0f}"),
    ("prediction cells/s", "predict_cells_per_s", "{:.0f}"),
    ("IG cells/s", "ig_cells_per_s", "{:.1f}"),
    ("training cells per CPU-second", "train_cells_per_cpu_s", "{:.0f}"),
    ("prediction cells per CPU-second", "predict_cells_per_cpu_s", "{:.0f}"),
    ("IG cells per CPU-second", "ig_cells_per_cpu_s", "{:.1f}"),
    ("peak RSS MiB (ru_maxrss)", "peak_rss_mib", "{:.0f}"),
    ("RSS growth after data load, MiB", "rss_growth_mib", "{:.0f}"),
    ("train wall s", "train_s", "{:.1f}"),
    ("hidden-batch accuracy", "hidden_accuracy", "{:.3f}"),
    ("hidden-batch balanced accuracy", "hidden_balanced_accuracy", "{:.3f}"),
)


def _summary(result: dict) -> list[str]:
    """One row per thread count: the ratios the project's goals are stated in."""
    lines = ["| torch threads | training cells/s ours / ref | ratio | prediction ratio | "
             "IG ratio | accuracy ours / ref |", "|---|---|---|---|---|---|"]
    for threads, res in result["results"].items():
        ours, ref = res.get("fadvi_core", {}), res.get("reference", {})
        if "train_cells_per_s" not in ours or "train_cells_per_s" not in ref:
            continue
        lines.append(
            f"| {threads} | {ours['train_cells_per_s']:.0f} / {ref['train_cells_per_s']:.0f} | "
            f"**{ours['train_cells_per_s'] / ref['train_cells_per_s']:.2f}x** | "
            f"{ours['predict_cells_per_s'] / ref['predict_cells_per_s']:.2f}x | "
            f"{ours['ig_cells_per_s'] / ref['ig_cells_per_s']:.2f}x | "
            f"{ours['hidden_accuracy']:.3f} / {ref['hidden_accuracy']:.3f} |")
    return lines if len(lines) > 2 else []  # no pair of methods: no ratios


def _table(res: dict) -> list[str]:
    methods = list(res)
    pair = len(methods) == 2
    lines = ["| metric | " + " | ".join(methods) + (" | ours / reference |" if pair else " |"),
             "|---" * (len(methods) + 1 + pair) + "|"]
    for label, key, f in _ROWS:
        vals = [res[m].get(key) for m in methods]
        cells = [f.format(v) if v is not None else "n/a" for v in vals]
        ratio = f" {vals[0] / vals[1]:.2f} |" if pair and all(v for v in vals) else ""
        lines.append(f"| {label} | " + " | ".join(cells) + " |" + ratio)
    lines += ["", "Per round (wall): " + "; ".join(
        f"{m} training cells/s {[round(v) for v in res[m]['train_cells_per_s_all']]}, "
        f"per CPU-s {[round(v) for v in res[m]['train_cells_per_cpu_s_all']]}, matmul GFLOP/s "
        f"before/after training {res[m]['matmul_gflops_all']}" for m in methods)]
    return lines


def _ig_check_lines(check: dict) -> list[str]:
    lines = ["", "## fadvi_core IG vs plain captum", ""]
    if "error" in check:
        return lines + [f"Check failed to run: {check['error']}"]
    return lines + [
        f"On {check['n_cells']} cells, captum `IntegratedGradients(ClassProbability("
        "module, 'l'))`, zero baseline, 50 steps, gausslegendre, target = predicted class:",
        "",
        f"- relative error (Frobenius) {check['relative_error_frobenius']:.2e}; "
        f"max abs diff / max abs {check['relative_error_max_abs']:.2e}; worst cell "
        f"{check['relative_error_per_cell_max']:.2e} -> within 1e-4: **{check['within_1e-4']}**",
        f"- completeness: max |sum(attr) - (f(x) - f(0))| ours "
        f"{check['ours_abs_delta_max']:.2e}, captum's convergence delta "
        f"{check['captum_abs_delta_max']:.2e} (mean |f(x) - f(0)| "
        f"{check['abs_gap_mean']:.3f}) -> ours within captum's delta: "
        f"**{check['ours_delta_within_captum_delta']}**",
    ]


def write_markdown(path: Path, result: dict) -> None:
    cfg = result["config"]
    first = next(iter(next(iter(result["results"].values())).values()))
    mm = ", ".join(f"{m['threads']} thread(s) {m['gflops_best']:.1f} best / "
                   f"{m['gflops_median']:.1f} median" for m in result["matmul"].values())
    lines = ["# Throughput benchmark", "", "```", result["command"], "```", "",
             f"Started {result['started']}. CPU, torch threads = "
             f"{' and '.join(str(t) for t in cfg['threads'])} (the same for every method in a "
             f"row); pbmc3tech_savercat, 2,000 HVGs, cells x{cfg['replicate']} = "
             f"{first['n_cells']} cells, labels of `{HIDDEN}` hidden; default hyperparameters, "
             f"batch_size {cfg['batch_size']}, {cfg['epochs']} epochs, seed {cfg['seed']}, IG on "
             f"{cfg['ig_cells']} cells. Each method in its own subprocess, {cfg['rounds']} "
             "rounds, thread counts and methods interleaved in alternating order; speeds are "
             "the best round, accuracy the first round (same seed). Per CPU-second: cells / "
             "`time.process_time()` of the same call. Memory is that process's peak resident "
             "set size (`ru_maxrss`, interpreter + libraries + data + model).", "",
             f"Machine: float32 matmul 2048x2048 GFLOP/s: {mm}; 2 cores shared with other "
             "work, so timings carry noise (load average "
             f"{result['load_average_before_after'][0][0]:.1f} before, "
             f"{result['load_average_before_after'][1][0]:.1f} after).", "",
             *_summary(result)]
    for threads, res in result["results"].items():
        lines += ["", f"## {threads} torch thread(s)", "", *_table(res)]
    check = result["results"].get(str(cfg["threads"][0]), {}).get("fadvi_core", {}).get(
        "ig_check")
    if check:
        lines += _ig_check_lines(check)
    v = result["versions"]
    lines += ["", "Versions: " + ", ".join(f"{k} {v[k]}" for k in sorted(v)), ""]
    path.write_text("\n".join(lines))


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.worker:
        worker(args)
        return
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    environment = C.versions()  # at the start: the code the run imports
    passthrough = ["--epochs", str(args.epochs), "--replicate", str(args.replicate),
                   "--batch-size", str(args.batch_size), "--ig-cells", str(args.ig_cells),
                   "--seed", str(args.seed)]
    if args.skip_ig_check:
        passthrough.append("--skip-ig-check")
    runs = {(t, m): [] for t in args.threads for m in args.methods}
    errors = {}
    load_before = os.getloadavg()
    step = 0
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for threads in args.threads:
                order = args.methods if step % 2 == 0 else args.methods[::-1]
                step += 1
                for method in order:
                    if (threads, method) in errors:
                        continue
                    target = Path(tmp) / f"{method}-{threads}-{r}.json"
                    cmd = [sys.executable, os.path.abspath(__file__), "--worker", method,
                           "--worker-out", str(target), *passthrough, "--threads", str(threads)]
                    if r > 0 or threads != args.threads[0]:
                        cmd.append("--skip-ig-check")
                    proc = subprocess.run(cmd, capture_output=True, text=True)
                    if proc.returncode != 0 or not target.exists():
                        errors[threads, method] = proc.stderr[-3000:]
                        print(f"{method} ({threads} threads) failed:\n{proc.stderr[-3000:]}",
                              file=sys.stderr)
                        continue
                    run = json.loads(target.read_text())
                    run["rss_growth_mib"] = run["peak_rss_mib"] - run["rss_mib_after_data"]
                    run["round"] = r
                    runs[threads, method].append(run)
                    print(json.dumps({k: v for k, v in run.items() if k != "ig_check"}),
                          flush=True)
    results, ratios = {}, {}
    for threads in args.threads:
        res = {m: combine(runs[threads, m]) if (threads, m) not in errors
               else {"error": errors[threads, m]} for m in args.methods}
        results[str(threads)] = res
        if all("error" not in res.get(m, {"error": 1}) for m in FADVI_METHODS):
            ours, ref = res["fadvi_core"], res["reference"]
            ratios[str(threads)] = {
                key: ours[key] / ref[key] if ref[key] else float("nan")
                for key in ("train_cells_per_s", "predict_cells_per_s", "ig_cells_per_s",
                            "train_cells_per_cpu_s", "predict_cells_per_cpu_s",
                            "ig_cells_per_cpu_s", "peak_rss_mib", "rss_growth_mib",
                            "hidden_accuracy", "hidden_balanced_accuracy")}
    result = {
        "command": C.command_line(),
        "started": started,
        "config": {k: v for k, v in vars(args).items() if not k.startswith("worker")},
        "versions": environment,
        "load_average_before_after": [load_before, os.getloadavg()],
        "matmul": {str(t): matmul_flops(t) for t in args.threads},
        "rounds": {f"{t}-{m}": v for (t, m), v in runs.items()},
        "results": results,
        "ratio_fadvi_core_over_reference": ratios,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(result, indent=2))
    ok = {t: {m: r for m, r in res.items() if "error" not in r} for t, res in results.items()}
    if any(ok.values()):
        write_markdown(out.with_suffix(".md"), {**result, "results": {t: r for t, r in ok.items()
                                                                     if r}})
        print(out.with_suffix(".md").read_text())
    if errors:
        sys.exit(1)


if __name__ == "__main__":
    main()
