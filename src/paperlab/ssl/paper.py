"""Cole et al., "When Does Contrastive Visual Representation Learning Work?" (CVPR 2022) on
Fashion-MNIST: five experiments, five claims judged on the shape of the result over seeds."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from paperlab.core.claims import (
    INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, Claim, Verdict, mean_ci, summarize,
)
from paperlab.core.experiment import Paper
from paperlab.core.plots import new_figure, plot_mean_ci, save_figure
from paperlab.ssl.experiments import EXPERIMENTS, parse_corruption

SEEDS = 3


def sign_verdict(values: list[float], what: str) -> tuple[str, str]:
    """REPRODUCED when the 95% interval of ``values`` lies above 0, NOT_REPRODUCED when below,
    INCONCLUSIVE when it contains 0."""
    _, low, high = mean_ci(values)
    if low > 0:
        return REPRODUCED, f"{what}: interval above 0"
    if high < 0:
        return NOT_REPRODUCED, f"{what}: interval below 0"
    return INCONCLUSIVE, f"{what}: 95% interval contains 0 ({len(values)} seeds)"


def metric_of(runs: list[dict]) -> str:
    """The frozen-feature metric the runs were judged on (``eval_metric`` of their config)."""
    return runs[0].get("metric", "linear")


def combine(verdicts: list[str]) -> str:
    if NOT_REPRODUCED in verdicts:
        return NOT_REPRODUCED
    return REPRODUCED if all(v == REPRODUCED for v in verdicts) else INCONCLUSIVE


# ---------------------------------------------------------------------------------------------
def judge_unlabeled_size(results: dict[str, list[dict]]) -> Verdict:
    runs = results["unlabeled-size"]
    sizes, metric = runs[0]["sizes"], metric_of(runs)
    if len(sizes) < 3:
        raise ValueError("unlabeled-size needs at least 3 pretraining sizes to judge diminishing returns")
    first = [(r[metric][1] - r[metric][0]) / math.log2(sizes[1] / sizes[0]) for r in runs]
    last = [(r[metric][-1] - r[metric][-2]) / math.log2(sizes[-1] / sizes[-2]) for r in runs]
    diff = [f - s for f, s in zip(first, last)]
    verdict, note = sign_verdict(diff, "first-step gain per doubling minus last-step gain per doubling")
    measured = {f"{metric}@{n}": summarize([r[metric][i] for r in runs]) for i, n in enumerate(sizes)}
    measured[f"random_init_{metric}"] = summarize([r["random_init"][metric] for r in runs])
    measured |= {"gain_per_doubling_first": summarize(first), "gain_per_doubling_last": summarize(last),
                 "first_minus_last": summarize(diff)}
    return Verdict(verdict, measured,
                   f"{metric} gain per doubling {sizes[0]}->{sizes[1]} exceeds {sizes[-2]}->{sizes[-1]} (95% CI of difference > 0)",
                   note)


def judge_labeled_size(results: dict[str, list[dict]]) -> Verdict:
    runs = results["labeled-size"]
    sizes = runs[0]["label_sizes"]
    gaps = np.array([[ft - sup for ft, sup in zip(r["ssl_finetune"], r["supervised"])] for r in runs])
    v_small, n_small = sign_verdict(list(gaps[:, 0]), f"SSL benefit at {sizes[0]} labels")
    v_shrink, n_shrink = sign_verdict(list(gaps[:, 0] - gaps[:, -1]),
                                      f"benefit at {sizes[0]} minus benefit at {sizes[-1]} labels")
    meet = None
    for i, n in enumerate(sizes):
        _, low, high = mean_ci(gaps[:, i])
        if low <= 0:          # benefit no longer distinguishable from 0 (or negative)
            meet = n
            break
    measured = {f"benefit@{n}": summarize(gaps[:, i]) for i, n in enumerate(sizes)}
    measured |= {f"supervised@{n}": summarize([r["supervised"][i] for r in runs]) for i, n in enumerate(sizes)}
    measured["curves_meet_at_labels"] = meet
    note = f"{n_small}; {n_shrink}; curves meet at " + (f"{meet} labels" if meet else "no label count in the grid")
    return Verdict(combine([v_small, v_shrink]), measured,
                   "fine-tune minus supervised > 0 at the fewest labels and larger there than at the most labels "
                   "(95% CIs)", note)


def judge_domain(results: dict[str, list[dict]]) -> Verdict:
    runs = results["domain"]
    metric = metric_of(runs)
    measured, verdicts, notes = {}, [], []
    for arm in runs[0]["arms"]:
        measured[f"{metric}[{arm}]"] = summarize([r["arms"][arm][metric] for r in runs])
    for other in ("cross-domain", "pooled-2x", "pooled-3-domains"):
        if other not in runs[0]["arms"]:
            raise ValueError(f"the domain claim needs the {other!r} arm")
        diff = [r["arms"]["in-domain"][metric] - r["arms"][other][metric] for r in runs]
        measured[f"in-domain minus {other}"] = summarize(diff)
        verdict, note = sign_verdict(diff, f"in-domain minus {other}")
        verdicts.append(verdict)
        notes.append(note)
    return Verdict(combine(verdicts), measured,
                   f"{metric}: in-domain beats cross-domain and the larger pooled sets (95% CIs of paired differences > 0)",
                   "; ".join(notes))


def judge_granularity(results: dict[str, list[dict]]) -> Verdict:
    runs = results["granularity"]
    diff = [r["fine"]["gap"] - r["coarse"]["gap"] for r in runs]
    verdict, note = sign_verdict(diff, "fine-label gap minus coarse-label gap")
    measured = {f"{k}[{level}]": summarize([r[level][k] for r in runs])
                for level in ("coarse", "fine") for k in ("ssl", "supervised", "gap")}
    measured["gap_growth"] = summarize(diff)
    return Verdict(verdict, measured, f"supervised-minus-SSL ({metric_of(runs)}) gap larger for fine than for coarse labels (95% CI > 0)",
                   note)


def judge_corruption(results: dict[str, list[dict]]) -> Verdict:
    runs = results["corruption"]
    arms, metric = runs[0]["arms"], metric_of(runs)
    levels = {kind: [] for kind in ("salt_pepper", "resolution")}
    for name in arms:
        if name != "clean":
            kind, level = parse_corruption(name)
            if kind in levels:
                levels[kind].append(level)
    common = sorted(set(levels["salt_pepper"]) & set(levels["resolution"]))
    if not common:
        raise ValueError("corruption needs salt_pepper and resolution arms at a common severity to judge")
    level = common[-1]
    measured = {f"drop[{name}]": summarize([r["arms"]["clean"][metric] - r["arms"][name][metric] for r in runs])
                for name in arms if name != "clean"}
    measured[f"clean_{metric}"] = summarize([r["arms"]["clean"][metric] for r in runs])
    diff = [r["arms"][f"salt_pepper:{level}"][metric] - r["arms"][f"resolution:{level}"][metric] for r in runs]
    measured["resolution_drop_minus_salt_pepper_drop"] = summarize(diff)
    verdict, note = sign_verdict(diff, f"resolution drop minus salt-and-pepper drop at severity {level}")
    return Verdict(verdict, measured,
                   f"{metric} accuracy drop from resolution:{level} exceeds that from salt_pepper:{level} (95% CI > 0)", note)


CLAIMS = [
    Claim("ssl-unlabeled-size-saturates",
          "The SSL models being tested here seem to roughly saturate at unsupervised dataset sizes of around "
          "500K; the comparative jump from dataset sizes of 500K to 1M is fairly small.",
          ["unlabeled-size"], judge_unlabeled_size, seeds=SEEDS),
    Claim("ssl-benefit-shrinks-with-labels",
          "Once you have a supervised dataset of around 50K or more, the benefit of SSL pretraining starts to "
          "diminish, and it converges to being more similar to just supervised learning on that number of "
          "labeled images.",
          ["labeled-size"], judge_labeled_size, seeds=SEEDS),
    Claim("ssl-in-domain-beats-pooled",
          "A dataset of 250K in-dataset images does better than a 500K dataset of images from mixed datasets, "
          "and does notably better than a 1M dataset of mixed images.",
          ["domain"], judge_domain, seeds=SEEDS),
    Claim("ssl-gap-grows-with-granularity",
          "SSL seems to perform more closely to SL on a course label set; when the label set gets more "
          "granular, ... the gap between SSL and SL grows.",
          ["granularity"], judge_granularity, seeds=SEEDS),
    Claim("ssl-robust-to-noise-not-resolution",
          "SSL was much more robust to adding salt-and-pepper noise than it was to removing high-frequency "
          "information in the form of reducing the images to a lower resolution.",
          ["corruption"], judge_corruption, seeds=SEEDS),
]


# ---------------------------------------------------------------------------------------------
def _arms_figure(runs: list[dict], ylabel: str, title: str, color: str):
    """Bars of each pretraining arm's accuracy: mean over seeds with 95% interval."""
    names, metric = list(runs[0]["arms"]), metric_of(runs)
    stats = np.array([mean_ci([r["arms"][n][metric] for r in runs]) for n in names])
    fig, ax = new_figure(size=(6, 3.6))
    ax.bar(names, stats[:, 0], yerr=[stats[:, 0] - stats[:, 1], stats[:, 2] - stats[:, 0]], capsize=4, color=color)
    ax.set(ylabel=ylabel.format(metric=metric), ylim=(0.0, min(1.0, float(stats[:, 2].max()) + 0.05)),
           title=f"{title} ({len(runs)} seeds, 95% CI)")  # bars start at 0: a bar's length is its value
    ax.tick_params(axis="x", rotation=25)
    return fig


