"""One command that checks every paper on one CUDA device: throughput against this machine's CPU, in fp32 and
bf16-mixed, and the numbers each paper's short configuration produces there.

Per paper (about a minute or two each on an H100, ~10 minutes in all):
  throughput   the paper's training step at an informative size, timed on the CPU (fp32, all cores, a few
               steps) and on the device in fp32 and in bf16-mixed (paperlab.core.precision):
                 nmf    multiplicative-update iterations/s, torch backend, 4096 x 2048, rank 64 (Frobenius)
                 siren  fit steps/s of a 256x256 image, 3x256 SIREN (the paper's image fit)
                 ssl    SimCLR pre-training images/s, ResNet-18 (width 1) on 32x32x3, batch 256, augmentation included
                 bear   BEAR updates/s at d3rlpy's sizes (256-256 nets, batch 256) on a HalfCheetah random dataset
                 pearl  PEARL meta-gradient steps/s at the authors' shapes (16 tasks x 256, 3x300 nets)
  numbers      the paper's short configuration run on the device through the same code path as the CLI
               (``run_experiment``) in fp32 and in bf16-mixed: nmf parts, siren image-fit, ssl domain and pearl
               context-sampling at quick scale; BEAR trains one arm (2000 updates) on the same dataset
               (uniform-random HalfCheetah-v5, 5000 transitions)
               (its experiments need the MuJoCo datasets, which take ~25 min to build).
``--tiny`` runs the same code on the CPU at tiny sizes in seconds (``tests/core/test_gpu_check.py``).
The JSON is written after every case, so a timeout keeps what finished.

    python benchmarks/gpu_check.py --device cuda --json benchmarks/results/gpu_check.json
    python benchmarks/gpu_check.py --tiny --json /tmp/gpu_check_tiny.json
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from paperlab.core.benchmark import format_cases, write_benchmark_json
from paperlab.core.precision import precision_info, use_precision

PAPERS = ("nmf", "siren", "ssl", "bear", "pearl")
PRECISIONS = ("fp32", "bf16-mixed")


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def timed_steps(step: Callable[[], None], n: int, device: str, warmup: int = 1) -> float:
    """Seconds per step (wall clock, device synchronised) over `n` steps after `warmup`."""
    for _ in range(warmup):
        step()
    _sync(device)
    start = time.perf_counter()
    for _ in range(n):
        step()
    _sync(device)
    return (time.perf_counter() - start) / n


# -- one training step per paper: build(device, tiny) -> (step, units per step, unit, description) --------
def nmf_step(device: str, tiny: bool):
    from paperlab.nmf.estimator import NMF

    rows, cols, rank = (64, 32, 4) if tiny else (4096, 2048, 64)
    V = torch.rand(rows, cols, generator=torch.Generator().manual_seed(0)).to(device)
    iters = 5 if tiny else 50
    model = NMF(rank, loss="frobenius", max_iter=iters, tol=0.0, backend="torch", device=device, random_state=0)
    return (lambda: model.fit(V)), iters, "iterations", f"{rows}x{cols} rank {rank}, {iters} MU iterations per call"


def siren_step(device: str, tiny: bool):
    from paperlab.siren.models import Siren
    from paperlab.siren.training import fit, supervision_objective

    side, width, layers = (16, 32, 1) if tiny else (256, 256, 3)
    g = torch.Generator().manual_seed(0)
    axis = torch.linspace(-1, 1, side)
    coords = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2).to(device)
    target = torch.rand(side * side, 1, generator=g).to(device) * 2 - 1
    torch.manual_seed(0)
    model = Siren(2, 1, width, layers).to(device)
    objective = supervision_objective(coords, target)
    return (lambda: fit(model, objective, steps=1)), 1, "steps", f"{side}x{side} image, SIREN {layers}x{width}"


def ssl_step(device: str, tiny: bool):
    from paperlab.ssl.train import PretrainSettings, pretrain_simclr

    if tiny:
        n, side, ch, batch = 16, 16, 1, 8
        settings = dict(encoder="small_cnn", width=4, head_hidden=16, head_out=8)
    else:
        n, side, ch, batch = 1024, 32, 3, 256
        settings = dict(encoder="resnet18", width=1.0, head_hidden=512, head_out=128)
    images = torch.randint(0, 256, (n, ch, side, side), dtype=torch.uint8,
                           generator=torch.Generator().manual_seed(0)).to(device)
    cfg = PretrainSettings(**settings, batch_size=batch, steps=2, temperature=0.5, optimizer="lars", lr=0.3,
                           weight_decay=1e-6, warmup_fraction=0.0, crop_min_scale=0.08, jitter_strength=0.5,
                           blur_p=0.0, checkpoint_every=10 ** 9)
    # each call pre-trains 2 steps from scratch (model build included: small next to the steps at full size)
    return (lambda: pretrain_simclr(images, cfg, seed=0)), 2 * 2 * batch, "images", \
        f"{settings['encoder']}(w={settings['width']}) {side}x{side}x{ch}, batch {batch}, 2 steps per call"


def _bear_data(device: str, tiny: bool):
    """Uniform-random behaviour data: HalfCheetah-v5, 5000 transitions (tiny: Pendulum-v1, 200 transitions, whose
    200-step episodes keep the evaluation short; its reference returns are rough, for the code path only)."""
    from paperlab.rl.bear.dataset_builder import rollout
    from paperlab.rl.bear.datasets import OfflineDataset
    from paperlab.rl.common.replay import ReplayBuffer

    env_id, n, act_dim = ("Pendulum-v1", 200, 1) if tiny else ("HalfCheetah-v5", 5000, 6)
    rng = np.random.default_rng(0)
    arrays = rollout(env_id, lambda o: rng.uniform(-1, 1, act_dim).astype(np.float32), n, seed=0)
    meta = {"env": env_id, "kind": "random"} | ({"reference_returns": [-1500.0, -150.0]} if tiny else {})
    data = OfflineDataset(**arrays, metadata=meta)
    buf = ReplayBuffer.from_arrays(data.observations, data.actions, data.rewards, data.next_observations,
                                   data.terminals, device=device, seed=0)
    return data, buf


def _bear_settings(tiny: bool):
    from paperlab.rl.bear.training import ArmSettings

    if tiny:
        return ArmSettings(hidden=(16, 16), vae_hidden=(16, 16), batch_size=16, warmup_steps=2, updates=6,
                           eval_every=6, eval_episodes=1, q_probe_every=3, n_probe=8, bear_preset="d3rlpy")
    return ArmSettings(warmup_steps=0, updates=2000, eval_every=1000, eval_episodes=3, q_probe_every=500,
                       bear_preset="d3rlpy")


def bear_step(device: str, tiny: bool):
    from paperlab.core.precision import autocast
    from paperlab.rl.bear.training import make_agent

    data, buf = _bear_data(device, tiny)
    torch.manual_seed(0)
    agent = make_agent("bear", data.metadata["env"], data.observations.shape[1], data.actions.shape[1],
                       _bear_settings(tiny), device)
    block = 2 if tiny else 10

    def step():
        with autocast(device):   # as the training loop does
            for _ in range(block):
                agent.update(buf.sample(agent.cfg.batch_size))
    return step, block, "updates", f"BEAR d3rlpy preset, nets {agent.cfg.actor_hidden}, batch {agent.cfg.batch_size}"


def pearl_step(device: str, tiny: bool):
    from paperlab.rl.pearl.agent import LearnerSettings, PEARLLearner

    if tiny:
        T, B, o, a, ctx, hidden, enc = 2, 8, 2, 2, 8, (16,), (8,)
    else:
        T, B, o, a, ctx, hidden, enc = 16, 256, 20, 6, 100, (300, 300, 300), (200, 200, 200)
    torch.manual_seed(0)
    learner = PEARLLearner(o, a, o + a + 1, LearnerSettings(hidden=hidden, encoder_hidden=enc), device=device)
    g = torch.Generator().manual_seed(0)
    batch = {"obs": torch.randn(T, B, o, generator=g), "actions": torch.rand(T, B, a, generator=g) * 2 - 1,
             "rewards": torch.randn(T, B, 1, generator=g), "next_obs": torch.randn(T, B, o, generator=g),
             "terminals": torch.zeros(T, B, 1)}
    batch = {k: v.to(device) for k, v in batch.items()}
    context = torch.randn(T, ctx, o + a + 1, generator=g).to(device)
    noise = {k: v.to(device) for k, v in learner.make_noise(T, B, generator=g).items()}
    return (lambda: learner.update(batch, context, noise)), 1, "grad steps", f"{T} tasks x {B}, nets {hidden}"


STEPS = {"nmf": nmf_step, "siren": siren_step, "ssl": ssl_step, "bear": bear_step, "pearl": pearl_step}
TORCH_PRECISION = {"nmf": False, "siren": True, "ssl": True, "bear": True, "pearl": True}


def throughput_rows(paper: str, device: str, tiny: bool, steps: int) -> list[dict]:
    """CPU fp32 (the reference) and the device in each precision; units per second of the paper's step."""
    rows, reference = [], None
    targets = [("cpu", "fp32")] + ([] if tiny and device == "cpu" else
                                   [(device, p) for p in (PRECISIONS if TORCH_PRECISION[paper] else ("fp32",))])
    if tiny:
        targets = [("cpu", "fp32"), ("cpu", "bf16-mixed")] if TORCH_PRECISION[paper] else [("cpu", "fp32")]
    for where, precision in targets:
        with use_precision(precision):
            step, units, unit, what = STEPS[paper](where, tiny)
            n = 1 if tiny else (2 if where == "cpu" else steps)
            seconds = timed_steps(step, n, where)
        rate = units / seconds
        reference = reference or rate
        rows.append({"case": f"{paper} throughput: {what}", "impl": f"{where} {precision}", "reference": "cpu fp32",
                     "speedup_vs_reference": rate / reference, f"{unit}_per_s": rate, "seconds_per_call": seconds,
                     "calls_timed": n, "device": where, "precision": precision})
    return rows


