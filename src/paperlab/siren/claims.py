"""SIREN: the judges and the `CLAIMS` list."""

from __future__ import annotations

import math

import numpy as np

from paperlab.core.claims import (Claim, Verdict, check_preconditions, missing_arms, seed_values, single_seed_note,
                                  summarize, verdict_if)


def judge_siren_fits_images(results: dict[str, list[dict]]) -> Verdict:
    runs = results["image-fit"]
    methods = list(runs[0]["methods"])
    psnrs = {m: summarize(seed_values(runs, lambda r, m=m: r["methods"][m]["psnr_image"])) for m in methods}
    threshold = "SIREN image PSNR >= best baseline's + 5 dB at equal steps"
    missing = missing_arms(methods, ("siren",), {"psnr_image": psnrs}, threshold, baselines=1)
    if missing:
        return missing
    best = max((m for m in methods if m != "siren"), key=lambda m: psnrs[m]["mean"])
    margin = psnrs["siren"]["mean"] - psnrs[best]["mean"]
    return verdict_if(margin >= 5.0, {"psnr_image_db": {m: psnrs[m]["mean"] for m in methods},
                                      "margin_over_best_baseline_db": margin, "best_baseline": best}, threshold,
                      f"{runs[0]['side']}^2 {runs[0]['image']}, {runs[0]['steps']} steps; " + single_seed_note(len(runs)))


# Derivative scores (issue 28). The network's exact gradient and Laplacian at the pixel centres are scored
# against the exact derivatives of the image's band-limited interpolant (`bandlimited_derivatives`), as PSNR
# with the ground truth's peak-to-peak as range; predicting zero scores the "floor" reported beside every
# number. The old ground truth, Sobel / the 5-point Laplace filter of the pixels, damps high frequencies, so it
# rewarded blur (a 0.75 px blur scored 42 dB on the gradient, the band-limited derivative scored below zero);
# those scores stay in the runs and in `measured` as a finding, not judged.
DERIVATIVE_MARGIN_DB = 1.0      # SIREN over every baseline, gradient and Laplacian each
FLOOR_MARGIN_DB = 3.0           # over the zero prediction (half its MSE): the derivative is matched, not noise
IMAGE_FITTED_DB = 30.0          # precondition: the derivatives of a function that misses the image say nothing
DERIVATIVE_SCORE = ("scored against the exact derivatives of the image's band-limited (mirrored cosine-series) "
                    "interpolant at the pixel centres, PSNR with the ground truth's peak-to-peak as range")


def _derivative_scores(runs: list[dict]) -> tuple[dict, dict, dict]:
    """Band-limited scores {kind: {method: PSNR}}, zero floors {kind: PSNR}, and the Sobel finding (mean over seeds)."""
    methods = list(runs[0]["methods"])
    mean = lambda get: float(np.mean(seed_values(runs, get)))  # noqa: E731
    scores = {k: {m: mean(lambda r, m=m: r["methods"][m][f"psnr_{k}_bandlimited"]) for m in methods}
              for k in ("gradient", "laplacian")}
    floors = {k: mean(lambda r, k=k: r["zero_floor"][f"{k}_bandlimited"]) for k in ("gradient", "laplacian")}
    sobel = {"psnr_gradient_sobel": {m: mean(lambda r, m=m: r["methods"][m]["psnr_gradient_sobel"]) for m in methods},
             "psnr_laplacian_filter": {m: mean(lambda r, m=m: r["methods"][m]["psnr_laplacian_filter"]) for m in methods},
             "zero_floor": {k: mean(lambda r, k=k: r["zero_floor"][k]) for k in ("gradient_sobel", "laplacian_filter")}}
    return scores, floors, sobel


def _has_bandlimited_scores(runs: list[dict]) -> bool:
    return all("zero_floor" in r and all("psnr_gradient_bandlimited" in v for v in r["methods"].values()) for r in runs)


