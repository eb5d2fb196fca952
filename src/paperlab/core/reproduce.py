"""`paperlab reproduce`: run what a paper's claims need, judge every claim, write the claims JSON."""

from __future__ import annotations

import shutil
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from paperlab.core.claims import format_claims_table
from paperlab.core.experiment import Paper
from paperlab.core.config import config_to_dict
from paperlab.core.runner import finished_run_to_rejudge
from paperlab.core.runs import load_results, read_json, write_json
from paperlab.core.sweep import Job, execute


def split_overrides(paper: Paper, pairs: dict[str, str]) -> dict[str, dict[str, str]]:
    """'image-fit.steps=5' applies to one experiment; a bare 'steps=5' applies to every experiment."""
    per_exp: dict[str, dict[str, str]] = {e.name: {} for e in paper.experiments}
    for key, value in pairs.items():
        exp_name, _, field_name = key.rpartition(".")
        if exp_name:
            paper.experiment(exp_name)  # raises with the valid names
            per_exp[exp_name][field_name] = value
        else:
            for overrides in per_exp.values():
                overrides[key] = value
    return per_exp


def check_reproduce(paper: Paper, scale: str, overrides: dict[str, str] | None = None) -> None:
    """Validate every config a reproduce of `paper` would run (before anything runs or is written)."""
    per_exp = split_overrides(paper, overrides or {})
    for name in {n for claim in paper.claims for n in claim.experiments}:
        paper.experiment(name).make_config(scale, per_exp[name])


def select_claims(paper: Paper, claim_ids: list[str] | None) -> list:
    """The paper's claims, or only those named (in the paper's order); an unknown id is a ValueError."""
    if not claim_ids:
        return list(paper.claims)
    valid = [c.id for c in paper.claims]
    unknown = [c for c in claim_ids if c not in valid]
    if unknown:
        raise ValueError(f"unknown claim(s) {', '.join(unknown)} for paper {paper.name!r}; valid: {', '.join(valid)}")
    return [c for c in paper.claims if c.id in claim_ids]


def reproduce(paper: Paper, scale: str = "quick", out: str | Path = "runs", json_path: str | Path | None = None,
              seeds: int | None = None, executor: str = "serial", workers: int = 2, device: str = "cpu",
              overrides: dict[str, str] | None = None, address: str | None = None,
              fresh: bool = False, rejudge: bool = False, claim_ids: list[str] | None = None) -> dict[str, Any]:
    """Run (or reuse) every experiment behind the claims (or only the claims `claim_ids`) and return
    the claims document."""
    started = time.time()
    claims = select_claims(paper, claim_ids)
    needed: dict[str, int] = {}
    for claim in claims:
        for name in claim.experiments:
            needed[name] = max(needed.get(name, 0), seeds or claim.seeds)
    per_exp = split_overrides(paper, overrides or {})
    for name in needed:  # validate all configs before running anything
        paper.experiment(name).make_config(scale, per_exp[name])
    jobs = [Job(paper.name, name, scale, seed, tuple(sorted(per_exp[name].items())), device, str(out),
                reuse=not fresh, any_code=rejudge) for name, n in needed.items() for seed in range(n)]
    if rejudge:   # judge what is there; training is never started by a re-judge
        dirs = [str(finished_run_to_rejudge(paper.name, job.experiment, scale, job.seed, out, per_exp[job.experiment],
                                            device=device)) for job in jobs]
    else:
        dirs = execute(jobs, executor=executor, workers=workers, address=address)
    runs_by_exp: dict[str, list[str]] = {}
    for job, directory in zip(jobs, dirs):
        runs_by_exp.setdefault(job.experiment, []).append(directory)
    results = {name: [load_results(Path(d)) for d in ds] for name, ds in runs_by_exp.items()}

    rows = []
    for claim in claims:
        verdict = claim.evaluate({name: results[name] for name in claim.experiments})
        rows.append({
            "id": claim.id, "text": claim.text, "verdict": verdict.verdict, "measured": verdict.measured,
            "threshold": verdict.threshold, "note": verdict.note, "experiments": claim.experiments,
            "seeds": verdict.seeds or len(results[claim.experiments[0]]),
            "runs": [d for name in claim.experiments for d in runs_by_exp[name]],
            "run_info": [run_info(Path(d)) for name in claim.experiments for d in runs_by_exp[name]],
        })
    document = {
        "paper": paper.name, "title": paper.title, "scale": scale, "claims": rows,
        "command": " ".join(["paperlab", *sys.argv[1:]]) if sys.argv and "paperlab" in sys.argv[0] else None,
        "created": datetime.now(timezone.utc).isoformat(), "seconds": time.time() - started,
        # compute time of the runs behind the claims, including runs reused from an earlier call
        "run_seconds": sum(r.get("_meta", {}).get("seconds", 0.0) for rs in results.values() for r in rs),
    }
    claims_file = Path(out) / paper.name / f"claims-{scale}.json"
    claims_file.parent.mkdir(parents=True, exist_ok=True)
    plots_dir = claims_file.parent / f"plots-{scale}"
    summary = paper.summary_plots(results, plots_dir) if paper.summary_plots else []
    document["summary_plots"] = [str(p) for p in summary]
    if claim_ids:   # judging some claims keeps the verdicts judged earlier for the others
        document = merge_claims(paper, document, claims_file)
    write_json(claims_file, document)
    if json_path is not None:
        _export(merge_claims(paper, document, Path(json_path)) if claim_ids else document, runs_by_exp,
                Path(json_path), plots_dir)
    return document


