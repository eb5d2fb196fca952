"""The NMF experiments: each measures what one of the summary's (or the paper's) claims says.

example         the summary's 3×3 ratings matrix, rank-1 NMF vs rank-1 SVD, next to the printed numbers
monotone        objective never increases under the multiplicative updates (Theorems 1 and 2)
gd-equivalence  one multiplicative step = one additive step with the paper's η (Sec. 5); MU vs fixed-step GD
fixed-points    exact factorizations are fixed points; zeros lock; KL H-update preserves column sums of V
parts           digits: NMF components are sparse, additive parts; SVD/PCA components mix signs
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA

from paperlab.core.experiment import Experiment
from paperlab.core.models import save_model
from paperlab.core.constraints import Interval, Options, POSITIVE, Unique, MATRIX_SIDE, size_bound
from paperlab.core.plots import new_figure
from paperlab.core.runs import Run
from paperlab.nmf import updates
from paperlab.nmf.estimator import LOSSES, NMF
from paperlab.nmf.init import INITS, initialize
from paperlab.nmf.matrices import DenseMatrix


# ----------------------------------------------------------------------------------------------------
# example
# ----------------------------------------------------------------------------------------------------

RATINGS = [[5.0, 4.0, 1.0], [4.0, 5.0, 1.0], [2.0, 1.0, 5.0]]
# The summary's printed numbers (as strings: the number of decimals printed matters for the comparison).
PRINTED = {
    "svd_W": ["-0.656", "-0.652", "-0.379"],
    "svd_H": ["-6.48", "-6.26", "-3.20"],
    "nmf_W": ["0.388", "0.386", "0.224"],
    "nmf_H": ["11.22", "10.57", "5.41"],
    "WH": [["4.36", "4.11", "2.10"], ["4.33", "4.08", "2.09"], ["2.52", "2.37", "1.21"]],
}


@dataclass
class ExampleConfig:
    """Rank-1 factorizations of the summary's ratings matrix (the summary prints r = 1, Frobenius-style numbers)."""
    _constraints = {"max_iter": Interval(1), "init": Options(*INITS)}
    max_iter: int = 5000        # multiplicative updates from a random start (rank 1 converges fast)
    init: str = "random"        # the paper starts from random matrices


def compare_printed(printed: str, computed: float) -> str:
    """'agrees' (equal after rounding to the printed decimals), 'last digit' (|diff| < one unit in the last
    printed digit, e.g. truncated instead of rounded) or 'differs'."""
    decimals = len(printed.split(".")[1]) if "." in printed else 0
    diff = abs(float(printed) - computed)
    if float(printed) == round(computed, decimals) or diff <= 0.5 * 10**-decimals + 1e-12:
        return "agrees"
    return "last digit" if diff < 10**-decimals else "differs"


