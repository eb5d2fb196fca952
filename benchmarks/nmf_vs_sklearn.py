"""paperlab NMF (NumPy and torch backends) vs scikit-learn's NMF(solver="mu"), side by side.

Same data, same initial W₀/H₀ (scikit-learn gets them through init="custom").
Fixed-iteration cases: same number of iterations, tol=0 (so scikit-learn never evaluates the objective
during the iterations; paperlab is run with eval_every=0 for the same reason: objective only at the end).
Fixed-iteration digits cases (1797x64, rank 16, 300 iterations, both losses; float64 and float32): the
small matrix where per-iteration overhead shows, as measured in issue 26.
"defaults" cases (digits 1797x64 rank 16, the dense and the sparse matrix): both libraries with their own
defaults (tol=1e-4, max_iter=200), each stopping by its own rule; the ratio is per whole fit.
Each timing is the median of ``--repeats`` whole ``fit_transform`` calls (validation, conversion and final
objective included), the implementations timed round-robin; s_per_iter divides by the iterations run.
Peak memory is the growth of the process's peak RSS during one extra fit.

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

from paperlab.core.benchmark import format_cases, interleaved_times, write_benchmark_json
from paperlab.core.precision import precision_info
from paperlab.nmf import NMF
from paperlab.nmf.init import initialize
from paperlab.nmf.matrices import as_data_matrix
from paperlab.nmf.updates import objective

SKLEARN_LOSS = {"frobenius": "frobenius", "kl": "kullback-leibler"}


def make_data(kind: str, dtype: str, seed: int = 0, scale: float = 1.0):
    """dense: 2000×1000 nonnegative rank-20 signal plus noise; sparse: 20000×5000 at 1% density; digits:
    scikit-learn's 1797×64 digits."""
    if kind == "digits":
        from sklearn.datasets import load_digits
        return load_digits().data.astype(dtype)
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
    timing = interleaved_times({"matmul": lambda: A @ B}, repeats)["matmul"]
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
    return _time_impls(case, impls, V, W0, H0, loss, repeats, kind=kind, dtype=dtype, n_iter=n_iter)


def _time_impls(case: str, impls: dict, V, W0, H0, loss: str, repeats: int, **info) -> list[dict]:
    """Interleaved whole-fit timings (round-robin, so load hits every implementation alike), then peak memory."""
    V64 = as_data_matrix(V.astype(np.float64))
    results: dict[str, dict] = {impl: {} for impl in impls}

    def fitter(impl):
        def fit():
            model = impls[impl]()
            W = model.fit_transform(V, W=W0.copy(), H=H0.copy())
            results[impl].update(W=W, H=model.components_, n_iter=int(model.n_iter_))
        return fit

    timed = interleaved_times({impl: fitter(impl) for impl in impls}, repeats)
    rows = []
    for impl, timing in timed.items():
        result = results[impl]
        W, H = (np.asarray(x.cpu() if isinstance(x, torch.Tensor) else x, dtype=np.float64) for x in (result["W"], result["H"]))
        n_iter = result["n_iter"]
        rows.append({"case": case, "impl": impl, "loss": loss, **info, "n_iter": n_iter,
                     "s_per_fit": timing["median"], "s_per_iter": timing["median"] / max(n_iter, 1),
                     "iqr_s_per_iter": timing["iqr"] / max(n_iter, 1), "times_s": timing["times"],
                     "final_objective": objective(V64, W, H, loss), "peak_mem_mb": peak_rss_growth_mb(fitter(impl)),
                     "reference": "sklearn-mu"})
        print(f"  {impl:15s} {rows[-1]['s_per_iter'] * 1e3:8.2f} ms/iter  {n_iter} iterations", flush=True)
    ref = rows[0]
    for row in rows:   # whole fits: with tol > 0 each library stops by its own rule
        row["speedup_vs_reference"] = ref["s_per_fit"] / row["s_per_fit"]
        row["objective_rel_diff_vs_reference"] = abs(row["final_objective"] - ref["final_objective"]) / ref["final_objective"]
    return rows


