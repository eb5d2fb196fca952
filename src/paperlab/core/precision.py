"""The precision setting of every torch paper: ``fp32 | bf16-mixed | auto`` (PyTorch Lightning's names).

``fp32`` (the default, and what every committed claim was measured with) computes everything in float32.
``bf16-mixed`` runs matmuls and convolutions in bfloat16 under ``torch.autocast`` while keeping float32
where precision matters: parameters and optimizer state stay float32 (autocast never changes them), losses
and reductions are computed on float32 (callers cast outputs with ``.float()`` before a loss), and a block
that must stay exact (SIREN's first layer on its coordinates: ``sin(30 * x W)`` amplifies the ~3 significant
digits of bf16 into phase errors) runs inside :func:`full_precision`.
``auto`` becomes ``bf16-mixed`` only where this machine runs bf16 fast, decided by a short measurement
(bf16 vs fp32 matmul and ``nn.Linear`` forward + backward, :func:`measure_bf16_speedup`), not by CPU flags:
AMX or AVX512-BF16 CPUs measure 2-8x, CPUs without native bf16 (AVX2 only) measure slower than fp32, and
CUDA devices without bf16 support are never picked. The measurement is cached per machine (CPU model,
vector ISA, torch version, CUDA device) in ``~/.cache/paperlab/precision.json`` (``$PAPERLAB_CACHE_DIR``
moves it), so ``auto`` resolves the same way on every run of one machine and a finished run is reused.

How a run uses it: ``run_experiment`` resolves the setting (argument, else ``$PAPERLAB_PRECISION``, which
``--precision`` sets, else fp32), records the resolved value in ``config.json`` and in the run identity
(only when it is not fp32, so fp32 runs keep the identities they always had), and runs the experiment inside
:func:`use_precision`. A training step then wraps its forward pass in :func:`autocast` ``(device)``, which
is a no-op under fp32.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any, Callable, Iterator

PRECISIONS = ("fp32", "bf16-mixed", "auto")
PRECISION_ENV = "PAPERLAB_PRECISION"
DEFAULT_PRECISION = "fp32"
# bf16 must be at least this much faster than fp32 on the measured shapes for `auto` to pick it: native bf16
# measures ~2x (AVX512-BF16, here) to 4-8x (AMX, CUDA); emulated bf16 measures below 1x. The margin keeps the
# choice stable against the noise of a shared machine.
MIN_SPEEDUP = 1.3
CACHE_ENV = "PAPERLAB_CACHE_DIR"

_current = DEFAULT_PRECISION


def check_precision(precision: Any) -> str:
    """`precision` if it is one of PRECISIONS, else a one-line ValueError naming the value and what is allowed."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r} is not one of {', '.join(PRECISIONS)}")
    return precision


def resolve_precision(precision: str | None = None, device: Any = "cpu",
                      speedup: Callable[[Any], float] | None = None) -> str:
    """The precision a run computes in: "fp32" or "bf16-mixed".

    `precision` if given, else $PAPERLAB_PRECISION, else fp32; "auto" becomes "bf16-mixed" where
    `speedup(device)` (default: :func:`bf16_speedup`, the cached measurement) is at least MIN_SPEEDUP and the
    device supports bf16 at all."""
    if precision is None:
        text = os.environ.get(PRECISION_ENV, "").strip()
        precision = text or DEFAULT_PRECISION
        if text and text not in PRECISIONS:
            raise ValueError(f"${PRECISION_ENV}={text!r} is not one of {', '.join(PRECISIONS)}")
    check_precision(precision)
    if precision != "auto":
        return precision
    if not bf16_supported(device):
        return "fp32"
    return "bf16-mixed" if (speedup or bf16_speedup)(device) >= MIN_SPEEDUP else "fp32"


def _device_type(device: Any) -> str:
    import torch

    return torch.device(device).type


def bf16_supported(device: Any) -> bool:
    """Whether bf16 runs on `device` at all (every CPU does, emulated or native; CUDA needs Ampere or later)."""
    if _device_type(device) == "cuda":
        import torch

        return torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    return _device_type(device) == "cpu"


