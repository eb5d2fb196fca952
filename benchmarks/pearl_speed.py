"""PEARL meta-training gradient steps/s: the batched meta-batch vs a per-task Python loop, same losses.

Cases (1 torch thread, float32, CPU):
  - authors' shapes: 16 tasks x 256 transitions, 3x300 SAC nets, 3x200 encoder, context 100 (cheetah-vel);
  - CPU preset: 4 tasks x 64, 2x64 nets, 2x64 encoder, context 64 (point-robot quick scale).
Implementations, all computing identical losses on the same batch (checked here before timing):
  - reference: per-task Python loop over encoder, product of Gaussians, KL and SAC losses (authors'
    structure), one Adam per network with PyTorch's default (for-loop) CPU Adam;
  - batched: the whole meta-batch as one tensor program (both Q nets one batched ensemble), same Adam;
  - batched+fused: as batched, with fused Adam kernels (what the trainer uses);
  - batched+fused, plain matmul: the same with paperlab.core.linear's oneDNN backend switched off.
The reference runs on torch's default matmul; the batched variants on paperlab.core.linear (oneDNN).
  - batched+fused, bf16-mixed (auto here): where --precision auto resolves to bf16-mixed on this machine,
    the trainer's variant under bf16 autocast (what a user asking for auto gets), against the same reference.
Also: env steps/s of vectorised collection on point-robot (lockstep over tasks, one policy call per step).
Usage: python benchmarks/pearl_speed.py --json benchmarks/results/pearl_speed.json
"""

from __future__ import annotations

import argparse
import copy

import torch

from paperlab.core.benchmark import format_cases, interleaved_times, matmul_flops, matmul_peak_gflops, \
    write_benchmark_json
from paperlab.core.linear import MIN_MACS, onednn_linear
from paperlab.core.precision import precision_info, resolve_precision, use_precision
from paperlab.rl.pearl.agent import LearnerSettings, PEARLLearner
from paperlab.rl.pearl.config import PEARLConfig
from paperlab.rl.pearl.encoder import sample_latent
from paperlab.rl.pearl.reference import per_task_reference
from paperlab.rl.pearl.trainer import PEARLTrainer

SHAPES = {
    "authors (cheetah-vel): 16 tasks x 256, nets 3x300, encoder 3x200, context 100":
        dict(obs=20, act=6, tasks=16, batch=256, ctx=100, hidden=(300, 300, 300), enc=(200, 200, 200), steps=3),
    "cpu preset (point-robot): 4 tasks x 64, nets 2x64, encoder 2x64, context 64":
        dict(obs=2, act=2, tasks=4, batch=64, ctx=64, hidden=(64, 64), enc=(64, 64), steps=40),
}


def make_learners(shape: dict) -> dict[str, tuple[PEARLLearner, bool]]:
    """{name: (learner, oneDNN linear on)}"""
    torch.manual_seed(0)
    settings = LearnerSettings(hidden=shape["hidden"], encoder_hidden=shape["enc"])
    ctx_dim = shape["obs"] + shape["act"] + 1
    base = PEARLLearner(shape["obs"], shape["act"], ctx_dim, settings, fused_adam=False)
    fused = copy.deepcopy(base)
    fused.optimizers = {n: torch.optim.Adam(getattr(fused, n).parameters(), lr=settings.lr, fused=True)
                        for n in base.optimizers}
    learners = {"per-task loop (reference)": (per_task_reference(base), False), "batched": (copy.deepcopy(base), True),
                "batched+fused": (fused, True), "batched+fused, plain matmul": (copy.deepcopy(fused), False)}
    if resolve_precision("auto") != "fp32":
        learners[AUTO_ROW] = (copy.deepcopy(fused), True)
    return learners


AUTO_ROW = "batched+fused, bf16-mixed (auto here)"


def _precision(name: str) -> str:
    return "bf16-mixed" if name == AUTO_ROW else "fp32"


