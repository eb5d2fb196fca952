"""SIREN training-step speed: paperlab's Siren vs the straightforward implementation.

Cases (5 x 256 SIREN, 3 hidden layers, full batch, Adam):
  fit-<side>        MSE on the image values: forward + backward + Adam step
  laplacian-<side>  MSE on the Laplacian (Poisson supervision): derivatives + backward + Adam step
  gradient-<side>   MSE on the gradient
impl      = paperlab.siren.models.Siren: omega_0 folded into one matmul per layer (paperlab.core.linear's
            oneDNN fp32 backend), derivatives pushed
            forward analytically through the sine layers in one graph (Siren.forward_with_derivatives)
reference = the authors' way: per-layer nn.Linear, torch.sin(30 * x), gradient by autograd.grad with
            create_graph=True and the Laplacian as the divergence of that gradient (one more autograd.grad
            per input axis), then backward through it all.
Both start from the same weights; the first step's loss and parameter gradients are compared
(max relative difference reported). Timings are interleaved (impl, reference, impl, ...) so that load
from other processes hits both alike; peak memory is measured per case in a fresh subprocess
(growth of the peak RSS during one step on CPU, max_memory_allocated on CUDA).

Precision: "paperlab" and the reference run in fp32 (the anchor's numerics: the implementation ratio);
where ``--precision auto`` resolves to bf16-mixed on this machine (paperlab.core.precision), a third row
"paperlab bf16-mixed (auto here)" times the same step under autocast, interleaved with the other two, against
the same fp32 reference (what a user who asks for auto gets; fp32 stays the default for claims).

    python benchmarks/siren_speed.py --json benchmarks/results/siren_speed.json [--sides 64,128] [--device cpu]
"""

from __future__ import annotations

import argparse
import copy
import subprocess
import sys
import time

import torch
from torch import nn

from paperlab.core.benchmark import format_cases, interleaved_times, matmul_flops, matmul_peak_gflops, \
    write_benchmark_json
from paperlab.core.linear import onednn_linear
from paperlab.core.precision import autocast, precision_info, resolve_precision, use_precision
from paperlab.siren.data import coordinate_grid
from paperlab.siren.models import Siren

KINDS = ("fit", "gradient", "laplacian")


class ReferenceSiren(nn.Module):
    """sin(omega_0 * linear(x)) per layer, linear last layer: the straightforward implementation."""

    def __init__(self, siren: Siren):
        super().__init__()
        self.linears = nn.ModuleList([copy.deepcopy(layer.linear) for layer in siren.sine_layers])
        self.omegas = [layer.omega_0 for layer in siren.sine_layers]
        self.last = copy.deepcopy(siren.last)

    def forward(self, coords):
        h = coords
        for linear, omega in zip(self.linears, self.omegas):
            h = torch.sin(omega * linear(h))
        return self.last(h)


def reference_derivative(model: nn.Module, coords: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "fit":
        return model(coords)
    coords = coords.requires_grad_(True)
    y = model(coords)
    grad = torch.autograd.grad(y, coords, torch.ones_like(y), create_graph=True)[0]
    if kind == "gradient":
        return grad
    lap = 0
    for i in range(coords.shape[-1]):
        lap = lap + torch.autograd.grad(grad[..., i], coords, torch.ones_like(grad[..., i]), create_graph=True)[0][..., i:i + 1]
    return lap


def impl_derivative(model: Siren, coords: torch.Tensor, kind: str) -> torch.Tensor:
    if kind == "fit":
        return model(coords)
    out = model.forward_with_derivatives(coords, order=1 if kind == "gradient" else 2)
    return out["gradient"][:, 0] if kind == "gradient" else out["laplacian"]


def make_case(kind: str, side: int, device: str, seed: int = 0):
    torch.manual_seed(seed)
    siren = Siren(2, 1, 256, 3).to(device)
    reference = ReferenceSiren(siren).to(device)
    coords = coordinate_grid(side, side).to(device)
    target_dim = {"fit": 1, "gradient": 2, "laplacian": 1}[kind]
    target = torch.randn(side * side, target_dim, device=device) * 0.1
    models = {"impl": siren, "reference": reference, "impl-bf16": copy.deepcopy(siren)}
    derivative = {"impl": impl_derivative, "reference": reference_derivative, "impl-bf16": impl_derivative}
    optimizers = {name: torch.optim.Adam(m.parameters(), lr=1e-4) for name, m in models.items()}

    def step(name: str) -> float:
        precision = "bf16-mixed" if name == "impl-bf16" else "fp32"
        # the reference is plain nn.Linear (torch's default matmul)
        with onednn_linear(name != "reference"), use_precision(precision):
            optimizers[name].zero_grad(set_to_none=True)
            with autocast(device):
                prediction = derivative[name](models[name], coords.clone(), kind)
            loss = torch.mean((prediction.float() - target) ** 2)
            loss.backward()
            optimizers[name].step()
        return float(loss.detach())

    return models, step


def numerics_check(kind: str, side: int, device: str) -> dict:
    """Loss and parameter gradients of one step from identical weights."""
    models, _ = make_case(kind, side, device)
    torch.manual_seed(1)
    coords = coordinate_grid(side, side).to(device)
    target = torch.randn(side * side, 2 if kind == "gradient" else 1, device=device) * 0.1
    losses, grads = {}, {}
    for name, fn in (("impl", impl_derivative), ("reference", reference_derivative)):
        model = models[name]
        model.zero_grad()
        with onednn_linear(name == "impl"):
            loss = torch.mean((fn(model, coords.clone(), kind) - target) ** 2)
            loss.backward()
        losses[name] = float(loss.detach())
        grads[name] = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).flatten()
                                 for p in model.parameters()])
    rel = float((grads["impl"] - grads["reference"]).abs().max() / grads["reference"].abs().max())
    return {"loss_impl": losses["impl"], "loss_reference": losses["reference"],
            "loss_rel_diff": abs(losses["impl"] - losses["reference"]) / abs(losses["reference"]),
            "grad_max_rel_diff": rel}


