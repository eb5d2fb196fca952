"""Cole et al., "When Does Contrastive Visual Representation Learning Work?" (CVPR 2022) on
Fashion-MNIST: the judges (each judged on the shape of the result over seeds) and the `CLAIMS` list."""
from __future__ import annotations

import math

import numpy as np

from paperlab.core.claims import (
    Claim, Verdict, check_preconditions, combine, difference_verdict, mean_ci, missing_arms, summarize,
    verdict_from_difference,
)
from paperlab.ssl.experiments import DOMAIN_PAPER_ARMS, parse_corruption, size_mapping

SEEDS = 3
SEEDS_ARMS = 5      # domain and corruption: their quick-scale intervals were wide at 3 seeds


def above_zero(values) -> bool:
    """The 95% interval of paired per-seed differences lies above 0 (needs 2 or more seeds)."""
    return len(values) >= 2 and mean_ci(values)[1] > 0


def metric_of(runs: list[dict]) -> str:
    """The frozen-feature metric the runs were judged on (``eval_metric`` of their config)."""
    return runs[0].get("metric", "linear")


def _seeds_condition(runs: list[dict]) -> dict[str, bool]:
    return {f"at least 2 seeds for a 95% interval (have {len(runs)})": len(runs) >= 2}


# ---------------------------------------------------------------------------------------------
BEATS_REFERENCES = "SimCLR features beat raw pixels and random-init features on this evaluation (both CIs > 0)"


def references_check(simclr: list[float], runs_refs: list[dict], metric: str) -> tuple[bool, dict]:
    """The study's first check on one evaluation: paired differences SimCLR minus raw pixels and
    SimCLR minus random init (BN recomputed), per seed. Returns (both intervals above 0, measured)."""
    diffs = {ref: [s - r[ref][metric] for s, r in zip(simclr, runs_refs)] for ref in ("raw_pixels", "random_init")}
    measured = {f"{ref}_{metric}": summarize([r[ref][metric] for r in runs_refs]) for ref in diffs}
    measured |= {f"simclr_minus_{ref}": summarize(d) for ref, d in diffs.items()}
    return all(above_zero(d) for d in diffs.values()), measured


def judge_beats_references(results: dict[str, list[dict]]) -> Verdict:
    """The study's first check: the largest-set SimCLR encoder's features beat raw pixels and
    random-init features on the same labelled set. Every other judge applies the same check to its
    own evaluation as a precondition."""
    runs = results["unlabeled-size"]
    metric, sizes = metric_of(runs), runs[0]["sizes"]
    simclr = [r[metric][-1] for r in runs]
    _, refs_measured = references_check(simclr, [r["references"] for r in runs], metric)
    measured = {"size_mapping": size_mapping(sizes), "knn_k": runs[0].get("knn_k"),
                f"simclr_{metric}@{sizes[-1]}": summarize(simclr), **refs_measured}
    threshold = (f"{metric} of SimCLR ({sizes[-1]} images) minus raw pixels and minus random init: "
                 "both 95% CIs of paired differences > 0")
    gate = check_preconditions(_seeds_condition(runs), measured, threshold)
    if gate:
        return gate
    diffs = {ref: [s - r["references"][ref][metric] for s, r in zip(simclr, runs)] for ref in ("raw_pixels", "random_init")}
    verdict, note = combine([difference_verdict(d, f"SimCLR minus {ref}") for ref, d in diffs.items()])
    return Verdict(verdict, measured, threshold, note)


def judge_unlabeled_size(results: dict[str, list[dict]]) -> Verdict:
    runs = results["unlabeled-size"]
    sizes, metric = runs[0]["sizes"], metric_of(runs)
    if len(sizes) < 3:
        raise ValueError("unlabeled-size needs at least 3 pretraining sizes to judge diminishing returns")
    first = [(r[metric][1] - r[metric][0]) / math.log2(sizes[1] / sizes[0]) for r in runs]
    last = [(r[metric][-1] - r[metric][-2]) / math.log2(sizes[-1] / sizes[-2]) for r in runs]
    diff = [f - s for f, s in zip(first, last)]
    total = [r[metric][-1] - r[metric][0] for r in runs]
    measured = {"size_mapping": size_mapping(sizes)}      # first: the claims table shows it
    measured |= {f"{metric}@{n}": summarize([r[metric][i] for r in runs]) for i, n in enumerate(sizes)}
    measured |= {"gain_largest_minus_smallest": summarize(total), "gain_per_doubling_first": summarize(first),
                 "gain_per_doubling_last": summarize(last), "first_minus_last": summarize(diff),
                 "knn_k": runs[0].get("knn_k")}
    beats, refs_measured = references_check([r[metric][-1] for r in runs], [r["references"] for r in runs], metric)
    measured |= refs_measured
    preconditions = {**_seeds_condition(runs), BEATS_REFERENCES: beats,
                     f"more unlabelled data helps at all ({sizes[-1]} minus {sizes[0]} images, CI > 0)": above_zero(total)}
    measured["preconditions"] = preconditions
    threshold = (f"{metric} gain per doubling {sizes[0]}->{sizes[1]} exceeds {sizes[-2]}->{sizes[-1]} "
                 "(95% CI of difference > 0)")
    return check_preconditions(preconditions, measured, threshold) or verdict_from_difference(
        diff, measured, threshold, "first-step gain per doubling minus last-step gain per doubling")


