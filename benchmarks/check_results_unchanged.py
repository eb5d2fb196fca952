"""Results do not change with the oneDNN linear backend: each paper's tiny-scale claims, fast path on vs off.

For every paper, ``paperlab reproduce <paper> --scale tiny`` runs twice in fresh processes with the same seeds:
once with the backend forced onto every fp32 CPU layer (``PAPERLAB_ONEDNN_MIN_MACS=0``, so even the tiny
networks take it) and once switched off (``PAPERLAB_ONEDNN_LINEAR=0``, torch's default matmul). BEAR's arm
cache is bypassed (``--set reuse_arms=false``), or both runs would read the same cached arms. Compared: the
verdicts, every number under each claim's ``measured`` (rounded by the judges), and every number of every
run's raw ``results.json`` (full precision).

Criterion (fixed before the first run): same verdicts, and every measured number (claims and raw run results)
within a relative difference of 1e-3 (absolute 1e-6 near 0). The two paths differ only in fp32 summation order (~1e-7 per matmul), which a
training run may amplify; the largest difference per paper is reported, so the margin is visible.

    python benchmarks/check_results_unchanged.py --json benchmarks/results/results_unchanged.json [--papers nmf,siren]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PAPERS = ("nmf", "siren", "ssl", "bear", "pearl")
RTOL, ATOL = 1e-3, 1e-6
MODES = {"onednn": {"PAPERLAB_ONEDNN_LINEAR": "1", "PAPERLAB_ONEDNN_MIN_MACS": "0"},
         "plain": {"PAPERLAB_ONEDNN_LINEAR": "0"}}


TIMING_KEYS = ("seconds", "_meta", "time", "per_s")   # wall-clock measurements differ run to run by nature


def numbers(tree, prefix: str = ""):
    """(path, value) for every number in a JSON tree, timings left out."""
    if isinstance(tree, bool) or tree is None or isinstance(tree, str):
        return
    if any(key in prefix.rsplit(".", 1)[-1] for key in TIMING_KEYS) or prefix.startswith("_meta"):
        return
    if isinstance(tree, (int, float)):
        yield prefix, float(tree)
    elif isinstance(tree, dict):
        for key, value in tree.items():
            yield from numbers(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from numbers(value, f"{prefix}[{i}]")


def rel_diff(a: float, b: float) -> float:
    if math.isnan(a) and math.isnan(b) or a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b), ATOL / RTOL)


def compare(on: dict, off: dict) -> dict:
    claims_off = {c["id"]: c for c in off["claims"]}
    rows, worst = [], 0.0
    for claim in on["claims"]:
        other = claims_off[claim["id"]]
        a, b = dict(numbers(claim.get("measured"))), dict(numbers(other.get("measured")))
        diffs = {k: rel_diff(a[k], b[k]) for k in a.keys() & b.keys()}
        key = max(diffs, key=diffs.get) if diffs else None
        worst_claim = diffs[key] if key else 0.0
        worst = max(worst, worst_claim)
        rows.append({"claim": claim["id"], "verdict_onednn": claim["verdict"], "verdict_plain": other["verdict"],
                     "same_verdict": claim["verdict"] == other["verdict"], "numbers": len(diffs),
                     "missing": sorted(a.keys() ^ b.keys()), "max_rel_diff": worst_claim, "worst_number": key,
                     "within_tolerance": worst_claim <= RTOL and not (a.keys() ^ b.keys())})
    return {"claims": rows, "max_rel_diff": worst,
            "ok": all(r["same_verdict"] and r["within_tolerance"] for r in rows)}


def run_results(runs: Path, paper: str) -> dict[str, dict]:
    """Each run's results.json keyed by <paper>/<experiment>/<scale-seedN> (the timestamp dropped)."""
    out = {}
    for path in sorted(runs.glob(f"{paper}/*/*/results.json")):
        run = path.parent
        key = f"{run.parent.parent.name}/{run.parent.name}/{'-'.join(run.name.split('-')[:2])}"
        out[key] = json.loads(path.read_text())
    return out