def judge_siren_derivatives(results: dict[str, list[dict]]) -> Verdict:
    runs = results["image-fit"]
    methods = list(runs[0]["methods"])
    threshold = (f"{DERIVATIVE_SCORE}: SIREN's gradient and Laplacian PSNR each >= every baseline's + "
                 f"{DERIVATIVE_MARGIN_DB:g} dB and >= the zero prediction's + {FLOOR_MARGIN_DB:g} dB; precondition: "
                 f"SIREN fits the image (PSNR >= {IMAGE_FITTED_DB:g} dB)")
    missing = missing_arms(methods, ("siren",), {}, threshold, baselines=1)
    gate = missing or check_preconditions({"the runs have the band-limited derivative scores (rerun runs made before "
                                           "issue 28)": _has_bandlimited_scores(runs)}, {}, threshold)
    if gate:
        return gate
    scores, floors, sobel = _derivative_scores(runs)
    image = float(np.mean(seed_values(runs, lambda r: r["methods"]["siren"]["psnr_image"])))
    baselines = [m for m in methods if m != "siren"]
    over_floor = {k: scores[k]["siren"] - floors[k] for k in scores}
    over_best = {k: scores[k]["siren"] - max(scores[k][b] for b in baselines) for k in scores}
    measured = {"psnr_gradient": scores["gradient"], "psnr_laplacian": scores["laplacian"], "zero_floor": floors,
                "siren_over_floor_db": over_floor, "siren_over_best_baseline_db": over_best,
                "siren_psnr_image": image, "finding_sobel_not_judged": sobel}
    gate = check_preconditions({f"SIREN fits the image (PSNR {image:.1f} >= {IMAGE_FITTED_DB:g} dB)":
                                image >= IMAGE_FITTED_DB}, measured, threshold)
    ok = all(over_floor[k] >= FLOOR_MARGIN_DB and over_best[k] >= DERIVATIVE_MARGIN_DB for k in scores)
    return gate or verdict_if(ok, measured, threshold, single_seed_note(len(runs)))


def judge_relu_pe(results: dict[str, list[dict]]) -> Verdict:
    runs = results["image-fit"]
    methods = runs[0]["methods"]
    threshold = (f"ReLU+P.E. image PSNR above ReLU's, tanh's and RBF-ReLU's, and its gradient and Laplacian PSNR "
                 f"({DERIVATIVE_SCORE}) each >= 3 dB below SIREN's; precondition: SIREN's derivatives match "
                 f"(each >= the zero prediction's + {FLOOR_MARGIN_DB:g} dB), else 'below SIREN' says nothing")
    missing = missing_arms(methods, ("siren", "relu_pe", "relu", "tanh"), {}, threshold)
    gate = missing or check_preconditions({"the runs have the band-limited derivative scores (rerun runs made before "
                                           "issue 28)": _has_bandlimited_scores(runs)}, {}, threshold)
    if gate:
        return gate
    scores, floors, sobel = _derivative_scores(runs)
    mean = lambda m, k: float(np.mean(seed_values(runs, lambda r: r["methods"][m][k])))  # noqa: E731
    plain = [m for m in methods if m not in ("siren", "relu_pe")]
    best_plain = max(mean(m, "psnr_image") for m in plain)
    gaps = {k: scores[k]["siren"] - scores[k]["relu_pe"] for k in scores}
    measured = {"relu_pe_psnr_image": mean("relu_pe", "psnr_image"), "best_plain_baseline_psnr_image": best_plain,
                "siren_minus_relu_pe_db": gaps,
                "relu_pe_psnr": {k: scores[k]["relu_pe"] for k in scores},
                "siren_psnr": {k: scores[k]["siren"] for k in scores}, "zero_floor": floors,
                "finding_sobel_not_judged": {"siren_minus_relu_pe_gradient_sobel_db":
                                             sobel["psnr_gradient_sobel"]["siren"] - sobel["psnr_gradient_sobel"]["relu_pe"],
                                             "siren_minus_relu_pe_laplacian_filter_db":
                                             sobel["psnr_laplacian_filter"]["siren"] - sobel["psnr_laplacian_filter"]["relu_pe"]}}
    gate = check_preconditions({"SIREN's gradient and Laplacian match (each >= the zero floor + "
                                f"{FLOOR_MARGIN_DB:g} dB)": all(scores[k]["siren"] - floors[k] >= FLOOR_MARGIN_DB
                                                                for k in scores)}, measured, threshold)
    ok = measured["relu_pe_psnr_image"] > best_plain and all(g >= 3 for g in gaps.values())
    return gate or verdict_if(ok, measured, threshold, single_seed_note(len(runs)))