def judge_labeled_size(results: dict[str, list[dict]]) -> Verdict:
    runs = results["labeled-size"]
    sizes = runs[0]["label_sizes"]
    gaps = np.array([[ft - sup for ft, sup in zip(r["ssl_finetune"], r["supervised"])] for r in runs])
    fitted = [r["supervised"][-1] - r["raw_pixels_linear"][-1] for r in runs]
    meet = None
    for i, n in enumerate(sizes):
        if mean_ci(gaps[:, i])[1] <= 0:          # benefit no longer distinguishable from 0 (or negative)
            meet = n
            break
    measured = {f"benefit@{n}": summarize(gaps[:, i]) for i, n in enumerate(sizes)}
    for key in ("supervised", "supervised_train", "ssl_finetune", "raw_pixels_linear"):
        measured |= {f"{key}@{n}": summarize([r[key][i] for r in runs]) for i, n in enumerate(sizes)}
    measured["classifier_steps"] = runs[0]["classifier_steps"]
    measured["supervised_minus_raw_pixels@" + str(sizes[-1])] = summarize(fitted)
    measured["curves_meet_at_labels"] = meet
    beats, refs_measured = references_check(
        [r["ssl_linear"][-1] for r in runs],
        [{"raw_pixels": {"linear": r["raw_pixels_linear"][-1]}, "random_init": {"linear": r["random_init_linear"][-1]}}
         for r in runs], "linear")
    measured |= {f"{k}@{sizes[-1]}": v for k, v in refs_measured.items()}
    preconditions = {**_seeds_condition(runs), BEATS_REFERENCES + f" (linear probe, {sizes[-1]} labels)": beats,
                     f"SSL helps at the fewest labels (fine-tune minus supervised at {sizes[0]}, CI > 0)":
                         above_zero(gaps[:, 0]),
                     f"the supervised baseline has fitted (it beats a linear probe on raw pixels at {sizes[-1]} "
                     "labels, CI > 0)": above_zero(fitted)}
    measured["preconditions"] = preconditions
    threshold = (f"benefit (fine-tune minus supervised) at {sizes[0]} labels minus benefit at {sizes[-1]} labels: "
                 "95% CI > 0")
    gate = check_preconditions(preconditions, measured, threshold)
    if gate:
        return gate
    return verdict_from_difference(list(gaps[:, 0] - gaps[:, -1]), measured, threshold,
                                   f"benefit at {sizes[0]} minus benefit at {sizes[-1]} labels",
                                   "curves meet at " + (f"{meet} labels" if meet else "no label count in the grid"))


def judge_domain(results: dict[str, list[dict]]) -> Verdict:
    runs = results["domain"]
    metric = metric_of(runs)
    mapping = ", ".join(f"{arm} {runs[0]['arms'][arm].get('images', '?')} ~ {DOMAIN_PAPER_ARMS[arm]}"
                        for arm in runs[0]["arms"] if arm in DOMAIN_PAPER_ARMS)
    measured, parts = {"size_mapping": mapping}, []    # first: the claims table shows it
    for arm in runs[0]["arms"]:
        measured[f"{metric}[{arm}]"] = summarize([r["arms"][arm][metric] for r in runs])
    threshold = f"{metric}: in-domain beats cross-domain and the larger pooled sets (95% CIs of paired differences > 0)"
    others = ("cross-domain", "pooled-2x", "pooled-3-domains")
    missing = missing_arms(runs[0]["arms"], ("in-domain", *others), measured, threshold)
    if missing:
        return missing
    beats, refs_measured = references_check([r["arms"]["in-domain"][metric] for r in runs],
                                            [r["references"] for r in runs], metric)
    measured |= refs_measured
    for other in others:
        diff = [r["arms"]["in-domain"][metric] - r["arms"][other][metric] for r in runs]
        measured[f"in-domain minus {other}"] = summarize(diff)
        parts.append(difference_verdict(diff, f"in-domain minus {other}"))
    preconditions = {**_seeds_condition(runs), BEATS_REFERENCES + " (in-domain arm)": beats}
    measured["preconditions"] = preconditions
    verdict, note = combine(parts)
    return check_preconditions(preconditions, measured, threshold) or Verdict(verdict, measured, threshold, note)