# -- the measurement ---------------------------------------------------------------------------------
def measure_bf16_speedup(device: Any = "cpu", repeats: int = 7) -> dict[str, Any]:
    """fp32 time / bf16 time of a short workload like the papers' training steps, timed interleaved
    (round-robin, median of `repeats`): a 512 x 256 x 256 matmul and a 1024 x 256 -> 256 ``nn.Linear``
    forward + backward (under autocast for bf16). About 0.1-0.3 s on one CPU thread. Returns the speedup
    (the smaller of the two ratios, so both kinds of work must gain) and the ratios."""
    import torch

    dev = torch.device(device)
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    gen = torch.Generator().manual_seed(0)
    a, w = torch.randn(512, 256, generator=gen).to(dev), torch.randn(256, 256, generator=gen).to(dev)
    ab, wb = a.bfloat16(), w.bfloat16()
    layer = torch.nn.Linear(256, 256).to(dev)
    x = torch.randn(1024, 256, generator=gen).to(dev)

    def linear_step(bf16: bool) -> None:
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bf16):
            y = layer(x)
        y.float().square().mean().backward()

    work = {"matmul": ({"fp32": lambda: a @ w, "bf16": lambda: ab @ wb}, 8),
            "linear": ({"fp32": lambda: linear_step(False), "bf16": lambda: linear_step(True)}, 2)}
    clock = time.perf_counter if dev.type == "cuda" else time.process_time
    ratios = {}
    for name, (fns, inner) in work.items():
        for fn in fns.values():   # warm-up: kernels picked, memory allocated
            fn()
        times: dict[str, list[float]] = {k: [] for k in fns}
        for _ in range(repeats):
            for key, fn in fns.items():
                sync()
                start = clock()
                for _ in range(inner):
                    fn()
                sync()
                times[key].append(clock() - start)
        ratios[name] = statistics.median(times["fp32"]) / max(statistics.median(times["bf16"]), 1e-12)
    return {"speedup": min(ratios.values()), "ratios": ratios, "repeats": repeats}


def machine_key(device: Any = "cpu") -> str:
    """What the measurement depends on: CPU model and vector ISA, torch version, and the CUDA device."""
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    parts = [cpu, torch.backends.cpu.get_cpu_capability(), torch.__version__, _device_type(device)]
    if _device_type(device) == "cuda" and torch.cuda.is_available():
        parts.append(torch.cuda.get_device_name(torch.device(device)))
    return " | ".join(parts)


def cache_path() -> Path:
    root = os.environ.get(CACHE_ENV)
    return (Path(root) if root else Path.home() / ".cache" / "paperlab") / "precision.json"


_memory: dict[str, float] = {}


def bf16_speedup(device: Any = "cpu") -> float:
    """The measured bf16 speedup on this machine and device: from this process's cache, else the disk cache,
    else measured now (on one thread, like a run) and stored in both."""
    key = machine_key(device)
    if key in _memory:
        return _memory[key]
    path = cache_path()
    try:
        stored = json.loads(path.read_text())
    except (OSError, ValueError):
        stored = {}
    if isinstance(stored.get(key), dict) and isinstance(stored[key].get("speedup"), (int, float)):
        _memory[key] = float(stored[key]["speedup"])
        return _memory[key]
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # runs use one thread by default; the ratio is what a run would see
    try:
        result = measure_bf16_speedup(device)
    finally:
        torch.set_num_threads(threads)
    _memory[key] = float(result["speedup"])
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        stored[key] = result
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(stored, indent=1))
        os.replace(tmp, path)
    except OSError:
        pass   # a read-only home only costs re-measuring in the next process
    return _memory[key]


# -- using it in a training step ---------------------------------------------------------------------
def current_precision() -> str:
    """The precision the running experiment computes in ("fp32" or "bf16-mixed")."""
    return _current


@contextlib.contextmanager
def use_precision(precision: str) -> Iterator[str]:
    """Run a block (an experiment) in `precision` ("fp32" or "bf16-mixed"; resolve "auto" first)."""
    global _current
    if check_precision(precision) == "auto":
        raise ValueError("use_precision needs a resolved precision (fp32 or bf16-mixed); call resolve_precision")
    previous, _current = _current, precision
    try:
        yield precision
    finally:
        _current = previous


def autocast(device: Any, precision: str | None = None):
    """The context a training step runs its forward pass (and loss inputs) in: ``torch.autocast`` to bf16 on
    `device` under bf16-mixed, a disabled autocast (plain fp32) under fp32. `precision` defaults to the
    running experiment's. Cast outputs to float32 (``.float()``) before losses and reductions."""
    import torch

    enabled = (precision or _current) == "bf16-mixed"
    return torch.autocast(_device_type(device), dtype=torch.bfloat16, enabled=enabled)


def full_precision(device: Any):
    """A block that stays float32 inside :func:`autocast` (e.g. SIREN's first sine layer on the coordinates).
    Inputs produced under autocast may be bf16: cast them with ``.float()`` inside the block."""
    import torch

    return torch.autocast(_device_type(device), enabled=False)


def precision_info(device: Any = "cpu") -> dict[str, Any]:
    """What a benchmark records: the default precision a user gets here (``auto`` resolved), the measured bf16
    speedup behind it, and the CPU's vector ISA."""
    import torch

    return {"cpu_capability": torch.backends.cpu.get_cpu_capability(), "bf16_supported": bf16_supported(device),
            "bf16_speedup_measured": round(bf16_speedup(device), 3) if bf16_supported(device) else None,
            "auto_resolves_to": resolve_precision("auto", device), "default_precision": DEFAULT_PRECISION}