def summary_plots(results: dict[str, list[dict]], out_dir: Path) -> list[Path]:
    """One figure per claim: means over seeds with 95% intervals."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []

    def save(fig, name):
        paths.append(save_figure(fig, out_dir / f"{name}.png"))

    if "unlabeled-size" in results:
        runs = results["unlabeled-size"]
        sizes = runs[0]["sizes"]
        fig, ax = new_figure()
        for key, label in (("linear", "SimCLR linear probe"), ("knn", "SimCLR kNN")):
            plot_mean_ci(ax, sizes, [[r[key][i] for r in runs] for i in range(len(sizes))], label)
        for key, ls in (("linear", "--"), ("knn", ":")):
            ax.axhline(float(np.mean([r["random_init"][key] for r in runs])), color="gray", ls=ls,
                       label=f"random init, {key}")
        ax.set(xscale="log", xlabel="unlabelled pretraining images (Fashion-MNIST)", ylabel="test accuracy",
               title=f"Pretraining-set size ({len(runs)} seeds, 95% CI)")
        ax.legend()
        save(fig, "unlabeled_size")
    if "labeled-size" in results:
        runs = results["labeled-size"]
        sizes = runs[0]["label_sizes"]
        fig, ax = new_figure()
        for key, label in (("ssl_finetune", "SimCLR + fine-tune"), ("supervised", "supervised from scratch"),
                           ("ssl_linear", "SimCLR linear probe")):
            plot_mean_ci(ax, sizes, [[r[key][i] for r in runs] for i in range(len(sizes))], label)
        ax.set(xscale="log", xlabel="labelled images", ylabel="test accuracy",
               title=f"Labelled-set size ({len(runs)} seeds, 95% CI)")
        ax.legend()
        save(fig, "labeled_size")
    if "domain" in results:
        save(_arms_figure(results["domain"], "Fashion-MNIST {metric} accuracy", "Pretraining domain",
                          "tab:blue"), "domain")
    if "granularity" in results:
        runs = results["granularity"]
        fig, ax = new_figure()
        levels = ["coarse", "fine"]
        for key, label in (("ssl", f"SimCLR {metric_of(runs)}"), ("supervised", "supervised from scratch")):
            plot_mean_ci(ax, [0, 1], [[r[lv][key] for r in runs] for lv in levels], label)
        ax.set_xticks([0, 1], ["coarse (4 groups)", "fine (10 classes)"])
        ax.set(ylabel="test accuracy", title=f"Label granularity ({len(runs)} seeds, 95% CI)")
        ax.legend()
        save(fig, "granularity")
    if "corruption" in results:
        save(_arms_figure(results["corruption"], "clean {metric} accuracy", "Corrupted pretraining images",
                          "tab:orange"), "corruption")
    return paths


PAPER = Paper(
    name="ssl",
    title="When Does Contrastive Visual Representation Learning Work? (Cole et al., CVPR 2022)",
    experiments=EXPERIMENTS,
    claims=CLAIMS,
    summary_plots=summary_plots,
)
