"""The floor of BEAR's sampled MMD for identical distributions, at the authors' settings.

Both sample sets (5 each, as ``num_samples_match``) are drawn from the same ``N(0, s^2 I)`` in ``d`` dimensions;
the laplacian kernel has sigma 10 (Hopper/HalfCheetah). Measured: Monte-Carlo mean of ``MMD^2`` and of the MMD
itself (what is compared with eps = 0.05, ``sqrt(MMD^2 + 1e-6)``) over 20 000 states, beside the closed form
``(2/n)(1 - E k)`` and issue 13's small-spread arithmetic ``0.0226 s d``.

    python benchmarks/bear_mmd_floor.py --json results/bear/mmd-floor.json
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from paperlab.rl.bear.divergences import identical_mmd2_floor, mmd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--states", type=int, default=20_000)
    args = parser.parse_args()
    torch.manual_seed(0)
    rows = []
    for dim, env in ((3, "Hopper"), (6, "HalfCheetah")):
        for spread in (0.01, 0.02, 0.05, 0.1, 0.3, 1.0):
            x = spread * torch.randn(args.states, 5, dim, dtype=torch.float64)
            y = spread * torch.randn(args.states, 5, dim, dtype=torch.float64)
            value = mmd(x, y, "laplacian", 10.0)
            rows.append({"env": env, "action_dim": dim, "spread": spread,
                         "mmd2_measured": float((value ** 2 - 1e-6).mean()),
                         "mmd2_closed_form": identical_mmd2_floor(spread, dim, 5, "laplacian", 10.0),
                         "mmd2_issue_arithmetic": 0.0226 * spread * dim,
                         "mmd_measured": float(value.mean()),
                         "fraction_below_eps": float((value <= 0.05).double().mean())})
    for r in rows:
        print(f"{r['env']:12s} d={r['action_dim']} s={r['spread']:<5g} E[MMD^2] measured {r['mmd2_measured']:.5f} "
              f"closed form {r['mmd2_closed_form']:.5f} 0.0226sd {r['mmd2_issue_arithmetic']:.5f} | "
              f"E[MMD] {r['mmd_measured']:.4f} (eps 0.05), P(MMD<=eps) {r['fraction_below_eps']:.3f}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"settings": {"n_samples": 5, "kernel": "laplacian", "sigma": 10.0,
                                                      "epsilon": 0.05, "states": args.states},
                                         "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
