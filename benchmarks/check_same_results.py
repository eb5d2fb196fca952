"""Same seed, same results: every experiment of every paper at tiny scale, before and after a code change.

Runs ``paperlab run <paper> <experiment> --scale tiny --seed 0`` for every experiment the older code registers,
once with the code of a git ref (``--before``, checked out into a temporary worktree) and once with the working
tree, each in a fresh process with one torch thread, and compares every run's ``results.json``.

Criterion (fixed before the first comparison): the two ``results.json`` are identical once wall-clock
measurements are left out (keys naming seconds or times, and ``_meta``) — every other number equal to the last
bit, every string and list the same. Made for refactors that must not change any result (issue 15).

    python benchmarks/check_same_results.py --before ffd0c2a [--papers nmf,siren] [--json out.json]
    python benchmarks/check_same_results.py --before-runs DIR   # reuse runs made earlier by --keep DIR
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAPERS = ("nmf", "siren", "ssl", "bear", "pearl")
# wall-clock measurements differ run to run by nature; everything else must be identical
TIMING_MARKERS = ("seconds", "time", "per_s", "_meta", "finished", "started")
# BEAR's arm and dataset caches would let the second run read what the first wrote
EXTRA_SETTINGS = {"bear": ["--set", "reuse_arms=false"]}


def comparable(tree, root: str):
    """The JSON tree without wall-clock entries, and with the side's own folder (paths of the files it wrote)
    spelled ``<root>``."""
    if isinstance(tree, dict):
        return {k: comparable(v, root) for k, v in tree.items() if not any(m in k for m in TIMING_MARKERS)}
    if isinstance(tree, list):
        return [comparable(v, root) for v in tree]
    return tree.replace(root, "<root>") if isinstance(tree, str) else tree


def differences(a, b, path: str = "") -> list[str]:
    """Where two JSON trees differ (exact comparison; NaN equals NaN)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = [f"{path}.{k}: only in {'before' if k in a else 'after'}" for k in sorted(a.keys() ^ b.keys())]
        for key in sorted(a.keys() & b.keys()):
            out += differences(a[key], b[key], f"{path}.{key}")
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} vs {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return []
    return [] if a == b and type(a) is type(b) else [f"{path}: {a!r} vs {b!r}"]


def experiments(src: Path, papers: list[str]) -> list[tuple[str, str]]:
    """(paper, experiment) for every experiment registered by the code under ``src``."""
    code = ("import json, sys\nfrom paperlab.core.registry import get_paper\n"
            "print(json.dumps([[p, e.name] for p in sys.argv[1:] for e in get_paper(p).experiments]))")
    proc = subprocess.run([sys.executable, "-c", code, *papers], env=_env(src), capture_output=True, text=True,
                          check=True)
    return [tuple(pair) for pair in json.loads(proc.stdout)]


def _env(src: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(src), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def run_all(src: Path, pairs: list[tuple[str, str]], out: Path, label: str) -> dict[str, dict]:
    results = {}
    for paper, experiment in pairs:
        runs = out / "runs"
        out.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "paperlab.cli", "run", paper, experiment, "--scale", "tiny", "--seed", "0",
               "--out", str(runs), *EXTRA_SETTINGS.get(paper, [])]
        t0 = time.time()
        proc = subprocess.run(cmd, env={**_env(src), "PAPERLAB_DATA": str(out / "data")}, capture_output=True,
                              text=True, cwd=out)
        if proc.returncode != 0:
            raise RuntimeError(f"{label}: {' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
        found = sorted(runs.glob(f"{paper}/{experiment}/*/results.json"))
        if not found:
            raise RuntimeError(f"{label}: no results.json for {paper}/{experiment} under {runs}")
        results[f"{paper}/{experiment}"] = json.loads(found[-1].read_text())
        print(f"  {label:6s} {paper}/{experiment} ({time.time() - t0:.0f} s)", flush=True)
    return results


def load_runs(runs: Path) -> dict[str, dict]:
    """The runs of a folder in the order they were made (run folders end in their start time): the after
    side runs them in the same order, because SSL's shared caches make a result depend on what ran first."""
    paths = sorted(runs.glob("*/*/*/results.json"), key=lambda p: p.parent.name.split("-", 2)[-1])
    return {f"{p.parents[2].name}/{p.parents[1].name}": json.loads(p.read_text()) for p in paths}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--before", help="git ref whose code gives the reference results")
    group.add_argument("--before-runs", help="a runs folder written earlier with --keep (its 'before/runs')")
    parser.add_argument("--papers", default=",".join(PAPERS))
    parser.add_argument("--keep", default=None, help="keep the runs here instead of a temporary folder")
    parser.add_argument("--json", default=None, help="write the comparison here")
    args = parser.parse_args()
    papers = [p for p in args.papers.split(",") if p]
    if set(papers) - set(PAPERS):
        print(f"unknown papers {sorted(set(papers) - set(PAPERS))}; valid: {', '.join(PAPERS)}", file=sys.stderr)
        return 2
    if args.before_runs and not Path(args.before_runs).is_dir():
        print(f"--before-runs {args.before_runs}: not a folder", file=sys.stderr)
        return 2
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="paperlab-same-") as tmp:
        work = Path(args.keep) if args.keep else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        if args.before:
            tree = Path(tmp) / "before-src"
            subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), args.before],
                           check=True, capture_output=True)
            try:
                pairs = experiments(tree / "src", papers)
                before_root = (work / "before").resolve()
                before = run_all(tree / "src", pairs, work / "before", "before")
            finally:
                subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                               capture_output=True)
        else:
            before_root = Path(args.before_runs).resolve().parent
            before = {k: v for k, v in load_runs(Path(args.before_runs)).items() if k.split("/")[0] in papers}
            pairs = [tuple(k.split("/")) for k in before]
        after = run_all(ROOT / "src", pairs, work / "after", "after")
    rows = []
    for key in before:
        diff = differences(comparable(before[key], str(before_root)),
                           comparable(after.get(key, {}), str((work / "after").resolve())))
        rows.append({"run": key, "identical": not diff, "differences": diff[:20]})
        print(f"{'SAME' if not diff else 'DIFFERENT':9s} {key}", *(f"\n    {d}" for d in diff[:5]), flush=True)
    ok = all(r["identical"] for r in rows)
    print(f"{sum(r['identical'] for r in rows)}/{len(rows)} experiments give identical results.json "
          f"({time.time() - started:.0f} s)")
    if args.json:
        sys.path.insert(0, str(ROOT / "src"))
        from paperlab.core.benchmark import machine_info
        from paperlab.core.runs import write_json

        write_json(Path(args.json), {"machine": machine_info(), "before": args.before or args.before_runs,
                                     "criterion": "identical results.json without wall-clock entries",
                                     "ok": ok, "runs": rows, "wall_s": time.time() - started})
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