def run_defaults_case(kind: str, loss: str, repeats: int, scale: float) -> list[dict]:
    """Both libraries with their own defaults (tol=1e-4, max_iter=200, their own convergence checks: every 10
    iterations for both) from the same W0/H0; digits: scikit-learn's 1797x64 digits at rank 16."""
    if kind == "digits":
        from sklearn.datasets import load_digits
        V, rank = load_digits().data.astype(np.float64), 16
    else:
        V, rank = make_data(kind, "float64", scale=scale), 20
    W0, H0 = initialize(V, rank, "random", 0, "float64")
    impls = {"sklearn-mu": lambda: SklearnNMF(rank, solver="mu", beta_loss=SKLEARN_LOSS[loss], init="custom"),
             "paperlab-numpy": lambda: NMF(rank, loss=loss, backend="numpy"),
             "paperlab-torch": lambda: NMF(rank, loss=loss, backend="torch")}
    case = f"defaults {kind} {V.shape[0]}x{V.shape[1]} r{rank} {loss} float64"
    return _time_impls(case, impls, V, W0, H0, loss, repeats, kind=f"defaults-{kind}", dtype="float64")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dense-iter", type=int, default=50)
    parser.add_argument("--sparse-iter", type=int, default=20)
    parser.add_argument("--digits-iter", type=int, default=300)
    parser.add_argument("--rank", type=int, default=20)
    parser.add_argument("--defaults-repeats", type=int, default=3, help="repeats of the whole-fit 'defaults' cases")
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
    for kind in ("digits", "dense", "sparse"):
        for loss in ("frobenius", "kl"):
            label = f"defaults-{kind}-{loss}"
            if args.only and not any(s in label for s in args.only.split(",")):
                continue
            print(label, flush=True)
            cases += run_defaults_case(kind, loss, args.defaults_repeats, args.scale)
    for kind in ("digits", "dense", "sparse"):
        for loss in ("frobenius", "kl"):
            for dtype in ("float64", "float32"):
                label = f"{kind}-{loss}-{dtype}"
                if args.only and not any(s in label for s in args.only.split(",")):
                    continue
                print(label, flush=True)
                n_iter = {"dense": args.dense_iter, "sparse": args.sparse_iter, "digits": args.digits_iter}[kind]
                rank = 16 if kind == "digits" else args.rank
                cases += run_case(kind, loss, dtype, n_iter, rank, args.repeats, args.scale)
    for row in cases:  # achieved fraction of measured matmul throughput, dense Frobenius only
        if row["kind"] == "dense" and row["loss"] == "frobenius":   # the two skinny GEMMs are the floor
            m, n = (int(x) for x in row["case"].split()[1].split("x"))
            k = args.rank
            flops = 4 * m * n * k + 4 * k * k * (m + n)  # VHᵀ, WᵀV; HHᵀ, W(HHᵀ), WᵀW, (WᵀW)H
            lib = "torch" if row["impl"] == "paperlab-torch" else "numpy"
            row["gflops"] = flops / row["s_per_iter"] / 1e9
            row["fraction_of_matmul_peak"] = row["gflops"] / peaks[f"{lib}_{row['dtype']}_gflops"]
    print(format_cases(cases, ["case", "impl", "s_per_iter", "speedup_vs_reference", "final_objective",
                               "objective_rel_diff_vs_reference", "peak_mem_mb"]))
    if args.json:
        note = ("Machine shared with other jobs (see load_average): absolute times are inflated and ratios noisy; "
                "implementations are timed round-robin (interleaved) so load hits them alike. "
                "s_per_iter = median whole fit_transform time / n_iter. Fixed-iteration cases: tol=0 and paperlab "
                "with eval_every=0 (objective only at start and end) since sklearn with tol=0 never evaluates it. "
                "'defaults' cases: both libraries with their defaults (tol=1e-4, max_iter=200, convergence "
                "checked every 10 iterations), same W0/H0; speedup there is per whole fit. "
                f"BLAS and torch limited to {args.threads} thread(s) for every implementation.")
        write_benchmark_json(args.json, cases, matmul_peak=peaks, precision={
                                 **precision_info("cpu"), "nmf": "fp32/float64 as given: NMF's updates are NumPy or "
                                 "torch arithmetic on the data's dtype, not a torch training step, so --precision "
                                 "does not apply"}, settings=vars(args) | {"json": str(args.json)},
                             wall_s=time.time() - started, note=note)
        print("wrote", args.json)


if __name__ == "__main__":
    main()