def judge_gradient_supervision(results: dict[str, list[dict]]) -> Verdict:
    runs = results["derivative-supervision"]
    arms = [k for k in runs[0]["arms"] if k.endswith("-gradient")]
    psnrs = {k: float(np.mean(seed_values(runs, lambda r, k=k: r["arms"][k]["psnr_image"]))) for k in arms}
    threshold = "image PSNR (constant removed) of the gradient-only SIREN >= best baseline + 3 dB (paper: 32.9 vs 26.4)"
    missing = missing_arms(psnrs, ("siren-gradient",), psnrs, threshold, baselines=1)
    if missing:
        return missing
    best = max((k for k in psnrs if k != "siren-gradient"), key=psnrs.get)
    margin = psnrs["siren-gradient"] - psnrs[best]
    return verdict_if(margin >= 3.0, {"psnr_image_constant_removed_db": psnrs, "margin_db": margin}, threshold,
                      f"{runs[0]['side']}^2, {runs[0]['steps']} steps; " + single_seed_note(len(runs)))


def judge_laplacian_supervision(results: dict[str, list[dict]]) -> Verdict:
    runs = results["derivative-supervision"]
    threshold = ("Laplacian-only SIREN: PSNR (a + bx + cy removed) >= constant image + 3 dB and high-pass "
                 "correlation with the image >= 0.8")
    missing = missing_arms(runs[0]["arms"], ("siren-laplacian",), {}, threshold)
    if missing:
        return missing
    arm = lambda k: float(np.mean(seed_values(runs, lambda r: r["arms"]["siren-laplacian"][k])))  # noqa: E731
    floor = float(np.mean(seed_values(runs, lambda r: r["psnr_mean_predictor"])))
    measured = {"psnr_image_affine_removed": arm("psnr_image"), "psnr_constant_image": floor,
                "highpass_correlation": arm("highpass_correlation")}
    return verdict_if(measured["psnr_image_affine_removed"] >= floor + 3 and measured["highpass_correlation"] >= 0.8,
                      measured, threshold, "paper: 14.95 dB; " + single_seed_note(len(runs)))


def judge_poisson_blend(results: dict[str, list[dict]]) -> Verdict:
    runs = results["poisson-blend"]
    grad = float(np.mean(seed_values(runs, lambda r: r["psnr_gradient"])))
    image = float(np.mean(seed_values(runs, lambda r: r["psnr_image_vs_weighted_sum"])))
    return verdict_if(grad >= 30 and image >= 25, {"psnr_gradient_vs_composite": grad, "psnr_image_vs_weighted_sum": image},
                      "gradient PSNR to the composite field >= 30 dB and image PSNR to the exact blend (constant removed) >= 25 dB",
                      "plot: poisson_blend.png; " + single_seed_note(len(runs)))


def judge_audio(results: dict[str, list[dict]]) -> Verdict:
    runs = results["audio"]
    mse = {m: float(np.mean(seed_values(runs, lambda r, m=m: r["mse"][m]))) for m in runs[0]["mse"]}
    threshold = "best baseline MSE / SIREN MSE >= 100 (two orders of magnitude) at equal steps"
    missing = missing_arms(mse, ("siren",), mse, threshold, baselines=1)
    if missing:
        return missing
    ratio = min(v for k, v in mse.items() if k != "siren") / max(mse["siren"], 1e-30)
    return verdict_if(ratio >= 100, {"mse": mse, "best_baseline_over_siren": ratio}, threshold,
                      f"{runs[0]['samples']} samples at {runs[0]['rate']} Hz, {runs[0]['steps']} steps; " + single_seed_note(len(runs)))