def example(run: Run, cfg: ExampleConfig) -> dict:
    V = np.array(RATINGS)
    U, S, Vt = np.linalg.svd(V)
    u, sv = U[:, 0], S[0] * Vt[0]
    if np.sign(u[0]) != np.sign(float(PRINTED["svd_W"][0])):   # singular vectors are defined up to sign
        u, sv = -u, -sv
    svd_error = float(np.linalg.norm(V - np.outer(u, sv)))

    model = NMF(1, loss="frobenius", init=cfg.init, max_iter=cfg.max_iter, tol=0.0, random_state=run.seed)
    W = model.fit_transform(V)
    H = model.components_
    scale = W.sum()                                  # the summary prints W normalised to sum 1
    nmf_W, nmf_H = W[:, 0] / scale, H[0] * scale
    nmf_error = float(np.linalg.norm(V - W @ H))
    for it, value in zip(model.loss_history_iterations_, model.loss_history_):
        if it % 50 == 0 or it == model.n_iter_:
            run.log(iteration=int(it), nmf_objective=float(value))

    # KL rank-1 NMF for reference: its optimum is W ∝ row sums, H ∝ column sums (not what the summary prints)
    kl = NMF(1, loss="kl", init=cfg.init, max_iter=cfg.max_iter, tol=0.0, random_state=run.seed)
    W_kl = kl.fit_transform(V)
    kl_scale = W_kl.sum()

    computed = {"svd_W": u, "svd_H": sv, "nmf_W": nmf_W, "nmf_H": nmf_H, "WH": W @ H}
    comparison = []
    for key, printed in PRINTED.items():
        values = np.asarray(computed[key])
        for index, text in np.ndenumerate(np.asarray(printed)):
            comparison.append({"number": f"{key}{list(index)}", "printed": str(text), "computed": float(values[index]),
                               "status": compare_printed(str(text), float(values[index]))})

    fig, axes = new_figure(1, 3, size=(11, 3.2))
    for ax, (title, M) in zip(axes[0], [("V", V), ("rank-1 SVD  σ₁u₁v₁ᵀ", np.outer(u, sv)), ("rank-1 NMF  WH", W @ H)]):
        ax.imshow(M, cmap="viridis", vmin=0, vmax=5)
        for (i, j), x in np.ndenumerate(M):
            ax.text(j, i, f"{x:.2f}", ha="center", va="center", color="w")
        ax.set_title(title)
        ax.set_xticks([]), ax.set_yticks([])
    run.save_figure(fig, "example_reconstructions")

    return {
        "svd": {"W": u.tolist(), "H": sv.tolist(), "singular_values": S.tolist(), "error": svd_error},
        "nmf": {"W_sum1": nmf_W.tolist(), "H": nmf_H.tolist(), "error": nmf_error, "n_iter": int(model.n_iter_),
                "WH": (W @ H).tolist()},
        "nmf_kl": {"W_sum1": (W_kl[:, 0] / kl_scale).tolist(), "H": (kl.components_[0] * kl_scale).tolist(),
                   "frobenius_error": float(np.linalg.norm(V - W_kl @ kl.components_))},
        "error_relative_difference": abs(nmf_error - svd_error) / svd_error,
        # the errors the summary's own (rounded) printed factors give
        "printed_factors_error": {
            key: float(np.linalg.norm(V - np.outer(np.asarray(PRINTED[f"{key}_W"], float), np.asarray(PRINTED[f"{key}_H"], float))))
            for key in ("svd", "nmf")},
        "printed_comparison": comparison,
    }


# ----------------------------------------------------------------------------------------------------
# monotone
# ----------------------------------------------------------------------------------------------------

@dataclass
class MonotoneConfig:
    """Random nonnegative matrices of random shape, rank and density; exact objective after every half-step."""
    _constraints = {"n_matrices": size_bound(100_000, "each matrix is factorised on its own"), "max_side": Interval(2, 10_000, why=MATRIX_SIDE.why), "n_iter": Interval(1),
                    "losses": [Options(*LOSSES), Unique()]}
    n_matrices: int = 200       # increases are measured relative to each run's initial objective
    max_side: int = 80          # each matrix is m × n with m, n drawn from 2..max_side
    n_iter: int = 500           # MU iterations per matrix (two half-steps each)
    losses: tuple[str, ...] = ("frobenius", "kl")   # objectives checked, each with its own random stream


def monotone(run: Run, cfg: MonotoneConfig) -> dict:
    def measure(loss: str) -> dict:
        rng = np.random.default_rng([run.seed, cfg.losses.index(loss)])   # own stream: resumable per loss
        update_W, update_H = updates.MU_RULES[loss]
        worst_abs, worst_rel, increases, steps = 0.0, 0.0, 0, 0
        for index in run.progress(range(cfg.n_matrices), desc=loss):
            m, n = rng.integers(2, cfg.max_side + 1, size=2)
            r = int(rng.integers(1, min(m, n) + 1))
            density = rng.uniform(0.2, 1.0)
            V_dense = rng.random((m, n)) * (rng.random((m, n)) < density)
            if not V_dense.any():
                V_dense[0, 0] = 1.0
            V = DenseMatrix(V_dense)
            W, H = initialize(V_dense, r, "random", int(rng.integers(2**31 - 1)), "float64")
            previous = initial = updates.objective(V, W, H, loss)
            for _ in range(cfg.n_iter):
                for half in ("W", "H"):
                    if half == "W":
                        W = update_W(V, W, H)
                    else:
                        H = update_H(V, W, H)
                    current = updates.objective(V, W, H, loss)
                    increase = current - previous
                    steps += 1
                    if increase > 0:
                        increases += 1
                        worst_abs = max(worst_abs, increase)
                        worst_rel = max(worst_rel, increase / initial)   # relative to the problem's scale
                    previous = current
            run.log(loss=loss, matrix=index, m=int(m), n=int(n), rank=r, final_objective=previous)
        return {"largest_increase": worst_abs, "largest_relative_increase": worst_rel,
                "half_steps_with_increase": increases, "half_steps": steps, "matrices": cfg.n_matrices}

    # each loss is a piece with its own random stream: --resume skips the finished ones
    return {loss: run.piece(loss, lambda: measure(loss)) for loss in cfg.losses}


