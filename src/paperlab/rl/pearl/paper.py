"""PEARL (Rakelly et al. 2019) on the paperlab foundation: experiments, scales and judged claims."""

from __future__ import annotations

import math

import numpy as np

from paperlab.core.claims import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, Claim, Verdict, mean_ci, summarize
from paperlab.core.experiment import Experiment, Paper
from paperlab.rl.pearl.experiments import (ContextSamplingConfig, EncoderAblationConfig, SampleEfficiencyConfig,
                                           SparseExplorationConfig, context_sampling, encoder_ablation,
                                           sample_efficiency, sparse_exploration)

# ----------------------------------------------------------------------------------------------------
# scales
# ----------------------------------------------------------------------------------------------------
TINY = dict(preset="cpu", n_train_tasks=4, n_test_tasks=2, num_iterations=2, num_initial_steps=20,
            num_tasks_sample=2, num_steps_prior=20, num_steps_posterior=20, num_extra_rl_steps_posterior=20,
            num_train_steps_per_itr=2, hidden=(8,), encoder_hidden=(8,), meta_batch=2, batch_size=8,
            embedding_batch_size=8)
# quick: point robots with the CPU preset (see config.CPU_TASKS), 20 iterations = 6000 gradient steps
QUICK_POINT = dict(task="point-robot", preset="cpu", num_iterations=20)
QUICK_SPARSE = dict(task="sparse-point-robot", preset="cpu", num_iterations=20)
SMALL_CHEETAH = dict(task="cheetah-vel", preset="cpu", num_iterations=100, eval_every=5)

SAMPLE_EFFICIENCY = Experiment(
    name="sample-efficiency",
    description="Env steps PEARL and RL^2 (PPO, GRU over trials) need to reach the same test return.",
    config=SampleEfficiencyConfig, run=sample_efficiency,
    scales={"tiny": dict(TINY, task="point-robot", rl2_env_steps=640, rl2_trials_per_batch=4, rl2_eval_points=2),
            "quick": dict(QUICK_POINT, rl2_env_steps=800_000, rl2_trials_per_batch=64),
            "small": dict(SMALL_CHEETAH, rl2_env_steps=5_000_000, rl2_trials_per_batch=40),
            "paper": {}},
)
SPARSE_EXPLORATION = Experiment(
    name="sparse-exploration",
    description="Sparse point robot: success after 0..5 exploration trajectories, probabilistic vs deterministic z.",
    config=SparseExplorationConfig, run=sparse_exploration,
    scales={"tiny": dict(TINY, task="sparse-point-robot", eval_trajs=3),
            "quick": QUICK_SPARSE,
            "small": dict(task="sparse-point-robot", preset="cpu", num_iterations=150, eval_every=5),
            "paper": {}},
)
ENCODER_ABLATION = Experiment(
    name="encoder-ablation",
    description="Permutation-invariant MLP encoder vs an LSTM fed decorrelated transitions vs whole trajectories.",
    config=EncoderAblationConfig, run=encoder_ablation,
    scales={"tiny": dict(TINY, task="point-robot"), "quick": QUICK_POINT, "small": SMALL_CHEETAH, "paper": {}},
)
CONTEXT_SAMPLING = Experiment(
    name="context-sampling",
    description="Context batch from recent data (encoder buffer) vs from the whole replay buffer.",
    config=ContextSamplingConfig, run=context_sampling,
    scales={"tiny": dict(TINY, task="point-robot"), "quick": QUICK_POINT, "small": SMALL_CHEETAH, "paper": {}},
)


# ----------------------------------------------------------------------------------------------------
# judges
# ----------------------------------------------------------------------------------------------------
def _smoothed(curve: list[dict], key: str = "final_return", window: int = 3) -> tuple[np.ndarray, np.ndarray]:
    steps = np.array([p["env_steps"] for p in curve], dtype=float)
    values = np.array([p[key] for p in curve], dtype=float)
    kernel = [values[max(0, i - window + 1): i + 1].mean() for i in range(len(values))]
    return steps, np.array(kernel)


def _first_crossing(curve: list[dict], threshold: float) -> float | None:
    steps, values = _smoothed(curve)
    hits = np.flatnonzero(values >= threshold)
    return float(steps[hits[0]]) if len(hits) else None


def _final(res: dict, key: str = "final_return") -> float:
    return float(np.mean([p[key] for p in res["curve"][-3:]]))


