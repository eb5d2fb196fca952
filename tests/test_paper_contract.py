"""The contract every paper keeps: `paperlab reproduce PAPER --scale tiny` through the CLI judges every claim
of the paper from measurements and exports the claims JSON in the shared format, with the runs' plots beside it."""

import pytest

from paperlab.core.claims import VERDICTS
from paperlab.core.registry import PAPER_MODULES, get_paper

PAPERS = list(PAPER_MODULES)   # every built-in paper
DOCUMENT_KEYS = {"paper", "title", "scale", "claims", "command", "created", "seconds", "run_seconds",
                 "summary_plots", "plots", "runs_note"}
ROW_KEYS = {"id", "text", "verdict", "measured", "threshold", "note", "experiments", "seeds", "runs", "run_info"}


@pytest.mark.parametrize("name", PAPERS)
def test_tiny_reproduce_judges_every_claim(tiny_reproduction, name):
    paper = get_paper(name)
    done = tiny_reproduction(name)
    assert done.code == 0
    document = done.document()
    assert set(document) == DOCUMENT_KEYS
    assert (document["paper"], document["title"], document["scale"]) == (name, paper.title, "tiny")
    assert [row["id"] for row in document["claims"]] == [claim.id for claim in paper.claims]
    for claim, row in zip(paper.claims, document["claims"]):
        assert set(row) == ROW_KEYS, claim.id
        assert row["text"] == claim.text and row["experiments"] == claim.experiments
        assert row["verdict"] in VERDICTS, claim.id
        assert isinstance(row["measured"], dict) and row["measured"], f"{claim.id} measured nothing"
        assert row["threshold"], f"{claim.id} has no threshold"
        assert isinstance(row["note"], str)
        # a judge that could not be computed from the runs (a KeyError caught by Claim.evaluate) is a defect here
        assert "the judge cannot be computed" not in row["note"], (claim.id, row["note"])
        expected_seeds = done.seeds
        assert row["seeds"] == expected_seeds and len(row["runs"]) == expected_seeds * len(claim.experiments)
        assert [info["experiment"] for info in row["run_info"]] == [e for e in claim.experiments
                                                                    for _ in range(expected_seeds)]
    # the plots of every experiment's first run and the summary plots, copied beside the JSON
    plots_dir = done.claims_json.parent / "plots-tiny"
    assert document["plots"] and sorted(p.name for p in plots_dir.glob("*.png")) == document["plots"]
    experiments = {e for claim in paper.claims for e in claim.experiments}
    with_plots = {e for e in experiments if list((done.run_dirs(name, e)[0] / "plots").glob("*.png"))}
    assert {p.split("--")[0] for p in document["plots"]} - {"summary"} == with_plots
    assert len([p for p in document["plots"] if p.startswith("summary--")]) == len(document["summary_plots"])
