"""Lee & Seung (NIPS 2000): the judges and the `CLAIMS` list."""

from __future__ import annotations

from paperlab.core.claims import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, Claim, Verdict, compare_samples, summarize, verdict_if


def judge_same_error(results: dict[str, list[dict]]) -> Verdict:
    r = results["example"][0]
    diff = r["error_relative_difference"]
    measured = {"svd_error": r["svd"]["error"], "nmf_error": r["nmf"]["error"], "relative_difference": diff,
                "nmf_iterations": r["nmf"]["n_iter"], "error_of_printed_svd_factors": r["printed_factors_error"]["svd"],
                "error_of_printed_nmf_factors": r["printed_factors_error"]["nmf"]}
    note = ("Exact in the limit: V is nonnegative, so by Perron-Frobenius its leading singular vectors are "
            "nonnegative and the best rank-1 approximation (Eckart-Young) is itself a nonnegative factorization, "
            "which rank-1 NMF converges to. The summary's printed factors, as rounded, give slightly different errors "
            "(its SVD H has -6.48 where the SVD gives -6.65).")
    return verdict_if(diff < 1e-6, measured, "|err_NMF - err_SVD| / err_SVD < 1e-6", note)


def judge_printed_numbers(results: dict[str, list[dict]]) -> Verdict:
    rows = results["example"][0]["printed_comparison"]
    counts = {status: sum(r["status"] == status for r in rows) for status in ("agrees", "last digit", "differs")}
    off = [f"{r['number']} printed {r['printed']} computed {r['computed']:.4f}" for r in rows if r["status"] != "agrees"]
    measured = {**counts, "flagged": off}
    if counts["differs"]:
        verdict = NOT_REPRODUCED
    elif counts["last digit"]:
        verdict = INCONCLUSIVE
    else:
        verdict = REPRODUCED
    note = ("'last digit': within one unit of the last printed digit (the summary truncates rather than rounds); "
            "'differs': further off than that.")
    return Verdict(verdict, measured, "every printed number equals the computed one rounded to its printed decimals", note)


def judge_monotone(results: dict[str, list[dict]]) -> Verdict:
    runs = results["monotone"]
    measured = {}
    worst = 0.0
    steps = {loss: sum(r.get(loss, {}).get("half_steps", 0) for r in runs) for loss in ("frobenius", "kl")}
    if not all(steps.values()):
        return Verdict(INCONCLUSIVE, {"half_steps": steps}, "largest increase / initial objective <= 1e-12",
                       "no half-steps measured for some loss: nothing to judge monotonicity from")
    for loss in ("frobenius", "kl"):
        rel = max(r[loss]["largest_relative_increase"] for r in runs)
        measured[loss] = {"largest_relative_increase": rel,
                          "half_steps_with_increase": sum(r[loss]["half_steps_with_increase"] for r in runs),
                          "half_steps": sum(r[loss]["half_steps"] for r in runs)}
        worst = max(worst, rel)
    note = ("Increase of the exactly computed objective after any half-step (W- or H-update), relative to that "
            "run's initial objective; values near 1e-16 are floating-point rounding.")
    return verdict_if(worst <= 1e-12, measured, "largest increase / initial objective <= 1e-12", note)


def judge_gd_equivalence(results: dict[str, list[dict]]) -> Verdict:
    r = results["gd-equivalence"][0]
    worst = max(v["max_relative_difference"] for v in r["equivalence"].values())
    measured = {loss: v["max_relative_difference"] for loss, v in r["equivalence"].items()}
    measured["final_objective_mu_vs_fixed_step_gd"] = {
        loss: {arm: v["final_objective"] for arm, v in arms.items()} for loss, arms in r["descent"].items()}
    return verdict_if(worst <= 1e-12, measured, "max |MU step - additive step with paper's eta| / max|MU step| <= 1e-12")


def judge_fixed_point_iff_stationary(results: dict[str, list[dict]]) -> Verdict:
    r = results["fixed-points"][0]
    exact = max(r["exact_factorization_max_relative_change"].values())
    locked = r["zero_locking"]["nndsvd"]
    # a non-stationary fixed point: entries stuck at 0 where the gradient is negative (KKT violated)
    violation = -locked["most_negative_gradient_at_locked_zeros"] / r["gradient_scale"]
    measured = {"exact_factorization_max_relative_change": exact, "nndsvd_locked_zeros": locked["still_zero"],
                "nndsvd_initial_zeros": locked["initial_zeros"], "kkt_violation_at_locked_zeros_relative": violation}
    if exact > 1e-12:
        return Verdict(NOT_REPRODUCED, measured, "exact factorization unchanged to 1e-12", "an exact factorization moved")
    if locked["still_zero"] > 0 and violation > 1e-6:
        return Verdict(NOT_REPRODUCED, measured, "no fixed point with negative gradient at a zero entry (KKT)",
                       "The 'if' direction holds (exact factorizations are fixed points), the 'only if' does not: "
                       "zeros of W or H never move under the multiplicative rule, so a point with a zero entry whose "
                       "gradient is negative is a fixed point that is not stationary (Lin 2007).")
    return Verdict(REPRODUCED, measured, "exact factorization unchanged to 1e-12 and no non-stationary fixed point found")