# ----------------------------------------------------------------------------------------------------
# gd-equivalence
# ----------------------------------------------------------------------------------------------------

@dataclass
class GdEquivalenceConfig:
    """Part 1: MU step vs additive step with the paper's η on random matrices.  Part 2: MU vs fixed-step
    projected gradient descent on one low-rank-plus-noise matrix (objective vs iteration and vs time)."""
    _constraints = {"n_matrices": size_bound(100_000, "each matrix is factorised on its own"), "m": MATRIX_SIDE, "n": MATRIX_SIDE, "n_iter": Interval(1),
                    "rank": Interval(1, lambda c: min(c.m, c.n)), "step_scales": POSITIVE}
    n_matrices: int = 50        # part 1: random matrices per loss (one MU step vs one additive step on each)
    m: int = 300                # part 2: rows of the low-rank-plus-noise matrix
    n: int = 200                # part 2: columns
    rank: int = 10              # part 2: rank of its signal and of the factorization
    n_iter: int = 500           # part 2: iterations of MU and of each fixed-step GD run
    # fixed step = step_scale × the median of the paper's η at the initial point (per factor)
    step_scales: tuple[float, ...] = (0.1, 1.0)


def _median_paper_eta(V, W, H, loss: str) -> tuple[float, float]:
    if loss == "frobenius":
        return float(np.median(W / (W @ (H @ H.T)))), float(np.median(H / ((W.T @ W) @ H)))
    return float(np.median(W / H.sum(1)[None, :])), float(np.median(H / W.sum(0)[:, None]))


def gd_equivalence(run: Run, cfg: GdEquivalenceConfig) -> dict:
    rng = np.random.default_rng(run.seed)
    out: dict = {"equivalence": {}, "descent": {}}
    for loss in ("frobenius", "kl"):
        mu_W, mu_H = updates.MU_RULES[loss]
        gd_W, gd_H = updates.GD_RULES[loss]
        worst = 0.0
        for _ in range(cfg.n_matrices):
            m, n = rng.integers(2, 60, size=2)
            r = int(rng.integers(1, min(m, n) + 1))
            V_dense = rng.random((m, n))
            V = DenseMatrix(V_dense)
            W, H = initialize(V_dense, r, "random", int(rng.integers(2**31 - 1)), "float64")
            for a, b in ((mu_W(V, W, H), gd_W(V, W, H)), (mu_H(V, W, H), gd_H(V, W, H))):
                worst = max(worst, float(np.max(np.abs(a - b)) / np.max(np.abs(a))))
        out["equivalence"][loss] = {"max_relative_difference": worst, "matrices": cfg.n_matrices}

    signal = rng.random((cfg.m, cfg.rank)) @ rng.random((cfg.rank, cfg.n))
    V_dense = signal + 0.1 * rng.random((cfg.m, cfg.n))
    V = DenseMatrix(V_dense)
    W0, H0 = initialize(V_dense, cfg.rank, "random", run.seed, "float64")
    fig, axes = new_figure(2, 2, size=(10, 7))
    for row, loss in enumerate(("frobenius", "kl")):
        eta_W, eta_H = _median_paper_eta(V, W0, H0, loss)
        arms = {"MU (paper's η)": (updates.MU_RULES[loss], {}, {})}
        for s in cfg.step_scales:
            arms[f"fixed-step GD ({s:g}× median η₀)"] = (updates.GD_RULES[loss], {"learning_rate": s * eta_W},
                                                          {"learning_rate": s * eta_H})
        curves = {}
        for name, ((rule_W, rule_H), kw_W, kw_H) in arms.items():
            W, H = W0.copy(), H0.copy()
            objective, seconds, elapsed = [updates.objective(V, W, H, loss)], [0.0], 0.0
            for _ in range(cfg.n_iter):
                start = time.perf_counter()
                with np.errstate(all="ignore"):   # a too-large fixed step may diverge: that is measured, not an error
                    W = rule_W(V, W, H, **kw_W)
                    H = rule_H(V, W, H, **kw_H)
                    elapsed += time.perf_counter() - start
                    objective.append(updates.objective(V, W, H, loss))
                seconds.append(elapsed)
            curves[name] = {"objective": objective, "seconds": seconds}
            axes[row][0].semilogy(objective, label=name)
            axes[row][1].semilogy(seconds, objective, label=name)
            run.log(loss=loss, arm=name, final_objective=objective[-1], seconds=elapsed)
        for col, xlabel in enumerate(("iteration", "seconds")):
            axes[row][col].set_xlabel(xlabel)
            axes[row][col].set_ylabel("‖V−WH‖²" if loss == "frobenius" else "D(V‖WH)")
            axes[row][col].set_title(f"{loss}: objective vs {xlabel}")
        axes[row][0].legend(fontsize=7)
        out["descent"][loss] = {name: {"final_objective": c["objective"][-1], "seconds": c["seconds"][-1],
                                       "objective_at": {str(i): c["objective"][i] for i in (10, 50, 100, cfg.n_iter)
                                                        if i <= cfg.n_iter}}
                                for name, c in curves.items()}
    fig.tight_layout()
    run.save_figure(fig, "mu_vs_fixed_step_gd")
    return out