def judge_sample_efficiency(results: dict[str, list[dict]], target: float = 20.0, fraction: float = 0.8) -> Verdict:
    """Threshold = start + 80% of PEARL's improvement; ratio = RL^2 steps / PEARL steps to reach it."""
    ratios, censored, pearl_steps, rl2_final, pearl_final, learned = [], [], [], [], [], []
    for res in results["sample-efficiency"]:
        pearl, rl2 = res["pearl"]["curve"], res["rl2"]["curve"]
        start = min(pearl[0]["final_return"], rl2[0]["final_return"])
        final = _final(res["pearl"])
        learned.append(final - start > 0.1 * abs(start))
        threshold = start + fraction * (final - start)
        p_steps = _first_crossing(pearl, threshold)
        r_steps = _first_crossing(rl2, threshold)
        pearl_steps.append(p_steps)
        pearl_final.append(final)
        rl2_final.append(_final(res["rl2"]))
        censored.append(r_steps is None)
        ratios.append((r_steps if r_steps is not None else res["rl2"]["env_steps"]) / p_steps)
    logs = [math.log10(r) for r in ratios]
    mean, lo, hi = mean_ci(logs)
    measured = {"task": results["sample-efficiency"][0]["task"],
                "ratio_geomean": 10 ** mean, "ratio_ci": [10 ** lo, 10 ** hi], "ratio_per_seed": ratios,
                "rl2_censored_per_seed": censored, "pearl_steps_to_threshold": pearl_steps,
                "pearl_final_return": summarize(pearl_final), "rl2_final_return": summarize(rl2_final)}
    threshold = f"RL^2/PEARL env steps to {fraction:.0%} of PEARL's improvement >= {target:g}x (paper: 20-100x)"
    if not all(learned):
        return Verdict(INCONCLUSIVE, measured, threshold, "PEARL did not improve clearly in every seed at this scale")
    if any(censored):
        if 10 ** lo >= target:
            return Verdict(REPRODUCED, measured, threshold,
                           "RL^2 never reached the threshold in some seeds: ratios there are lower bounds, already >= target")
        return Verdict(INCONCLUSIVE, measured, threshold,
                       "RL^2 never reached the threshold within its budget in some seeds (ratio is only a lower bound "
                       "below the target): give RL^2 more env steps")
    if 10 ** lo >= target:
        return Verdict(REPRODUCED, measured, threshold)
    if 10 ** hi < target:
        return Verdict(NOT_REPRODUCED, measured, threshold)
    return Verdict(INCONCLUSIVE, measured, threshold, "the interval of the ratio straddles the target")


def _paired(a: list[float], b: list[float]) -> dict:
    return summarize([x - y for x, y in zip(a, b)])


def _verdict_from_difference(diff: dict, measured: dict, threshold: str, note: str = "") -> Verdict:
    if diff["n"] < 2:
        return Verdict(INCONCLUSIVE, measured, threshold, "one seed: no interval " + note)
    if diff["ci_low"] > 0:
        return Verdict(REPRODUCED, measured, threshold, note)
    if diff["ci_high"] < 0:
        return Verdict(NOT_REPRODUCED, measured, threshold, note)
    return Verdict(INCONCLUSIVE, measured, threshold, ("the 95% interval of the paired difference contains 0 " + note).strip())


def _success(results, arm: str) -> np.ndarray:
    return np.array([r[arm]["final_success_by_traj"] for r in results["sparse-exploration"]])


def judge_posterior_sampling(results: dict[str, list[dict]]) -> Verdict:
    """Probabilistic z: success after the last exploration trajectory > success with the prior z, and > deterministic."""
    prob, det = _success(results, "probabilistic"), _success(results, "deterministic")
    gain = _paired(list(prob[:, -1]), list(prob[:, 0]))
    vs_det = _paired(list(prob[:, -1]), list(det[:, -1]))
    measured = {"prob_success_by_k": [summarize(prob[:, k]) for k in range(prob.shape[1])],
                "det_success_by_k": [summarize(det[:, k]) for k in range(det.shape[1])],
                "prob_gain_over_prior_traj": gain, "prob_minus_det_after_exploration": vs_det}
    threshold = "paired 95% intervals: success(k=K) - success(k=0) > 0 and prob - det at k=K > 0"
    if not _solves_sparse(prob):
        return Verdict(INCONCLUSIVE, measured, threshold, _NOT_SOLVED)
    worst = min((gain, vs_det), key=lambda d: d["ci_low"])
    return _verdict_from_difference(worst, measured, threshold)


SPARSE_SOLVED = 0.25  # mean success after exploration needed before the comparison means anything
_NOT_SOLVED = (f"the probabilistic agent did not learn the sparse task at this scale (success after exploration "
               f"< {SPARSE_SOLVED}), so the comparison says nothing about the claim; run --scale small")


def _solves_sparse(prob: np.ndarray) -> bool:
    return float(prob[:, -1].mean()) >= SPARSE_SOLVED


