"""paperlab NMF (NumPy and torch backends) vs scikit-learn's NMF(solver="mu"), side by side.

Same data, same initial W₀/H₀ (scikit-learn gets them through init="custom"), same number of iterations,
tol=0 (so scikit-learn never evaluates the objective during the iterations; paperlab is run with
eval_every=0 for the same reason: objective only at the end).  Each timing is the median of
``--repeats`` whole ``fit_transform`` calls (validation, conversion and final objective included) divided
by the number of iterations.  Peak memory is the growth of the process's peak RSS during one extra fit.

    python benchmarks/nmf_vs_sklearn.py --json benchmarks/results/nmf_vs_sklearn.json
"""

from __future__ import annotations

import argparse
import ctypes
import os
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.decomposition import NMF as SklearnNMF
from threadpoolctl import threadpool_limits

from paperlab.core.benchmark import format_cases, median_time, write_benchmark_json
from paperlab.nmf import NMF
from paperlab.nmf.init import initialize
from paperlab.nmf.matrices import as_data_matrix
from paperlab.nmf.updates import objective

SKLEARN_LOSS = {"frobenius": "frobenius", "kl": "kullback-leibler"}


def make_data(kind: str, dtype: str, seed: int = 0, scale: float = 1.0):
    """dense: 2000×1000 nonnegative rank-20 signal plus noise; sparse: 20000×5000 at 1% density."""
    rng = np.random.default_rng(seed)
    if kind == "dense":
        m, n = int(2000 * scale), int(1000 * scale)
        V = rng.random((m, 20)) @ rng.random((20, n)) + 0.1 * rng.random((m, n))
        return V.astype(dtype)
    m, n = int(20000 * scale), int(5000 * scale)
    return sp.random(m, n, density=0.01, format="csr", random_state=seed, dtype=np.float64).astype(dtype)


def peak_rss_growth_mb(fn) -> float:
    """Peak resident memory growth while fn runs, measured in a forked child (Linux only).

    The child first hands its free heap back to the OS (malloc_trim) and makes glibc serve every allocation
    above 64 KiB with mmap (so freed arrays are not silently reused), then resets its peak (VmHWM) and runs fn.
    Timings are never taken in that child.
    """
    def status(field: str) -> float:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field):
                return float(line.split()[1]) / 1024.0
        return float("nan")

    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_end)
        value = float("nan")
        try:
            libc = ctypes.CDLL("libc.so.6")
            libc.mallopt(-3, 64 * 1024)   # M_MMAP_THRESHOLD
            libc.malloc_trim(0)
            Path("/proc/self/clear_refs").write_text("5")
            before = status("VmRSS:")
            fn()
            value = status("VmHWM:") - before
        finally:
            os.write(write_end, repr(value).encode())
            os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as fh:
        text = fh.read()
    os.waitpid(pid, 0)
    return float(text) if text else float("nan")


def matmul_gflops(dtype: str, library: str, size: int = 2000, repeats: int = 5) -> float:
    rng = np.random.default_rng(0)
    A, B = rng.random((size, size)).astype(dtype), rng.random((size, size)).astype(dtype)
    if library == "torch":
        A, B = torch.from_numpy(A), torch.from_numpy(B)
    timing = median_time(lambda: A @ B, repeats=repeats, warmup=1)
    return 2 * size**3 / timing["median"] / 1e9