def peak_memory_mb(kind: str, side: int, impl: str, device: str) -> float:
    """Peak memory growth of a few steps, measured in a fresh interpreter."""
    out = subprocess.run([sys.executable, __file__, "--memory-child", kind, str(side), impl, device],
                         capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def _proc_status_kib(field: str) -> int:
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def memory_child(kind: str, side: int, impl: str, device: str) -> None:
    """Peak memory of the first training step above the memory held before it (model, data). On CPU the
    first step is measured because later steps reuse pages the allocator kept from it."""
    models, step = make_case(kind, side, device)
    if device.startswith("cuda"):
        step(impl)                               # allocate the optimiser state first
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        step(impl)
        torch.cuda.synchronize()
        print((torch.cuda.max_memory_allocated() - base) / 2**20)
        return
    base = _proc_status_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as fh:   # resets the peak RSS (VmHWM) to the current RSS
        fh.write("5")
    step(impl)
    print((_proc_status_kib("VmHWM") - base) / 1024)


def time_case(kind: str, side: int, device: str, repeats: int) -> dict:
    _, step = make_case(kind, side, device)
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    names = ("impl", "reference") + (("impl-bf16",) if AUTO[device] == "bf16-mixed" else ())
    timed = interleaved_times({name: (lambda name=name: (step(name), sync())) for name in names}, repeats)
    _, flop_step = make_case(kind, side, device)
    for name, t in timed.items():
        t["matmul_gflop_per_step"] = matmul_flops(lambda: flop_step(name)) / 1e9
        t["loss_after_steps"] = step(name)   # the bf16 row's loss next to fp32's, after the same number of steps
    return timed


class _Auto(dict):
    """What --precision auto resolves to per device (measured once)."""
    def __missing__(self, device):
        self[device] = resolve_precision("auto", device)
        return self[device]


AUTO = _Auto()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", required=False, help="write the results JSON here")
    parser.add_argument("--sides", default="64,128", help="comma-separated image sides (256 is slow on CPU)")
    parser.add_argument("--kinds", default="fit,laplacian", help=f"subset of {','.join(KINDS)}")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = torch default)")
    parser.add_argument("--memory-child", nargs=4, metavar=("KIND", "SIDE", "IMPL", "DEVICE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        kind, side, impl, device = args.memory_child
        memory_child(kind, int(side), impl, device)
        return 0
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.repeats < 5:
        raise ValueError("--repeats must be >= 5")
    kinds = [k for k in args.kinds.split(",") if k]
    unknown = set(kinds) - set(KINDS)
    if unknown:
        raise ValueError(f"unknown kinds {sorted(unknown)}; valid: {', '.join(KINDS)}")
    peaks = matmul_peak_gflops() if args.device == "cpu" else {}
    cases = []
    for side in [int(s) for s in args.sides.split(",") if s]:
        for kind in kinds:
            start = time.time()
            timing = time_case(kind, side, args.device, args.repeats)
            numerics = numerics_check(kind, side, args.device)
            for impl in timing:
                label = {"impl": "paperlab", "reference": "straightforward",
                         "impl-bf16": "paperlab bf16-mixed (auto here)"}[impl]
                cases.append({
                    "case": f"{kind}-{side}", "impl": label, "reference": "straightforward",
                    "precision": "bf16-mixed" if impl == "impl-bf16" else "fp32",
                    "loss_after_steps": timing[impl]["loss_after_steps"],
                    "speedup_vs_reference": timing["reference"]["median"] / timing[impl]["median"],
                    "steps_per_s": 1.0 / timing[impl]["median"], "median_s": timing[impl]["median"],
                    "iqr_s": timing[impl]["iqr"], "times_s": timing[impl]["times"],
                    "peak_memory_mb": peak_memory_mb(kind, side, impl, args.device) if impl != "impl-bf16" else None,
                    **numerics,
                    "matmul_gflop_per_step": timing[impl]["matmul_gflop_per_step"],
                    "gflops": timing[impl]["matmul_gflop_per_step"] / timing[impl]["median"],
                })
                peak = peaks.get("onednn_fp32" if impl == "impl" else "torch_default_fp32")
                if peak and args.device == "cpu" and impl != "impl-bf16":
                    cases[-1]["fraction_of_matmul_peak"] = cases[-1]["gflops"] / peak
            print(f"{kind}-{side}: {time.time() - start:.0f}s", file=sys.stderr, flush=True)
    print(format_cases(cases, ["case", "impl", "steps_per_s", "speedup_vs_reference", "peak_memory_mb",
                               "grad_max_rel_diff"]))
    if args.json:
        write_benchmark_json(args.json, cases, device=args.device, torch_threads=torch.get_num_threads(),
                             precision=precision_info(args.device),
                             matmul_peak=peaks, reference_note="the reference runs on plain nn.Linear "
                             "(PAPERLAB_ONEDNN_LINEAR off), paperlab on core.linear's oneDNN backend",
                             note="2-core machine shared with other engineers' jobs during the run; "
                                  "timings interleaved impl/reference so load affects both")
    return 0


if __name__ == "__main__":
    sys.exit(main())