# SDF claims (issue 28): the paper's loss leaves the far-field sign free (exp(-100|Phi|) and the eikonal term
# accept either sign), so a fit can grow an egg-crate of both signs on some seeds and not on others. The
# claims are therefore judged per seed over >= SDF_MIN_SEEDS seeds, with the aggregate rule fixed here
# before the runs: each seed passes or fails every part of the criterion, and the claim is reproduced when
# at least SDF_PASS_FRACTION of the seeds (rounded up: 2 of 3) pass, not reproduced otherwise.
SDF_MIN_SEEDS = 3
SDF_PASS_FRACTION = 2 / 3
SDF_SIGN_LOTTERY = ("the paper's loss leaves the far-field sign free, so whether a seed grows spurious zero sets "
                    "far from the shape is a lottery; judged per seed")


def _seeds_needed(n: int) -> int:
    return math.ceil(SDF_PASS_FRACTION * n - 1e-9)


def _sdf_setup_note(run: dict) -> str:
    """The run's first-layer omega_0 and clipping, named where they differ from the authors' (30, clip 1)."""
    first, clip = run.get("first_omega_0", 30.0), run.get("clip_grad_norm", 0.0)
    parts = [f"first-layer omega_0 {first:g}" + ("" if first == 30 else " (authors: 30)"),
             f"gradient clip {clip:g}" + ("" if clip == 1 else " (authors: 1)")]
    return ", ".join(parts)


def judge_sdf(results: dict[str, list[dict]]) -> Verdict:
    runs = results["sdf-2d"]
    pixel = runs[0]["pixel_size"]
    keys = ("surface_abs_mean", "eikonal_abs_dev_mean_away", "sign_agreement", "mae_vs_true_sdf")
    per_seed = {k: [float(r[k]) for r in runs] for k in keys}
    passes = [r["surface_abs_mean"] <= pixel and r["eikonal_abs_dev_mean_away"] <= 0.1 and r["sign_agreement"] >= 0.95
              for r in runs]
    need = _seeds_needed(len(runs))
    threshold = (f"per seed: mean |Phi| on the outline <= 1 pixel ({pixel:.4f}), mean ||grad Phi| - 1| <= 0.1 away "
                 "from it (|SDF| > 0.05), sign agrees with inside/outside on >= 95% of the grid; reproduced when >= 2/3 "
                 f"of >= {SDF_MIN_SEEDS} seeds pass every part")
    measured = {"per_seed": per_seed, "median": {k: float(np.median(v)) for k, v in per_seed.items()},
                "seeds_passing": int(sum(passes)), "seeds": len(runs), "seeds_needed": need}
    gate = check_preconditions({f">= {SDF_MIN_SEEDS} seeds (one seed says nothing about a seed lottery)":
                                len(runs) >= SDF_MIN_SEEDS}, measured, threshold)
    note = f"{runs[0]['steps']} steps (authors: 10k), {_sdf_setup_note(runs[0])}; {SDF_SIGN_LOTTERY}"
    if gate:
        gate.note += f"; {note}"
        return gate
    return verdict_if(sum(passes) >= need, measured, threshold, note)


def _paper_init_layers(runs: list[dict]) -> list[dict]:
    """Per-layer statistics of the paper's init, every layer after the first, all seeds."""
    return [row for r in runs for row in r["layers"]["paper"][1:]]


def judge_activation_stationary(results: dict[str, list[dict]]) -> Verdict:
    """Pre-activations ~ N(0, 1) at every depth and a stationary activation distribution; a naive init collapses."""
    runs = results["activation-statistics"]
    threshold = ("paper init, every layer after the first: pre-activation std in [0.8, 1.25] and activation "
                 "variance max/min <= 1.2 over depth; PyTorch-default sin(x) net: last-layer activation variance < 0.01")
    missing = missing_arms(runs[0]["layers"], ("paper", "default_sin1"), {}, threshold)
    if missing:
        return missing
    deep = _paper_init_layers(runs)
    act_vars = [x["act_var"] for x in deep]
    measured = {"paper_pre_std_range": [min(x["pre_std"] for x in deep), max(x["pre_std"] for x in deep)],
                "paper_act_var_max_over_min": max(act_vars) / min(act_vars),
                "default_sin1_last_layer_act_var": float(np.mean([r["layers"]["default_sin1"][-1]["act_var"] for r in runs])),
                "depth": runs[0]["depth"], "width": runs[0]["width"]}
    ok = (0.8 <= measured["paper_pre_std_range"][0] and measured["paper_pre_std_range"][1] <= 1.25
          and measured["paper_act_var_max_over_min"] <= 1.2 and measured["default_sin1_last_layer_act_var"] < 0.01)
    return verdict_if(ok, measured, threshold, "pre-activations include the default bias (authors' code), which adds "
                      "300/width to their variance; " + single_seed_note(len(runs)))