def make_batch(shape: dict, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    T, B, o, a = shape["tasks"], shape["batch"], shape["obs"], shape["act"]
    batch = {"obs": torch.randn(T, B, o, generator=g), "actions": torch.rand(T, B, a, generator=g) * 2 - 1,
             "rewards": torch.randn(T, B, 1, generator=g), "next_obs": torch.randn(T, B, o, generator=g),
             "terminals": torch.zeros(T, B, 1)}
    context = torch.randn(T, shape["ctx"], o + a + 1, generator=g)
    noise = {"z": torch.randn(T, 5, generator=g), "action": torch.randn(T, B, a, generator=g)}
    return batch, context, noise


def check_identical_losses(learners: dict, batch, context, noise) -> float:
    """Largest relative difference of the four losses between each implementation and the reference."""
    worst = 0.0
    ref_losses = None
    for name, (learner, fast) in learners.items():
        if name == AUTO_ROW:
            continue   # bf16 losses differ from fp32 by design; reported as loss_rel_diff_vs_fp32
        clone = copy.deepcopy(learner)
        with onednn_linear(fast):
            losses = clone.update(batch, context, noise)
        if ref_losses is None:
            ref_losses = losses
        for k, v in losses.items():
            worst = max(worst, abs(v - ref_losses[k]) / max(abs(ref_losses[k]), 1e-8))
    if worst > 1e-4:
        raise AssertionError(f"implementations disagree on the losses (max rel diff {worst:.2e})")
    return worst


def bf16_loss_diff(learners: dict, batch, context, noise) -> float:
    """Largest relative difference of the four losses of one update, bf16-mixed vs fp32, from the same state."""
    fp32, bf16 = copy.deepcopy(learners["batched+fused"][0]), copy.deepcopy(learners[AUTO_ROW][0])
    a = fp32.update(batch, context, noise)
    with use_precision("bf16-mixed"):
        b = bf16.update(batch, context, noise)
    return max(abs(b[k] - a[k]) / max(abs(a[k]), 1e-8) for k in a)


def collection_speed(n_tasks: int, repeats: int) -> list[dict]:
    cfg = PEARLConfig(task="point-robot", preset="cpu", n_train_tasks=n_tasks, num_tasks_sample=n_tasks)
    trainer = PEARLTrainer(cfg, seed=0)
    env = trainer.family.make(trainer.train_tasks)
    mean, var = trainer.learner.prior(n_tasks)

    def lockstep():
        trainer.rollout(env, sample_latent(mean, var), deterministic=False)

    one_env = trainer.family.make(trainer.train_tasks[:1])
    m1, v1 = trainer.learner.prior(1)

    def one_task_at_a_time():
        for _ in range(n_tasks):
            trainer.rollout(one_env, sample_latent(m1, v1), deterministic=False)

    steps = n_tasks * trainer.horizon
    timings = interleaved_times({"ref": one_task_at_a_time, "new": lockstep}, repeats)
    ref, new = timings["ref"], timings["new"]
    case = f"point-robot collection, {n_tasks} tasks x 1 trajectory (H=20)"
    return [
        {"case": case, "impl": "one task at a time", "reference": "one task at a time", "speedup_vs_reference": 1.0,
         "env_steps_per_s": steps / ref["median"], "seconds": ref},
        {"case": case, "impl": "lockstep over tasks", "reference": "one task at a time",
         "speedup_vs_reference": ref["median"] / new["median"], "env_steps_per_s": steps / new["median"], "seconds": new},
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True, help="output JSON path")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    peaks = matmul_peak_gflops()
    cases = []
    for case, shape in SHAPES.items():
        learners = make_learners(shape)
        batch, context, noise = make_batch(shape)
        max_rel = check_identical_losses(learners, batch, context, noise)
        def steps(learner, fast, precision):
            def run():
                with onednn_linear(fast), use_precision(precision):
                    for _ in range(shape["steps"]):
                        learner.update(batch, context, noise)
            return run

        timings = interleaved_times({name: steps(*spec, _precision(name)) for name, spec in learners.items()},
                                    args.repeats)
        ref = timings["per-task loop (reference)"]["median"]
        for name, t in timings.items():
            learner, fast = learners[name]
            flops = matmul_flops(lambda: copy.deepcopy(learner).update(batch, context, noise))
            gflops = flops * shape["steps"] / t["median"] / 1e9
            # the oneDNN peak applies only where the hidden layers are big enough to take that path
            onednn = fast and shape["tasks"] * shape["batch"] * max(shape["hidden"]) ** 2 >= MIN_MACS
            cases.append({"case": case, "impl": name, "reference": "per-task loop (reference)",
                          "precision": _precision(name),
                          "speedup_vs_reference": ref / t["median"], "onednn_linear": fast,
                          "grad_steps_per_s": shape["steps"] / t["median"], "seconds": t,
                          "steps_per_repeat": shape["steps"], "max_rel_loss_diff_vs_reference": max_rel,
                          "matmul_gflop_per_step": flops / 1e9, "gflops": gflops,
                          "fraction_of_matmul_peak": None if name == AUTO_ROW else
                          gflops / peaks["onednn_fp32" if onednn else "torch_default_fp32"]})
            if name == AUTO_ROW:
                cases[-1]["loss_rel_diff_vs_fp32"] = bf16_loss_diff(learners, batch, context, noise)
    cases += collection_speed(16, args.repeats)
    write_benchmark_json(args.json, cases, precision=precision_info("cpu"), note="2-core VM shared with other engineers' jobs: timings are noisy "
                         "and pessimistic; the side-by-side ratios are the meaningful numbers.",
                         torch_threads=1, matmul_peak=peaks,
                         reference_note="the per-task loop runs with torch's default matmul (PAPERLAB_ONEDNN_LINEAR=0), "
                         "as the authors' code would; 'plain matmul' isolates the oneDNN backend's share")
    print(format_cases(cases, ["case", "impl", "speedup_vs_reference", "grad_steps_per_s", "env_steps_per_s"]))


if __name__ == "__main__":
    main()
