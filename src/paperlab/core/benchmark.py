"""Benchmark helpers: machine description, repeated timings (median), the shared JSON format.

Every benchmark writes {"machine": {...}, "cases": [{"case", "impl", "reference",
"speedup_vs_reference", ...}]}, timing implementations side by side in one run.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable


def machine_info() -> dict[str, Any]:
    info: dict[str, Any] = {
        "platform": platform.platform(), "processor": platform.processor() or platform.machine(),
        "python": platform.python_version(), "cpu_count": os.cpu_count(),
        "date": datetime.now(timezone.utc).isoformat(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        info["load_average"] = list(os.getloadavg())
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()
        info["memory_gb"] = round(int(mem[1]) / 1024**2, 1)
    except OSError:
        pass
    try:
        import numpy
        import torch

        info["numpy"] = numpy.__version__
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
        info["cpu_capability"] = torch.backends.cpu.get_cpu_capability()   # vector ISA torch dispatches to
        info["cuda"] = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
        from paperlab.core import linear

        info["onednn_linear"] = linear.onednn_available() and linear.onednn_linear_enabled()
        info["shared_machine_note"] = ("2 cores shared with up to 5 other jobs (see load_average): times are "
                                       "process CPU time of interleaved (round-robin) runs, so waiting for a core "
                                       "is excluded and load hits both sides alike; cache sharing still adds noise")
    except ImportError:
        pass
    return info


def interleaved_times(fns: dict[str, Callable[[], Any]], repeats: int = 5, warmup: int = 1) -> dict[str, dict]:
    """Time implementations round-robin (one call of each per round), so load changes on a shared machine
    hit all of them alike; per implementation: median, interquartile range and all times (seconds).

    The times are this process's CPU time (``time.process_time``), not wall time: on a 2-core machine shared
    by several jobs a single-threaded call often waits for a core, and that waiting (measured here: single
    calls 2 ms or 14 ms at random) is no property of the code. ``wall_median`` keeps the wall-clock median.
    Only meaningful for single-threaded code whose work runs in this process."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    walls: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            wall, start = time.perf_counter(), time.process_time()
            fn()
            times[name].append(time.process_time() - start)
            walls[name].append(time.perf_counter() - wall)
    out = {}
    for name, ts in times.items():
        quartiles = statistics.quantiles(ts, n=4) if len(ts) >= 2 else [ts[0]] * 3
        out[name] = {"median": statistics.median(ts), "iqr": quartiles[2] - quartiles[0], "times": ts,
                     "clock": "process_time", "wall_median": statistics.median(walls[name])}
    return out


def matmul_peak_gflops(repeats: int = 5) -> dict[str, float]:
    """Measured fp32 matmul throughput (GFLOP/s, current thread settings) of each backend the models use:
    torch's default matmul (MKL), oneDNN (the :mod:`paperlab.core.linear` fast path) and NumPy, each on a
    large square product (1024 x 1024 x 1024) -- the peak a benchmark's achieved GFLOP/s is a fraction of."""
    import torch

    from paperlab.core import linear

    n = 1024
    a, b = torch.rand(n, n), torch.rand(n, n)
    an, bn = a.numpy(), b.numpy()
    fns = {"torch_default_fp32": lambda: a @ b, "numpy_fp32": lambda: an @ bn}
    if linear.onednn_available():
        fns["onednn_fp32"] = lambda: linear._mm(a, b)
    flops = 2 * n ** 3
    return {name: flops / t["median"] / 1e9 for name, t in interleaved_times(fns, repeats).items()} | {
        "shape": f"{n}x{n}x{n}", "numpy_blas": _numpy_blas()}


def matmul_flops(fn: Callable[[], Any]) -> int:
    """Matmul/convolution FLOPs of one call of ``fn`` (forward and backward, ``autograd.grad`` included), counted
    with torch's FLOP formulas (``torch.utils.flop_counter``) on the plain path: they do not know the oneDNN op,
    and the work is the same. (``FlopCounterMode`` itself cannot run under ``autograd.grad``.)"""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import flop_registry

    from paperlab.core import linear

    class Count(TorchDispatchMode):
        flops = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            formula = flop_registry.get(func._overloadpacket)
            if formula is not None:
                self.flops += formula(*args, **kwargs, out_val=out)
            return out

    threshold, linear.MIN_MACS = linear.MIN_MACS, 2 ** 62   # plain path even where fn switches the backend on
    try:
        with Count() as counter:
            fn()
    finally:
        linear.MIN_MACS = threshold
    return int(counter.flops)


def _numpy_blas() -> str:
    try:
        from threadpoolctl import threadpool_info

        return ",".join(sorted({i.get("internal_api", "?") for i in threadpool_info() if i.get("user_api") == "blas"}))
    except ImportError:
        return "unknown"


def write_benchmark_json(path: str | Path, cases: list[dict[str, Any]], **extra: Any) -> Path:
    """Validate the shared case format and write the benchmark JSON."""
    required = {"case", "impl", "reference", "speedup_vs_reference"}
    for row in cases:
        missing = required - set(row)
        if missing:
            raise ValueError(f"benchmark case {row.get('case')!r}/{row.get('impl')!r} lacks {sorted(missing)}")
    from paperlab.core.runs import write_json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_json(path, {"machine": machine_info(), **extra, "cases": cases})
    return path


def format_cases(cases: list[dict[str, Any]], columns: list[str]) -> str:
    """A plain text table of benchmark cases."""
    rows = [[str(c.get(col, "")) if not isinstance(c.get(col), float) else f"{c[col]:.4g}" for col in columns]
            for c in cases]
    widths = [max(len(col), *(len(r[i]) for r in rows)) if rows else len(col) for i, col in enumerate(columns)]
    lines = ["  ".join(col.ljust(w) for col, w in zip(columns, widths))]
    lines += ["  ".join(val.ljust(w) for val, w in zip(r, widths)) for r in rows]
    return "\n".join(lines)