def judge_activation_arcsine(results: dict[str, list[dict]]) -> Verdict:
    runs = results["activation-statistics"]
    threshold = ("paper init, every layer after the first: activation variance in [0.45, 0.55] and KS distance to "
                 "the arcsine law <= 0.05")
    missing = missing_arms(runs[0]["layers"], ("paper",), {}, threshold)
    if missing:
        return missing
    deep = _paper_init_layers(runs)
    act_vars = [x["act_var"] for x in deep]
    sin_gaussian = max(abs(x["act_var"] - (1 - np.exp(-2 * x["pre_std"] ** 2)) / 2) for x in deep)
    measured = {"paper_act_var_range": [min(act_vars), max(act_vars)],
                "paper_max_ks_arcsine": max(x["act_ks_arcsine"] for x in deep),
                "max_abs_act_var_minus_sin_of_gaussian_prediction": float(sin_gaussian)}
    ok = 0.45 <= min(act_vars) and max(act_vars) <= 0.55 and measured["paper_max_ks_arcsine"] <= 0.05
    return verdict_if(ok, measured, threshold,
                      "sin(z) with z ~ N(0, s^2) has variance (1 - exp(-2 s^2)) / 2 = 0.43 for s = 1, so with standard "
                      "normal pre-activations the activations are only approximately arcsine (variance 1/2 needs wide "
                      "pre-activations); the measured variances follow that prediction to within the reported gap")


def _prior_mse(runs: list[dict]) -> tuple[list[str], dict[str, list[float]]]:
    """Context sizes and, per method, the inpainting MSE at each size (mean over seeds)."""
    contexts = [str(c) for c in runs[0]["contexts"]]
    return contexts, {m: [float(np.mean([r["mse_by_context"][m][c] for r in runs])) for c in contexts]
                      for m in runs[0]["mse_by_context"]}


def judge_prior_context(results: dict[str, list[dict]]) -> Verdict:
    runs = results["prior"]
    contexts, mse = _prior_mse(runs)
    threshold = "hypernetwork inpainting MSE falls by >= 10% at each larger context size"
    missing = missing_arms(mse, ("hypernetwork",), mse, threshold)
    if missing:
        return missing
    hn = mse["hypernetwork"]
    falls = all(later <= 0.9 * earlier for earlier, later in zip(hn, hn[1:]))
    return verdict_if(falls, {"contexts": contexts, "mse": mse, "dataset": runs[0]["dataset"]}, threshold,
                      f"{runs[0]['steps']} training steps; paper (CelebA): .035/.013/.009; " + single_seed_note(len(runs)))


def judge_prior_vs_cnp(results: dict[str, list[dict]]) -> Verdict:
    runs = results["prior"]
    contexts, mse = _prior_mse(runs)
    threshold = ("hypernetwork MSE <= 1.1 x CNP MSE at every context size (paper: HN .035/.013/.009 vs CNP "
                 ".039/.016/.009)")
    missing = missing_arms(mse, ("hypernetwork", "cnp"), mse, threshold)
    if missing:
        return missing
    ratios = [h / c for h, c in zip(mse["hypernetwork"], mse["cnp"])]
    return verdict_if(all(r <= 1.1 for r in ratios), {"contexts": contexts, "mse": mse, "hn_over_cnp": ratios}, threshold,
                      single_seed_note(len(runs)))