# ----------------------------------------------------------------------------------------------------
# fixed-points
# ----------------------------------------------------------------------------------------------------

@dataclass
class FixedPointsConfig:
    _constraints = {"m": MATRIX_SIDE, "n": MATRIX_SIDE, "rank": Interval(1, lambda c: min(c.m, c.n)),
                    "n_iter": Interval(1), "floor": Interval(0, 1, closed="left"), "n_matrices": size_bound(100_000, "each matrix is factorised on its own")}
    m: int = 60                 # rows of the test matrices
    n: int = 40                 # columns
    rank: int = 6               # rank of the exact factorizations and of every fit
    n_iter: int = 2000          # iterations of the zero-locking runs
    floor: float = 1e-10        # epsilon floor W, H ← max(W, H, floor) after every update (Lin 2007 style)
    n_matrices: int = 20        # random matrices for the exact-factorization and column-sum checks


def _relative_change(a, b) -> float:
    return float(np.max(np.abs(a - b)) / np.max(np.abs(a)))


def fixed_points(run: Run, cfg: FixedPointsConfig) -> dict:
    rng = np.random.default_rng(run.seed)
    out: dict = {}

    # (1) an exact factorization V = W*H* is left unchanged by every update
    exact = {}
    for loss in ("frobenius", "kl"):
        mu_W, mu_H = updates.MU_RULES[loss]
        worst = 0.0
        for _ in range(cfg.n_matrices):
            W_star, H_star = rng.random((cfg.m, cfg.rank)) + 0.1, rng.random((cfg.rank, cfg.n)) + 0.1
            V = DenseMatrix(W_star @ H_star)
            worst = max(worst, _relative_change(W_star, mu_W(V, W_star, H_star)),
                        _relative_change(H_star, mu_H(V, W_star, H_star)))
        exact[loss] = worst
    out["exact_factorization_max_relative_change"] = exact

    # (2) zero-locking: a zero entry of W or H stays zero under the multiplicative rule whatever its gradient
    V_dense = rng.random((cfg.m, cfg.n))
    V = DenseMatrix(V_dense)
    W_svd, H_svd = initialize(V_dense, cfg.rank, "nndsvd", run.seed, "float64")
    W_a, H_a = initialize(V_dense, cfg.rank, "nndsvda", run.seed, "float64")
    zero_W, zero_H = W_svd == 0, H_svd == 0
    variants = {"nndsvd": (W_svd, H_svd, 0.0), "nndsvda": (W_a, H_a, 0.0), f"nndsvd + floor {cfg.floor:g}": (W_svd, H_svd, cfg.floor)}

    def zero_locking(name: str, W: np.ndarray, H: np.ndarray, floor: float) -> dict:
        W, H = W.copy(), H.copy()
        history = []
        for it in range(cfg.n_iter):
            W = updates.mu_frobenius_W(V, W, H)
            if floor:
                W = np.maximum(W, floor)
            H = updates.mu_frobenius_H(V, W, H)
            if floor:
                H = np.maximum(H, floor)
            if it % 100 == 0 or it == cfg.n_iter - 1:
                history.append(updates.frobenius_objective(V, W, H))
                run.log(variant=name, iteration=it, objective=history[-1])
        # KKT at the limit: at an entry equal to 0 the gradient must be >= 0 (else increasing it lowers F)
        grad_W = 2 * (W @ (H @ H.T) - V_dense @ H.T)
        grad_H = 2 * ((W.T @ W) @ H - W.T @ V_dense)
        at_init_zeros = np.concatenate([W[zero_W], H[zero_H]])
        grads_at_zeros = np.concatenate([grad_W[zero_W], grad_H[zero_H]])
        locked = at_init_zeros == 0
        return {
            "initial_zeros": int(zero_W.sum() + zero_H.sum()),
            "still_zero": int(locked.sum()),
            "final_objective": history[-1],
            "most_negative_gradient_at_locked_zeros": float(grads_at_zeros[locked].min()) if locked.any() else 0.0,
            "last_change_of_objective": float(history[-2] - history[-1]) if len(history) > 1 else 0.0,
        }

    locking = {name: run.piece(f"locking {name}", lambda: zero_locking(name, *variant))
               for name, variant in variants.items()}
    out["zero_locking"] = locking
    out["gradient_scale"] = float(np.abs(2 * V_dense @ H_a.T).max())

    # (3) after a KL H-update the column sums of WH equal those of V (after a W-update: the row sums)
    worst_cols, worst_rows = 0.0, 0.0
    for _ in range(cfg.n_matrices):
        V_dense = rng.random((cfg.m, cfg.n)) * (rng.random((cfg.m, cfg.n)) < 0.7)
        V = DenseMatrix(V_dense)
        W, H = initialize(V_dense, cfg.rank, "random", int(rng.integers(2**31 - 1)), "float64")
        H = updates.mu_kl_H(V, W, H)
        worst_cols = max(worst_cols, float(np.max(np.abs((W @ H).sum(0) - V_dense.sum(0)) / V_dense.sum(0).clip(1e-300))))
        W = updates.mu_kl_W(V, W, H)
        worst_rows = max(worst_rows, float(np.max(np.abs((W @ H).sum(1) - V_dense.sum(1)) / V_dense.sum(1).clip(1e-300))))
    out["kl_sums"] = {"column_sums_max_relative_difference_after_H_update": worst_cols,
                      "row_sums_max_relative_difference_after_W_update": worst_rows}

    fig, ax = new_figure(1, 1, size=(6, 4))
    names = list(locking)
    ax.bar(names, [locking[n]["final_objective"] for n in names], color=["tab:red", "tab:green", "tab:blue"])
    for i, n in enumerate(names):
        ax.text(i, locking[n]["final_objective"], f"{locking[n]['still_zero']}/{locking[n]['initial_zeros']} zeros locked",
                ha="center", va="bottom", fontsize=8)
    ax.set_ylabel(f"‖V−WH‖² after {cfg.n_iter} MU iterations")
    ax.set_title("zero-locking of multiplicative updates")
    run.save_figure(fig, "zero_locking")
    return out