def merge_claims(paper: Paper, document: dict[str, Any], existing: Path) -> dict[str, Any]:
    """`document` (some claims just judged) with the rows of the other claims kept from the claims file
    `existing` of the same paper and scale, in the paper's order; an unreadable or foreign file is replaced."""
    if not existing.exists():
        return document
    try:
        old = read_json(existing, required=("paper", "scale", "claims"))
    except ValueError as err:
        print(f"paperlab: warning: {err}; writing the claims judged now only", file=sys.stderr)
        return document
    if old.get("paper") != paper.name or old.get("scale") != document["scale"] or not isinstance(old["claims"], list):
        return document
    fresh = {row["id"]: row for row in document["claims"]}
    kept = {row["id"]: row for row in old["claims"] if isinstance(row, dict) and row.get("id") not in fresh}
    order = [c.id for c in paper.claims]
    rows = [fresh.get(cid) or kept.get(cid) for cid in order if cid in fresh or cid in kept]
    judged_at = {**(old.get("judged_at") or {}), **{cid: document["created"] for cid in fresh}}
    return {**document, "claims": rows, "judged_at": judged_at}


def run_info(directory: Path) -> dict[str, Any]:
    """Who made a run: experiment, seed, overrides against the scale preset, commit, date and command."""
    from paperlab.core.registry import get_paper

    meta = read_json(directory / "config.json")
    overrides: dict[str, Any] = {}
    try:
        preset = config_to_dict(get_paper(meta["paper"]).experiment(meta["experiment"]).make_config(meta["scale"]))
        overrides = {k: v for k, v in meta.get("config", {}).items() if preset.get(k) != v}
    except (LookupError, ValueError):
        pass
    return {"dir": str(directory), "experiment": meta.get("experiment"), "seed": meta.get("seed"),
            "scale": meta.get("scale"), "overrides": overrides, "commit": meta.get("git_commit"),
            "started": meta.get("started"), "command": " ".join(meta.get("command") or [])}


def _export(document: dict[str, Any], runs_by_exp: dict[str, list[str]], json_path: Path, summary_dir: Path) -> None:
    """Write the claims JSON where asked, with the plots of the first seed's runs beside it."""
    json_path.parent.mkdir(parents=True, exist_ok=True)
    plots = json_path.parent / f"plots-{document['scale']}"
    plots.mkdir(parents=True, exist_ok=True)  # nothing already there is deleted: only our files are (over)written
    copied = []
    sources = [(png, f"{name}--{png.name}") for name, dirs in runs_by_exp.items()
               for png in sorted((Path(dirs[0]) / "plots").glob("*.png"))]
    sources += [(png, f"summary--{png.name}") for png in sorted(summary_dir.glob("*.png"))] if summary_dir.exists() else []
    for png, name in sources:
        if png.resolve() != (plots / name).resolve():
            shutil.copy2(png, plots / name)
        copied.append(name)
    exported = {**document, "plots": sorted(copied)}
    exported["runs_note"] = "run directories are local to the machine that ran them"
    write_json(json_path, exported)


def print_claims(document: dict[str, Any]) -> None:
    counts: dict[str, int] = {}
    for row in document["claims"]:
        counts[row["verdict"]] = counts.get(row["verdict"], 0) + 1
    print(f"\n== {document['paper']} ({document['scale']} scale): {document['title']}")
    print(format_claims_table(document["claims"]))
    print("   " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
          + f"  ({document['seconds']:.0f} s now; runs took {document['run_seconds']:.0f} s)")