def judge_granularity(results: dict[str, list[dict]]) -> Verdict:
    runs = results["granularity"]
    diff = [r["fine"]["gap"] - r["coarse"]["gap"] for r in runs]
    measured = {f"{k}[{level}]": summarize([r[level][k] for r in runs])
                for level in ("coarse", "fine") for k in ("ssl", "supervised", "supervised_train", "raw_pixels_linear",
                                                         "random_init", "gap")}
    measured["gap_growth"] = summarize(diff)
    measured["knn_k"] = runs[0]["fine"].get("knn_k")
    preconditions = dict(_seeds_condition(runs))
    for level in ("coarse", "fine"):
        fitted = [r[level]["supervised"] - r[level]["raw_pixels_linear"] for r in runs]
        preconditions[f"the supervised baseline has fitted on {level} labels (beats a raw-pixel linear probe, "
                      "CI > 0)"] = above_zero(fitted)
    beats, refs_measured = references_check([r["fine"]["ssl"] for r in runs],
                                            [{ref: {"m": r["fine"][ref]} for ref in ("raw_pixels", "random_init")}
                                             for r in runs], "m")
    measured |= {k.removesuffix("_m") + "[fine]": v for k, v in refs_measured.items()}
    preconditions[BEATS_REFERENCES + " (fine labels)"] = beats
    measured["preconditions"] = preconditions
    threshold = f"supervised-minus-SSL ({metric_of(runs)}) gap larger for fine than for coarse labels (95% CI > 0)"
    return check_preconditions(preconditions, measured, threshold) or verdict_from_difference(
        diff, measured, threshold, "fine-label gap minus coarse-label gap")


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
        return missing_arms([], ["salt_pepper and resolution arms at a common severity"], {},
                            f"{metric} accuracy drop from resolution exceeds that from salt_pepper at a common "
                            "severity (95% CI > 0)")
    level = common[-1]
    measured = {f"drop[{name}]": summarize([r["arms"]["clean"][metric] - r["arms"][name][metric] for r in runs])
                for name in arms if name != "clean"}
    measured[f"clean_{metric}"] = summarize([r["arms"]["clean"][metric] for r in runs])
    beats, refs_measured = references_check([r["arms"]["clean"][metric] for r in runs],
                                            [r["references"] for r in runs], metric)
    measured |= refs_measured
    diff = [r["arms"][f"salt_pepper:{level}"][metric] - r["arms"][f"resolution:{level}"][metric] for r in runs]
    measured["resolution_drop_minus_salt_pepper_drop"] = summarize(diff)
    preconditions = {**_seeds_condition(runs), BEATS_REFERENCES + " (clean arm)": beats}
    measured["preconditions"] = preconditions
    threshold = f"{metric} accuracy drop from resolution:{level} exceeds that from salt_pepper:{level} (95% CI > 0)"
    return check_preconditions(preconditions, measured, threshold) or verdict_from_difference(
        diff, measured, threshold, f"resolution drop minus salt-and-pepper drop at severity {level}")


CLAIMS = [
    Claim("ssl-simclr-beats-references",
          "SimCLR features beat raw pixels and random features (the study's first check: every other claim "
          "requires it on its own evaluation and is inconclusive otherwise).",
          ["unlabeled-size"], judge_beats_references, seeds=SEEDS, source="issue"),
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
          ["domain"], judge_domain, seeds=SEEDS_ARMS),
    Claim("ssl-gap-grows-with-granularity",
          "SSL seems to perform more closely to SL on a course label set; when the label set gets more "
          "granular, ... the gap between SSL and SL grows.",
          ["granularity"], judge_granularity, seeds=SEEDS),
    Claim("ssl-robust-to-noise-not-resolution",
          "SSL was much more robust to adding salt-and-pepper noise than it was to removing high-frequency "
          "information in the form of reducing the images to a lower resolution.",
          ["corruption"], judge_corruption, seeds=SEEDS_ARMS),
]
