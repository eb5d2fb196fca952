"""A tiny paper used to test the foundation: estimate a mean from noisy samples."""

import time
from dataclasses import dataclass

import numpy as np

from paperlab.core.claims import Claim, mean_ci, verdict_if
from paperlab.core.experiment import Experiment, Paper
from paperlab.core.plots import new_figure


class Crash(RuntimeError):
    pass


@dataclass
class NoisyMeanConfig:
    """Draw `n` samples per step around `true_mean`."""
    n: int = 1000
    true_mean: float = 0.0
    noise: float = 1.0
    steps: int = 4
    crash_at: int = -1
    tags: tuple[str, ...] = ("a", "b")
    sleep: float = 0.0          # seconds per step (to make concurrent runs overlap in tests)


def noisy_mean(run, cfg: NoisyMeanConfig) -> dict:
    estimates = []
    for step in run.progress(range(cfg.steps), desc="steps"):
        def estimate() -> float:
            if step == cfg.crash_at and not run.resumed:
                raise Crash(f"crash at step {step}")
            time.sleep(cfg.sleep)
            value = float(np.mean(cfg.true_mean + cfg.noise * np.random.randn(cfg.n)))
            run.log(step=step, estimate=value)
            return value

        estimates.append(run.piece(f"step{step}", estimate))
    fig, ax = new_figure()
    ax.plot(estimates)
    run.save_figure(fig, "estimates")
    return {"estimate": float(np.mean(estimates)), "per_step": estimates, "nested": {"first": estimates[0]}}


NOISY_MEAN = Experiment(
    name="noisy-mean", description="mean of noisy samples", config=NoisyMeanConfig, run=noisy_mean,
    scales={"tiny": {"n": 50, "steps": 3}, "quick": {"n": 500}, "small": {"n": 5000}, "paper": {}},
)


def judge_mean_near_truth(results):
    estimates = [r["estimate"] for r in results["noisy-mean"]]
    mean, lo, hi = mean_ci(estimates)
    return verdict_if(abs(mean) < 0.5, {"estimate": {"mean": mean, "ci_low": lo, "ci_high": hi, "n": len(estimates)}},
                      "|mean| < 0.5")


PAPER = Paper(
    name="toy", title="A toy paper", experiments=[NOISY_MEAN],
    claims=[Claim(id="mean-near-zero", text="The sample mean estimates the true mean.",
                  experiments=["noisy-mean"], judge=judge_mean_near_truth, seeds=2)],
)