# -- the numbers each paper's short configuration produces -------------------------------------------------
EXPERIMENTS = {"nmf": ("parts", {}), "siren": ("image-fit", {}), "ssl": ("domain", {}),
               "pearl": ("context-sampling", {})}


def _numbers(results: Any, limit: int = 40) -> dict:
    """The scalar numbers of a results dict (flattened, at most `limit`): what the check reports."""
    flat: dict[str, float] = {}

    def walk(prefix: str, value: Any) -> None:
        if len(flat) >= limit:
            return
        if isinstance(value, bool):
            return
        if isinstance(value, (int, float)):
            flat[prefix] = float(value)
        elif isinstance(value, dict):
            for k, v in value.items():
                if not str(k).startswith("_"):
                    walk(f"{prefix}.{k}" if prefix else str(k), v)
    walk("", results)
    return flat


def experiment_row(paper: str, device: str, tiny: bool, precision: str, out: Path) -> dict:
    scale = "tiny" if tiny else "quick"
    start = time.perf_counter()
    if paper == "bear":   # one BEAR arm on random behaviour data, through the experiments' training loop
        from paperlab.rl.bear.training import train_arm

        data, _ = _bear_data("cpu", tiny)
        settings = _bear_settings(tiny)
        with use_precision(precision):
            result = train_arm(data, "bear", settings, seed=0, device=device)
        numbers = {k: result[k] for k in ("final_return", "normalized_score", "mc_return")}
        numbers["last_q_estimate"] = result["q_curve"][-1][1] if result["q_curve"] else float("nan")
        what = f"bear train_arm {data.metadata['env']} random, {settings.updates} updates"
    else:
        from paperlab.core.runner import run_experiment
        from paperlab.core.runs import load_results

        experiment, overrides = EXPERIMENTS[paper]
        directory = run_experiment(paper, experiment, scale=scale, seed=0, device=device, out=out,
                                   overrides=overrides, show_progress=False, precision=precision,
                                   threads=1 if tiny else 0)   # tiny: one thread, as the tests run
        numbers = _numbers(load_results(directory))
        what = f"{paper} {experiment} at {scale}"
    return {"experiment": what, "device": device, "precision": precision,
            "seconds": time.perf_counter() - start, "numbers": numbers}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="the device to check (default cuda)")
    parser.add_argument("--tiny", action="store_true", help="tiny sizes on the CPU, seconds (the test's setting)")
    parser.add_argument("--json", default="benchmarks/results/gpu_check.json", help="output JSON path")
    parser.add_argument("--papers", default=",".join(PAPERS), help=f"subset of {','.join(PAPERS)}")
    parser.add_argument("--steps", type=int, default=20, help="device calls timed per throughput case")
    parser.add_argument("--no-experiments", action="store_true", help="throughput only")
    args = parser.parse_args(argv)
    papers = [p for p in args.papers.split(",") if p]
    unknown = sorted(set(papers) - set(PAPERS))
    if unknown:
        print(f"gpu_check: error: --papers {','.join(unknown)}: not a paper; valid: {', '.join(PAPERS)}", file=sys.stderr)
        return 2
    device = "cpu" if args.tiny else args.device
    if device.startswith("cuda") and not torch.cuda.is_available():
        print(f"gpu_check: error: --device {device}: torch {torch.__version__} sees no CUDA device "
              "(use --tiny for the CPU check)", file=sys.stderr)
        return 2
    info = {"device": device, "tiny": args.tiny, "cuda_device": torch.cuda.get_device_name(device)
            if device.startswith("cuda") else None, "precision_here": precision_info(device),
            "cpu_precision": precision_info("cpu"), "command": "python benchmarks/gpu_check.py " + " ".join(argv or sys.argv[1:])}
    cases: list[dict] = []
    experiments: list[dict] = []
    errors: list[dict] = []
    with tempfile.TemporaryDirectory() as tmp:
        for paper in papers:
            try:
                cases += throughput_rows(paper, device, args.tiny, args.steps)
            except Exception as err:   # one paper's failure must not lose the others' results
                errors.append({"paper": paper, "part": "throughput", "error": repr(err),
                               "traceback": traceback.format_exc(limit=5)})
            if not args.no_experiments:
                for precision in PRECISIONS if TORCH_PRECISION[paper] else ("fp32",):
                    try:
                        experiments.append({"paper": paper, **experiment_row(paper, device, args.tiny, precision,
                                                                             Path(tmp) / precision)})
                    except Exception as err:
                        errors.append({"paper": paper, "part": f"experiment {precision}", "error": repr(err),
                                       "traceback": traceback.format_exc(limit=5)})
            write_benchmark_json(args.json, cases, check=info, experiments=experiments, errors=errors)
            print(f"[{paper}] done", flush=True)
    print(format_cases(cases, ["case", "impl", "speedup_vs_reference"]))
    for row in experiments:
        print(f"{row['experiment']} [{row['device']} {row['precision']}] {row['seconds']:.1f} s: "
              + ", ".join(f"{k}={v:.4g}" for k, v in list(row["numbers"].items())[:6]))
    for row in errors:
        print(f"ERROR {row['paper']} {row['part']}: {row['error']}", file=sys.stderr)
    print(f"wrote {args.json}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