def judge_helmholtz_solves(results: dict[str, list[dict]]) -> Verdict:
    runs = results["helmholtz"]
    err = float(np.mean(seed_values(runs, lambda r: r["relative_l2_error"]["siren"])))
    return verdict_if(err <= 0.2, {"siren_relative_l2_error": err,
                                   "siren_mse": float(np.mean(seed_values(runs, lambda r: r["mse"]["siren"]))),
                                   "exact_mean_square": runs[0]["exact_mean_square"]},
                      "SIREN's relative L2 error against the exact Hankel solution <= 0.2 (inside the PML, "
                      "|x| >= 0.1 from the source)",
                      f"k = {runs[0]['wavenumber']}, {runs[0]['steps']} steps of {runs[0]['collocation_points']} "
                      "collocation points; " + single_seed_note(len(runs)))


def judge_helmholtz_baselines(results: dict[str, list[dict]]) -> Verdict:
    runs = results["helmholtz"]
    err = {m: float(np.mean(seed_values(runs, lambda r, m=m: r["relative_l2_error"][m])))
           for m in runs[0]["relative_l2_error"]}
    threshold = ("SIREN's relative L2 error below every baseline's at equal steps (paper MSE: SIREN 7.9e-6, "
                 "tanh 2.6e-5, RBF 1.0e-4, ReLU fails)")
    missing = missing_arms(err, ("siren",), err, threshold, baselines=1)
    if missing:
        return missing
    gate = check_preconditions({"SIREN learned the field (relative error < 1); otherwise the ordering says nothing":
                                err["siren"] < 1.0}, {"relative_l2_error": err}, "SIREN error < every baseline's")
    return gate or verdict_if(all(err["siren"] < err[b] for b in err if b != "siren"), {"relative_l2_error": err},
                              threshold, single_seed_note(len(runs)))


def judge_wave(results: dict[str, list[dict]]) -> Verdict:
    runs = results["wave"]
    fd = float(max(seed_values(runs, lambda r: r["fd_coarse_vs_fine_relative_l2"])))
    errors = np.mean([r["relative_l2_by_time"]["siren"] for r in runs], axis=0)
    measured = {"times": runs[0]["times"], "siren_relative_l2_by_time": [float(e) for e in errors],
                "fd_coarse_vs_fine_relative_l2": fd}
    gate = check_preconditions({"the finite-difference reference has converged (coarse vs fine grid differ by <= 5%)":
                                fd <= 0.05}, measured, "max relative L2 error <= 0.2")
    return gate or verdict_if(float(errors.max()) <= 0.2, measured,
                      "SIREN's relative L2 error to the finite-difference solution <= 0.2 at every snapshot time",
                      f"Gaussian variance {runs[0]['variance']}, {runs[0]['steps']} steps; " + single_seed_note(len(runs)))


def judge_wave_vs_tanh(results: dict[str, list[dict]]) -> Verdict:
    runs = results["wave"]
    threshold = "SIREN's mean relative L2 error over the snapshots t > 0 below the tanh network's at equal steps"
    missing = missing_arms(runs[0]["relative_l2_by_time"], ("siren", "tanh"), {}, threshold)
    if missing:
        return missing
    mean_err = {m: float(np.mean([np.mean(r["relative_l2_by_time"][m][1:]) for r in runs])) for m in ("siren", "tanh")}
    gate = check_preconditions({"SIREN learned the solution (relative error < 1)": mean_err["siren"] < 1.0},
                               {"mean_relative_l2_t_gt_0": mean_err}, "SIREN error < tanh error")
    return gate or verdict_if(mean_err["siren"] < mean_err["tanh"], {"mean_relative_l2_t_gt_0": mean_err}, threshold,
                              single_seed_note(len(runs)))


