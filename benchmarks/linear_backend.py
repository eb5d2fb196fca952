"""paperlab.core.linear (oneDNN fp32, ReLU fused) vs torch's default ``F.linear`` + ``relu``, one torch thread.

Three measured implementations: torch's default, oneDNN for layers above ``MIN_MACS`` (what paperlab ships on
AVX-512 CPUs), and oneDNN forced onto every layer; ``paperlab`` repeats the column this CPU's default takes.

One forward + backward (dX, dW, db) of one layer at the shapes the five papers' models use, timed round-robin
(interleaved) so machine load hits both alike; GFLOP/s counts the three matmuls (6 * rows * in * out).
Also records the measured fp32 matmul peak of each backend (``core.benchmark.matmul_peak_gflops``).

    python benchmarks/linear_backend.py --json benchmarks/results/linear_backend.json
"""
from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from paperlab.core import linear as lin
from paperlab.core.benchmark import format_cases, interleaved_times, matmul_peak_gflops, write_benchmark_json

# (label, rows, in, out, ensemble members)
SHAPES = [
    ("BEAR d3rlpy critic hidden (batch 256)", 256, 256, 256, 2),
    ("BEAR target critic (256 x 10 samples)", 2560, 256, 256, 2),
    ("BEAR actor/VAE hidden (batch 256)", 256, 256, 256, 1),
    ("PEARL Q hidden (16 tasks x 256)", 4096, 300, 300, 2),
    ("PEARL policy/V hidden (16 tasks x 256)", 4096, 300, 300, 1),
    ("PEARL encoder hidden (16 tasks x 100)", 1600, 200, 200, 1),
    ("SIREN hidden (256x256 image)", 65536, 256, 256, 1),
    ("SSL projection head (batch 512)", 512, 512, 2048, 1),
]


def layer_step(rows: int, fan_in: int, fan_out: int, members: int, fast: bool, forced: bool = False):
    x = torch.randn(members, rows, fan_in) if members > 1 else torch.randn(rows, fan_in)
    x.requires_grad_(True)
    if members > 1:
        w = torch.randn(members, fan_in, fan_out, requires_grad=True)
        b = torch.randn(members, 1, fan_out, requires_grad=True)
    else:
        w = torch.randn(fan_out, fan_in, requires_grad=True)
        b = torch.randn(fan_out, requires_grad=True)
    g = torch.randn(members, rows, fan_out) if members > 1 else torch.randn(rows, fan_out)

    def step():
        threshold = lin.MIN_MACS
        lin.MIN_MACS = 0 if forced else threshold
        try:
            with lin.onednn_linear(fast):
                if members > 1:
                    y = lin.ensemble_linear(x, w, b, relu=True)
                elif fast:
                    y = lin.linear(x, w, b, relu=True)
                else:
                    y = torch.relu(F.linear(x, w, b))
            torch.autograd.backward(y, g)
        finally:
            lin.MIN_MACS = threshold
        x.grad = w.grad = b.grad = None

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", default=None)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.time()
    peaks = matmul_peak_gflops()
    print("matmul peaks GFLOP/s:", {k: round(v, 1) if isinstance(v, float) else v for k, v in peaks.items()})
    cases = []
    shipped = lin.onednn_faster_here()   # the default on this CPU (without PAPERLAB_ONEDNN_LINEAR)
    for label, rows, fan_in, fan_out, members in SHAPES:
        case = f"{label}: {members}x{rows}x{fan_in}->{fan_out}" if members > 1 else f"{label}: {rows}x{fan_in}->{fan_out}"
        fns = {"torch-default": layer_step(rows, fan_in, fan_out, members, fast=False),
               "onednn-above-threshold": layer_step(rows, fan_in, fan_out, members, fast=True),
               "onednn-forced": layer_step(rows, fan_in, fan_out, members, fast=True, forced=True)}
        above = rows * fan_in * fan_out >= lin.MIN_MACS
        takes_fast_path = shipped and above
        times = interleaved_times(fns, args.repeats, warmup=2)
        flops = 6 * rows * fan_in * fan_out * members
        # paperlab as shipped is one of the measured columns: oneDNN above the threshold, or the default path
        times["paperlab"] = times["onednn-above-threshold" if shipped else "torch-default"]
        uses_onednn = {"torch-default": False, "onednn-above-threshold": above, "onednn-forced": True,
                       "paperlab": takes_fast_path}
        for impl, t in times.items():
            onednn = uses_onednn[impl]
            gflops = flops / t["median"] / 1e9
            cases.append({"case": case, "impl": impl, "reference": "torch-default", "onednn": onednn,
                          "speedup_vs_reference": times["torch-default"]["median"] / t["median"],
                          "seconds": t, "gflops": gflops,
                          "fraction_of_matmul_peak": gflops / peaks["onednn_fp32" if onednn else "torch_default_fp32"]})
        by_impl = {c["impl"]: c["speedup_vs_reference"] for c in cases if c["case"] == case}
        print(f"{case:70s} paperlab {by_impl['paperlab']:.2f}x (oneDNN: {takes_fast_path}), oneDNN above the "
              f"threshold {by_impl['onednn-above-threshold']:.2f}x, forced {by_impl['onednn-forced']:.2f}x",
              flush=True)
    print(format_cases(cases, ["case", "impl", "gflops", "speedup_vs_reference"]))
    if args.json:
        note = ("One torch thread, process CPU time, interleaved. forward+backward of one layer with ReLU; "
                "default = F.linear/baddbmm + relu (MKL); onednn-above-threshold = core.linear switched on (oneDNN "
                "inner product with ReLU fused for layers of >= MIN_MACS multiply-adds, else the default path: then "
                "the ratio shows the measurement noise); paperlab = core.linear as shipped on this CPU (the "
                "onednn-above-threshold times where machine.cpu_capability is AVX-512, else the default's: "
                "core.linear.onednn_faster_here); onednn-forced = core.linear with MIN_MACS=0. fraction_of_matmul_peak "
                "is relative to the same backend's measured 1024^3 fp32 matmul in this run. This CPU's fp32 "
                "peak is ~32 FLOP/cycle (two 256-bit FMA pipes), so ~100 GFLOP/s at ~3 GHz when unloaded.")
        write_benchmark_json(args.json, cases, matmul_peak=peaks, wall_s=time.time() - started, note=note)
        print("wrote", args.json)


if __name__ == "__main__":
    main()