# ----------------------------------------------------------------------------------------------------
# parts
# ----------------------------------------------------------------------------------------------------

@dataclass
class PartsConfig:
    """scikit-learn's bundled digits (1797 images of 8×8); the rank is our choice (the summary gives none)."""
    _constraints = {"n_components": Interval(1, 64), "max_iter": Interval(1), "loss": Options(*LOSSES),
                    "init": Options(*INITS)}
    n_components: int = 16      # rank r of NMF, PCA and the SVD
    max_iter: int = 500         # NMF iterations (tol = 0: all of them run)
    loss: str = "frobenius"     # NMF objective: frobenius | kl
    init: str = "random"        # NMF initialisation (paperlab.nmf.NMF's init)


def hoyer_sparsity(x: np.ndarray) -> float:
    """Hoyer (2004): (√n − ‖x‖₁/‖x‖₂)/(√n − 1), 0 for a flat vector, 1 for a single nonzero."""
    n = x.size
    return float((np.sqrt(n) - np.abs(x).sum() / np.linalg.norm(x)) / (np.sqrt(n) - 1))


def negative_mass(components: np.ndarray) -> float:
    """Σ|negative entries| / Σ|entries|."""
    return float(np.abs(np.minimum(components, 0)).sum() / np.abs(components).sum())