def run_case(kind: str, loss: str, dtype: str, n_iter: int, rank: int, repeats: int, scale: float) -> list[dict]:
    V = make_data(kind, dtype, scale=scale)
    W0, H0 = initialize(V, rank, "random", 0, dtype)
    V64 = as_data_matrix(V.astype(np.float64))
    case = f"{kind} {V.shape[0]}x{V.shape[1]} r{rank} {loss} {dtype}"
    impls = {
        "sklearn-mu": lambda: SklearnNMF(rank, solver="mu", beta_loss=SKLEARN_LOSS[loss], init="custom", max_iter=n_iter,
                                         tol=0.0),
        "paperlab-numpy": lambda: NMF(rank, loss=loss, max_iter=n_iter, tol=0.0, eval_every=0, backend="numpy"),
        "paperlab-torch": lambda: NMF(rank, loss=loss, max_iter=n_iter, tol=0.0, eval_every=0, backend="torch"),
    }
    rows = []
    for impl, make in impls.items():
        result = {}

        def fit():
            model = make()
            W = model.fit_transform(V, W=W0.copy(), H=H0.copy())
            result["W"], result["H"] = W, model.components_

        timing = median_time(fit, repeats=repeats, warmup=1)
        peak = peak_rss_growth_mb(fit)
        W, H = (np.asarray(x.cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64) for x in (result["W"], result["H"]))
        rows.append({"case": case, "impl": impl, "kind": kind, "loss": loss, "dtype": dtype, "n_iter": n_iter,
                     "s_per_iter": timing["median"] / n_iter, "iqr_s_per_iter": timing["iqr"] / n_iter,
                     "times_s": timing["times"], "final_objective": objective(V64, W, H, loss),
                     "peak_mem_mb": peak, "reference": "sklearn-mu"})
        print(f"  {impl:15s} {rows[-1]['s_per_iter'] * 1e3:8.2f} ms/iter", flush=True)
    ref = rows[0]
    for row in rows:
        row["speedup_vs_reference"] = ref["s_per_iter"] / row["s_per_iter"]
        row["objective_rel_diff_vs_reference"] = abs(row["final_objective"] - ref["final_objective"]) / ref["final_objective"]
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dense-iter", type=int, default=50)
    parser.add_argument("--sparse-iter", type=int, default=20)
    parser.add_argument("--rank", type=int, default=20)
    parser.add_argument("--scale", type=float, default=1.0, help="shrink both matrices (for a smoke run)")
    parser.add_argument("--only", default="", help="comma list of substrings; run only matching cases")
    parser.add_argument("--threads", type=int, default=1,
                        help="BLAS and torch threads for every implementation (default 1: the 2-core machine is shared)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    with threadpool_limits(args.threads):
        run_all(args)


def run_all(args) -> None:
    started = time.time()
    peaks = {f"{lib}_{dt}_gflops": matmul_gflops(dt, lib) for lib in ("numpy", "torch") for dt in ("float64", "float32")}
    print("matmul 2000x2000 GFLOP/s:", {k: round(v, 1) for k, v in peaks.items()}, flush=True)
    cases = []
    for kind in ("dense", "sparse"):
        for loss in ("frobenius", "kl"):
            for dtype in ("float64", "float32"):
                label = f"{kind}-{loss}-{dtype}"
                if args.only and not any(s in label for s in args.only.split(",")):
                    continue
                print(label, flush=True)
                n_iter = args.dense_iter if kind == "dense" else args.sparse_iter
                cases += run_case(kind, loss, dtype, n_iter, args.rank, args.repeats, args.scale)
    for row in cases:  # achieved fraction of measured matmul throughput, dense Frobenius only
        if row["kind"] == "dense" and row["loss"] == "frobenius":
            m, n = (int(x) for x in row["case"].split()[1].split("x"))
            k = args.rank
            flops = 4 * m * n * k + 4 * k * k * (m + n)  # VHᵀ, WᵀV; HHᵀ, W(HHᵀ), WᵀW, (WᵀW)H
            lib = "torch" if row["impl"] == "paperlab-torch" else "numpy"
            row["gflops"] = flops / row["s_per_iter"] / 1e9
            row["fraction_of_matmul_peak"] = row["gflops"] / peaks[f"{lib}_{row['dtype']}_gflops"]
    print(format_cases(cases, ["case", "impl", "s_per_iter", "speedup_vs_reference", "final_objective",
                               "objective_rel_diff_vs_reference", "peak_mem_mb"]))
    if args.json:
        note = ("Machine shared with other jobs (see load_average): absolute times are inflated and ratios noisy. "
                "s_per_iter = median whole fit_transform time / n_iter. paperlab runs with eval_every=0 "
                "(objective only at start and end) since sklearn with tol=0 never evaluates it. "
                f"BLAS and torch limited to {args.threads} thread(s) for every implementation.")
        write_benchmark_json(args.json, cases, matmul_peak=peaks, settings=vars(args) | {"json": str(args.json)},
                             wall_s=time.time() - started, note=note)
        print("wrote", args.json)


if __name__ == "__main__":
    main()