def judge_sdf_3d(results: dict[str, list[dict]]) -> Verdict:
    runs = results["sdf-3d"]
    shapes = [k for k in runs[0]["shapes"] if "iou" in runs[0]["shapes"][k]]
    threshold = ("per seed, every analytic shape: IoU of {Phi < 0} with the exact inside >= 0.9, mean |Phi| on "
                 "held-out surface points <= 0.01, mean ||grad Phi| - 1| <= 0.1 where |SDF| <= 0.25; reproduced when "
                 f">= 2/3 of >= {SDF_MIN_SEEDS} seeds pass")
    gate = check_preconditions({"a shape with an exact SDF was fitted (a mesh alone has none to compare with)":
                                bool(shapes)}, {}, threshold)
    if gate:
        return gate
    keys = ("iou", "surface_abs_mean", "eikonal_abs_dev_mean_band", "mae_vs_true_sdf_band", "normal_cosine_mean")
    passes = [all(r["shapes"][s]["iou"] >= 0.9 and r["shapes"][s]["surface_abs_mean"] <= 0.01
                  and r["shapes"][s]["eikonal_abs_dev_mean_band"] <= 0.1 for s in shapes) for r in runs]
    measured = {s: {k: [float(r["shapes"][s][k]) for r in runs] for k in keys} for s in shapes}
    need = _seeds_needed(len(runs))
    measured.update({"seeds_passing": int(sum(passes)), "seeds": len(runs), "seeds_needed": need})
    note = (f"{runs[0]['eval_side']}^3 grid, {runs[0]['steps']} steps (authors: 10k epochs), "
            f"{_sdf_setup_note(runs[0])}; {SDF_SIGN_LOTTERY}")
    gate = check_preconditions({f">= {SDF_MIN_SEEDS} seeds (one seed says nothing about a seed lottery)":
                                len(runs) >= SDF_MIN_SEEDS}, measured, threshold)
    if gate:
        gate.note += f"; {note}"
        return gate
    return verdict_if(sum(passes) >= need, measured, threshold, note)


def judge_video(results: dict[str, list[dict]]) -> Verdict:
    runs = results["video"]
    per_frame = runs[0]["psnr_by_frame"]
    threshold = ("SIREN's mean per-frame PSNR >= ReLU+P.E.'s + 2 dB, and higher on >= 90% of the frames (paper, cat "
                 "video: 29.90 vs 25.12 dB)")
    missing = missing_arms(per_frame, ("siren", "relu_pe"), {}, threshold)
    if missing:
        return missing
    siren = np.mean([r["psnr_by_frame"]["siren"] for r in runs], axis=0)
    pe = np.mean([r["psnr_by_frame"]["relu_pe"] for r in runs], axis=0)
    measured = {"psnr_mean": {"siren": float(siren.mean()), "relu_pe": float(pe.mean())},
                "margin_db": float(siren.mean() - pe.mean()), "frames_siren_better": float(np.mean(siren > pe)),
                "frames": len(siren)}
    return verdict_if(measured["margin_db"] >= 2.0 and measured["frames_siren_better"] >= 0.9, measured, threshold,
                      f"{runs[0]['frames']} frames of {runs[0]['height']}x{runs[0]['width']}, {runs[0]['steps']} "
                      f"steps, {runs[0]['source']}; " + single_seed_note(len(runs)))