def parts(run: Run, cfg: PartsConfig) -> dict:
    X = load_digits().data                       # (1797, 64), values 0..16
    model = NMF(cfg.n_components, loss=cfg.loss, init=cfg.init, max_iter=cfg.max_iter, tol=0.0,
                random_state=run.seed)
    W = model.fit_transform(X)
    nmf_components = model.components_
    save_model(run, "nmf", "nmf", model.get_params(), {"components": torch.as_tensor(nmf_components)}, default=True)
    pca = PCA(cfg.n_components, random_state=run.seed).fit(X)
    _, S, Vt = np.linalg.svd(X, full_matrices=False)     # uncentred SVD: the unconstrained rank-r optimum
    svd_components = Vt[: cfg.n_components]
    svd_error = float(np.sqrt((S[cfg.n_components:] ** 2).sum()))
    nmf_error = float(np.linalg.norm(X - W @ nmf_components))

    sets = {"NMF": nmf_components, "PCA": pca.components_, "SVD": svd_components}
    metrics = {name: {"hoyer_mean": float(np.mean([hoyer_sparsity(c) for c in comps])),
                      "negative_mass": negative_mass(comps)} for name, comps in sets.items()}
    for name, m in metrics.items():
        run.log(method=name, **m)

    fig, axes = new_figure(3, cfg.n_components, size=(1.1 * cfg.n_components, 4.2))
    for row, (name, comps) in enumerate(sets.items()):
        for col in range(cfg.n_components):
            ax = axes[row][col]
            c = comps[col].reshape(8, 8)
            limit = np.abs(c).max()
            ax.imshow(c, cmap="RdBu_r", vmin=-limit, vmax=limit)   # red > 0, blue < 0
            ax.set_xticks([]), ax.set_yticks([])
            if col == 0:
                ax.set_ylabel(f"{name}\nHoyer {metrics[name]['hoyer_mean']:.2f}\nneg {metrics[name]['negative_mass']:.2f}",
                              fontsize=7)
    fig.suptitle("digits components (red positive, blue negative)")
    run.save_figure(fig, "components_nmf_pca_svd")
    return {"metrics": metrics, "nmf_error": nmf_error, "svd_error": svd_error,
            "error_ratio_nmf_over_svd": nmf_error / svd_error, "n_iter": int(model.n_iter_)}


# ----------------------------------------------------------------------------------------------------
# experiments and their scales
# ----------------------------------------------------------------------------------------------------
EXAMPLE = Experiment(
    name="example", description="the summary's 3x3 ratings matrix: rank-1 NMF vs rank-1 SVD and the printed numbers",
    config=ExampleConfig, run=example,
    scales={"tiny": {"max_iter": 300}, "quick": {}, "small": {}, "paper": {}},
)
MONOTONE = Experiment(
    name="monotone", description="objective never increases under the multiplicative updates (Theorems 1-2)",
    config=MonotoneConfig, run=monotone,
    scales={"tiny": {"n_matrices": 3, "n_iter": 20, "max_side": 12}, "quick": {"n_matrices": 40, "n_iter": 150, "max_side": 40},
            "small": {"n_matrices": 200, "n_iter": 300}, "paper": {}},
)
GD_EQUIVALENCE = Experiment(
    name="gd-equivalence", description="MU step == additive step with eta = H/(W^T W H); MU vs fixed-step GD",
    config=GdEquivalenceConfig, run=gd_equivalence,
    scales={"tiny": {"n_matrices": 3, "m": 30, "n": 20, "rank": 3, "n_iter": 20},
            "quick": {"n_matrices": 20, "n_iter": 300}, "small": {}, "paper": {"n_iter": 2000}},
)
FIXED_POINTS = Experiment(
    name="fixed-points", description="exact factorizations are fixed points; zeros lock; KL preserves column sums",
    config=FixedPointsConfig, run=fixed_points,
    scales={"tiny": {"m": 15, "n": 12, "rank": 3, "n_iter": 50, "n_matrices": 3}, "quick": {"n_iter": 1000},
            "small": {}, "paper": {"n_iter": 10000}},
)
PARTS = Experiment(
    name="parts", description="digits: NMF components are sparse additive parts, SVD/PCA components mix signs",
    config=PartsConfig, run=parts,
    scales={"tiny": {"max_iter": 20, "n_components": 4}, "quick": {"max_iter": 300}, "small": {}, "paper": {"max_iter": 2000}},
)