def judge_zero_locking_avoided(results: dict[str, list[dict]]) -> Verdict:
    locking = results["fixed-points"][0]["zero_locking"]
    names = list(locking)
    plain, alternatives = locking[names[0]], {n: locking[n] for n in names[1:]}
    measured = {n: {"still_zero": v["still_zero"], "initial_zeros": v["initial_zeros"],
                    "final_objective": v["final_objective"]} for n, v in locking.items()}
    ok = plain["still_zero"] == plain["initial_zeros"] > 0 and all(
        v["still_zero"] == 0 and v["final_objective"] < plain["final_objective"] for v in alternatives.values())
    return verdict_if(ok, measured, "nndsvd zeros all stay zero; with nndsvda / an epsilon floor none do and the objective ends lower")


def judge_kl_sums(results: dict[str, list[dict]]) -> Verdict:
    sums = results["fixed-points"][0]["kl_sums"]
    return verdict_if(max(sums.values()) <= 1e-12, sums, "max relative difference of the sums <= 1e-12")


def judge_parts(results: dict[str, list[dict]]) -> Verdict:
    runs = results["parts"]
    hoyer = {m: [r["metrics"][m]["hoyer_mean"] for r in runs] for m in ("NMF", "PCA", "SVD")}
    neg = {m: [r["metrics"][m]["negative_mass"] for r in runs] for m in ("NMF", "PCA", "SVD")}
    measured = {f"hoyer_{m}": summarize(v) for m, v in hoyer.items()}
    measured |= {f"negative_mass_{m}": summarize(v) for m, v in neg.items()}
    measured["error_ratio_nmf_over_svd"] = summarize([r["error_ratio_nmf_over_svd"] for r in runs])
    sparser = all(compare_samples(hoyer["NMF"], hoyer[m]) == "better" for m in ("PCA", "SVD"))
    signs = max(neg["NMF"]) == 0.0 and min(min(neg["PCA"]), min(neg["SVD"])) > 0.2
    threshold = "NMF Hoyer sparsity interval above PCA's and SVD's; NMF negative mass 0; PCA/SVD negative mass > 0.2"
    if len(runs) < 2 and sparser is False:
        return Verdict(INCONCLUSIVE, measured, threshold, "one seed only")
    return verdict_if(sparser and signs, measured, threshold)


SUMMARY_SENTENCE_MU = ("The paper discusses a multiplicative update rule where the elements of W and H are iteratively "
                       "transformed by scaling each value such that error is not increased.")


CLAIMS = [
    Claim(id="example-same-error",
          text="Both of these r=1 factorizations reconstruct matrix V with the same error.",
          experiments=["example"], judge=judge_same_error),
    Claim(id="example-printed-numbers",
          text="SVD: W = [-0.656, -0.652, -0.379], H = [-6.48, -6.26, -3.20]; NMF: W = [0.388, 0.386, 0.224], "
               "H = [11.22, 10.57, 5.41]; V ≈ WH = [[4.36, 4.11, 2.10], [4.33, 4.08, 2.09], [2.52, 2.37, 1.21]]",
          experiments=["example"], judge=judge_printed_numbers),
    Claim(id="mu-monotone", text=SUMMARY_SENTENCE_MU + " (Theorems 1 and 2: ‖V−WH‖ and D(V‖WH) are nonincreasing.)",
          experiments=["monotone"], judge=judge_monotone),
    Claim(id="mu-is-rescaled-gd",
          text="The multiplicative approach can be reduced to this by setting the learning rate (η) to a ratio that "
               "represents the magnitude of the element in H to the scaling factor of W on H.",
          experiments=["gd-equivalence"], judge=judge_gd_equivalence),
    Claim(id="fixed-point-iff-stationary",
          text="The Euclidean distance (divergence) is invariant under these updates if and only if W and H are at "
               "a stationary point of the distance (divergence).",
          experiments=["fixed-points"], judge=judge_fixed_point_iff_stationary, source="paper, Theorems 1-2"),
    Claim(id="zero-locking-avoided",
          text="A zero entry of W or H stays zero under multiplicative updates; nndsvda or an epsilon floor avoids it.",
          experiments=["fixed-points"], judge=judge_zero_locking_avoided, source="issue (known weakness, Lin 2007)"),
    Claim(id="kl-preserves-sums",
          text="After a KL H-update the column sums of WH equal those of V (row sums after a W-update).",
          experiments=["fixed-points"], judge=judge_kl_sums, source="derived from Theorem 2's update"),
    Claim(id="nonnegativity-gives-parts",
          text="If they both yield the same reconstruction error then why is a non-negativity constraint useful? "
               "(tested: NMF components are sparse, additive parts; SVD/PCA components mix signs)",
          experiments=["parts"], judge=judge_parts, seeds=3),
]