CLAIMS = [
    Claim(id="siren-fits-images",
          text="a single network is being used to capture information about a single image ... a continuous "
               "representation of that image (SIREN fits it far better than ReLU, tanh, ReLU+P.E., RBF-ReLU at equal steps)",
          experiments=["image-fit"], judge=judge_siren_fits_images, seeds=1),
    Claim(id="siren-derivatives-match",
          text="if you take a derivative of a sine curve, what you get is a cosine curve ... you can take multiple "
               "derivatives of the learned function (its gradient and Laplacian match the image's)",
          experiments=["image-fit"], judge=judge_siren_derivatives, seeds=1),
    Claim(id="relu-pe-image-not-derivatives",
          text="ReLU+P.E. fits the image but not its derivatives (paper, Fig. 1)",
          experiments=["image-fit"], judge=judge_relu_pe, seeds=1, source="paper"),
    Claim(id="gradient-supervision",
          text="train against a loss function of matching ... the first and second-derivatives (gradients and "
               "Laplacian) of the image: from the gradient alone the image is recovered (up to a constant)",
          experiments=["derivative-supervision"], judge=judge_gradient_supervision, seeds=1),
    Claim(id="laplacian-supervision",
          text="... and from the Laplacian alone the image is recovered up to low-frequency terms",
          experiments=["derivative-supervision"], judge=judge_laplacian_supervision, seeds=1),
    Claim(id="poisson-blending",
          text="if you want to merge the interesting parts of multiple images, you can approximate that by training "
               "a SIREN on the sum of their gradients",
          experiments=["poisson-blend"], judge=judge_poisson_blend, seeds=1),
    Claim(id="audio-orders-of-magnitude",
          text="SIREN represents audio with an MSE orders of magnitude below ReLU and ReLU+P.E. (paper, Sec. 4.1)",
          experiments=["audio"], judge=judge_audio, seeds=1, source="paper"),
    Claim(id="sdf-eikonal",
          text="fit to an oriented point cloud with the eikonal loss, the zero level set follows the shape and "
               "|grad Phi| = 1 away from it (paper, Sec. 4.2)",
          experiments=["sdf-2d"], judge=judge_sdf, seeds=SDF_MIN_SEEDS, source="paper"),
    Claim(id="activation-stationary",
          text="with the proposed initialisation, pre-activations stay standard normal through deep networks, so the "
               "activation distribution does not change with depth, while a naive initialisation collapses (paper, Sec. 3.2)",
          experiments=["activation-statistics"], judge=judge_activation_stationary, seeds=3, source="paper"),
    Claim(id="activation-arcsine",
          text="... and the activations are arcsine distributed on [-1, 1] (variance 1/2) at every layer (paper, Sec. 3.2)",
          experiments=["activation-statistics"], judge=judge_activation_arcsine, seeds=3, source="paper"),
    Claim(id="prior-over-functions",
          text="learn a prior over the space of image functions ... (inpainting error falls as the context grows "
               "from 10 to 100 to 1000 pixels)",
          experiments=["prior"], judge=judge_prior_context, seeds=1),
    Claim(id="prior-hypernetwork-vs-cnp",
          text="a set encoder with a hypernetwork onto a SIREN inpaints at least as well as a conditional neural "
               "process (paper, Sec. 4.4 table)",
          experiments=["prior"], judge=judge_prior_vs_cnp, seeds=1, source="paper"),
]

CLAIMS += [
    Claim(id="helmholtz-siren-solves",
          text="SIREN solves the Helmholtz equation for a point source from the PDE residual alone: its field matches "
               "the exact (Hankel-function) solution (paper, Sec. 4.3)",
          experiments=["helmholtz"], judge=judge_helmholtz_solves, seeds=1, source="paper"),
    Claim(id="helmholtz-siren-beats-baselines",
          text="... with a lower error than tanh, ReLU, ReLU+P.E. and RBF networks trained the same way "
               "(paper, Sec. 4.3: ReLU fails, tanh and RBF are less accurate)",
          experiments=["helmholtz"], judge=judge_helmholtz_baselines, seeds=1, source="paper"),
    Claim(id="wave-siren-solves",
          text="SIREN solves the wave equation's initial-value problem (Gaussian initial condition) from the PDE "
               "residual and the initial conditions (paper, Sec. 4.3)",
          experiments=["wave"], judge=judge_wave, seeds=1, source="paper"),
    Claim(id="wave-siren-vs-tanh",
          text="... more accurately than a tanh network trained the same way (paper, Sec. 4.3)",
          experiments=["wave"], judge=judge_wave_vs_tanh, seeds=1, source="paper"),
    Claim(id="sdf-3d-shapes",
          text="fit to an oriented 3-D point cloud with the eikonal loss, SIREN's zero level set recovers the shape "
               "and |grad Phi| = 1 near it (paper, Sec. 4.2)",
          experiments=["sdf-3d"], judge=judge_sdf_3d, seeds=SDF_MIN_SEEDS, source="paper"),
    Claim(id="video-siren-vs-relu-pe",
          text="SIREN represents video with a higher PSNR than ReLU+P.E. (paper, Sec. 4.1)",
          experiments=["video"], judge=judge_video, seeds=1, source="paper"),
]