def compare_runs(on: dict[str, dict], off: dict[str, dict]) -> dict:
    rows = []
    for key in sorted(on.keys() | off.keys()):
        if key not in on or key not in off:
            rows.append({"run": key, "missing": True, "max_rel_diff": math.inf, "worst_number": None, "numbers": 0})
            continue
        a, b = dict(numbers(on[key])), dict(numbers(off[key]))
        diffs = {k: rel_diff(a[k], b[k]) for k in a.keys() & b.keys()}
        worst = max(diffs, key=diffs.get) if diffs else None
        rows.append({"run": key, "numbers": len(diffs), "missing": bool(a.keys() ^ b.keys()),
                     "max_rel_diff": diffs[worst] if worst else 0.0, "worst_number": worst,
                     "median_rel_diff": sorted(diffs.values())[len(diffs) // 2] if diffs else 0.0})
    return {"runs": rows, "max_rel_diff": max((r["max_rel_diff"] for r in rows), default=0.0),
            "ok": all(not r["missing"] and r["max_rel_diff"] <= RTOL for r in rows)}


def reproduce(paper: str, mode: str, workdir: Path) -> dict:
    out = workdir / mode
    env = {**os.environ, **MODES[mode], "OMP_NUM_THREADS": "1"}
    if mode == "plain":
        env.pop("PAPERLAB_ONEDNN_MIN_MACS", None)
    cmd = [sys.executable, "-m", "paperlab.cli", "reproduce", paper, "--scale", "tiny", "--json",
           str(out / f"{paper}.json"), "--out", str(out / "runs"), "--no-report", "--executor", "serial", "--fresh"]
    if paper == "bear":
        cmd += ["--set", "reuse_arms=false"]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({mode}):\n{proc.stderr[-2000:]}")
    return {"claims": json.loads((out / f"{paper}.json").read_text()), "runs": run_results(out / "runs", paper)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", default=None, help="write the comparison here")
    parser.add_argument("--papers", default=",".join(PAPERS))
    args = parser.parse_args()
    papers = [p for p in args.papers.split(",") if p]
    unknown = set(papers) - set(PAPERS)
    if unknown:
        print(f"unknown papers {sorted(unknown)}; valid: {', '.join(PAPERS)}", file=sys.stderr)
        return 2
    report, started = {}, time.time()
    with tempfile.TemporaryDirectory(prefix="paperlab-unchanged-") as tmp:
        for paper in papers:
            t0 = time.time()
            results = {mode: reproduce(paper, mode, Path(tmp)) for mode in MODES}
            claims = compare(results["onednn"]["claims"], results["plain"]["claims"])
            runs = compare_runs(results["onednn"]["runs"], results["plain"]["runs"])
            report[paper] = {**claims, "raw_runs": runs, "ok": claims["ok"] and runs["ok"],
                             "seconds": time.time() - t0}
            status = "OK" if report[paper]["ok"] else "DIFFERENT"
            print(f"{paper:6s} {status}  claims: max rel diff {claims['max_rel_diff']:.2e}; raw results of "
                  f"{len(runs['runs'])} runs: max rel diff {runs['max_rel_diff']:.2e}  ({report[paper]['seconds']:.0f} s)",
                  flush=True)
            for row in runs["runs"]:
                if row["missing"] or row["max_rel_diff"] > RTOL:
                    print(f"    run {row['run']}: max rel diff {row['max_rel_diff']:.2e} at {row['worst_number']}",
                          flush=True)
            for row in report[paper]["claims"]:
                if not (row["same_verdict"] and row["within_tolerance"]):
                    print(f"    {row['claim']}: {row['verdict_onednn']} vs {row['verdict_plain']}, "
                          f"max rel diff {row['max_rel_diff']:.2e} at {row['worst_number']}", flush=True)
    ok = all(r["ok"] for r in report.values())
    if args.json:
        from paperlab.core.benchmark import machine_info
        from paperlab.core.runs import write_json

        write_json(Path(args.json), {"machine": machine_info(), "criterion": f"same verdicts; rel diff <= {RTOL}",
                                     "modes": MODES, "ok": ok, "papers": report, "wall_s": time.time() - started})
        print("wrote", args.json)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