def judge_deterministic_fails(results: dict[str, list[dict]]) -> Verdict:
    """Deterministic z: success after exploration well below the probabilistic agent (less than half of it)."""
    prob, det = _success(results, "probabilistic"), _success(results, "deterministic")
    vs_det = _paired(list(prob[:, -1]), list(det[:, -1]))
    measured = {"det_success_after_exploration": summarize(det[:, -1]),
                "prob_success_after_exploration": summarize(prob[:, -1]), "prob_minus_det": vs_det}
    threshold = "prob - det > 0 (paired 95% interval) and det success < half of prob success"
    if not _solves_sparse(prob):
        return Verdict(INCONCLUSIVE, measured, threshold, _NOT_SOLVED)
    verdict = _verdict_from_difference(vs_det, measured, threshold)
    if verdict.verdict == REPRODUCED and det[:, -1].mean() >= 0.5 * prob[:, -1].mean():
        return Verdict(NOT_REPRODUCED, measured, threshold, "deterministic z is worse but still solves a large share")
    return verdict


def judge_rnn_transitions(results: dict[str, list[dict]]) -> Verdict:
    runs = results["encoder-ablation"]
    finals = {arm: [_final(r[arm]) for r in runs] for arm in ("mlp", "rnn-transitions", "rnn-trajectories")}
    diff = _paired(finals["rnn-transitions"], finals["rnn-trajectories"])
    measured = {f"{arm}_final_return": summarize(v) for arm, v in finals.items()}
    measured["transitions_minus_trajectories"] = diff
    measured["task"] = runs[0]["task"]
    return _verdict_from_difference(diff, measured, "RNN(transitions) - RNN(trajectories) final test return > 0 (paired 95% CI)")


def judge_recent_context(results: dict[str, list[dict]]) -> Verdict:
    runs = results["context-sampling"]
    finals = {arm: [_final(r[arm]) for r in runs] for arm in ("recent", "whole-buffer")}
    diff = _paired(finals["recent"], finals["whole-buffer"])
    measured = {f"{arm}_final_return": summarize(v) for arm, v in finals.items()}
    measured["recent_minus_whole_buffer"] = diff
    measured["task"] = runs[0]["task"]
    return _verdict_from_difference(diff, measured, "recent - whole-buffer final test return > 0 (paired 95% CI)")


def summary_plots(results: dict[str, list[dict]], out_dir) -> list:
    """Mean test return across seeds vs env steps (log x) for PEARL and RL^2."""
    from pathlib import Path

    from paperlab.core.plots import new_figure, save_figure

    paths = []
    runs = results.get("sample-efficiency")
    if runs:
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        fig, ax = new_figure(size=(5.5, 3.8))
        for method in ("pearl", "rl2"):
            for i, r in enumerate(runs):
                steps, vals = _smoothed(r[method]["curve"], window=1)
                ax.plot(steps, vals, color="C0" if method == "pearl" else "C1", alpha=0.7,
                        label=method.upper().replace("RL2", "RL^2") if i == 0 else None)
        ax.set_xscale("log")
        ax.set_xlabel("environment steps")
        ax.set_ylabel("test return after exploration")
        ax.set_title(f"{runs[0]['task']}: one line per seed")
        ax.legend()
        fig.tight_layout()
        paths.append(save_figure(fig, out_dir / "sample_efficiency_seeds.png"))
    return paths


PAPER = Paper(
    name="pearl",
    title="Efficient Off-Policy Meta-Reinforcement Learning via Probabilistic Context Variables (Rakelly et al. 2019)",
    experiments=[SAMPLE_EFFICIENCY, SPARSE_EXPLORATION, ENCODER_ABLATION, CONTEXT_SAMPLING],
    claims=[
        Claim(id="sample-efficiency", text="PEARL is 20-100x more sample-efficient",
              experiments=["sample-efficiency"], judge=judge_sample_efficiency, seeds=3),
        Claim(id="posterior-sampling-exploration",
              text="the posterior sampling of the latent context variable enables deep exploration that is crucial "
                   "for sparse reward settings",
              experiments=["sparse-exploration"], judge=judge_posterior_sampling, seeds=3),
        Claim(id="deterministic-z-fails",
              text="using a deterministic latent variable, i.e. reducing q(z|c) to a point estimate, leaves the "
                   "algorithm unable to solve sparse reward navigation tasks",
              experiments=["sparse-exploration"], judge=judge_deterministic_fails, seeds=3),
        Claim(id="rnn-needs-decorrelated-transitions",
              text="the inference network could be also a RNN, however it is crucial to train it with uncorrelated "
                   "transitions instead of trajectories that have high correlated transitions",
              experiments=["encoder-ablation"], judge=judge_rnn_transitions, seeds=3),
        Claim(id="recent-context-sampling",
              text="the task inference is done on samples according to a sampling strategy sampling more recent "
                   "transitions",
              experiments=["context-sampling"], judge=judge_recent_context, seeds=3),
    ],
    summary_plots=summary_plots,
)
