"""`paperlab list PAPER EXPERIMENT`: every config field with its type, default, value per scale and doc."""

import dataclasses
from dataclasses import dataclass

import pytest

from paperlab.cli import main
from paperlab.core.config_docs import field_docs, format_config
from paperlab.core.experiment import Experiment, Paper
from paperlab.core.registry import all_papers


@dataclass
class BaseFitConfig:
    """A fit.

    Attributes:
        seed_offset: added to the run's seed
            for the data only.
    """
    steps: int = 100        # Adam steps
    lr: float = 1e-3        # learning rate,
    #                         continued on a deeper comment line
    seed_offset: int = 0


@dataclass
class FitConfig(BaseFitConfig):
    """A fit of one image."""
    # which data to fit
    image: str = "camera"
    methods: tuple[str, ...] = ("siren", "relu")
    # a note that ends at the blank line below: about no field

    full_batch: bool = True
    steps: int = 200        # more steps than the base (overrides its doc)


FIT = Experiment(name="fit", description="fit an image", config=FitConfig, run=lambda run, cfg: {},
                 scales={"tiny": {"steps": 5, "methods": ("siren",)}, "quick": {"steps": 50}, "small": {"lr": 5e-4}})
PAPER = Paper(name="demo", title="Demo", experiments=[FIT], claims=[])


def test_field_docs_from_comments_sections_docstring_and_bases():
    assert field_docs(FitConfig) == {
        "steps": "more steps than the base (overrides its doc)",
        "lr": "learning rate, continued on a deeper comment line",
        "seed_offset": "added to the run's seed for the data only.",
        "image": "which data to fit",
        "methods": "(section: which data to fit)",
        "full_batch": "",
    }


def test_format_config_exact():
    assert format_config(PAPER, FIT) == "\n".join([
        "demo fit: fit an image",
        f"config FitConfig ({FitConfig.__module__}): A fit of one image.",
        "set a field with --set FIELD=VALUE (lists comma-separated); tiny falls back to quick where it has no preset",
        "",
        "field        type             default     tiny    quick       small       paper       doc",
        "steps        int              200         5       50          200         200         more steps than the base (overrides its doc)",
        "lr           float            0.001       0.001   0.001       0.0005      0.001       learning rate, continued on a deeper comment line",
        "seed_offset  int              0           0       0           0           0           added to the run's seed for the data only.",
        "image        str              camera      camera  camera      camera      camera      which data to fit",
        "methods      tuple[str, ...]  siren,relu  siren   siren,relu  siren,relu  siren,relu  (section: which data to fit)",
        "full_batch   bool             true        true    true        true        true",
    ])


@pytest.mark.parametrize("paper_name", ["nmf", "siren", "ssl", "bear", "pearl"])
def test_every_experiment_lists_every_field(paper_name, capsys):
    paper = all_papers()[paper_name]
    for exp in paper.experiments:
        assert main(["list", paper_name, exp.name]) == 0
        out = capsys.readouterr().out
        rows = out.split("\n\n", 1)[1].splitlines()
        assert rows[0].split() == ["field", "type", "default", "tiny", "quick", "small", "paper", "doc"]
        assert [r.split()[0] for r in rows[1:]] == [f.name for f in dataclasses.fields(exp.config)]
        undocumented = [name for name, doc in field_docs(exp.config).items() if not doc]
        assert undocumented == [], f"{paper_name} {exp.name}: give these fields a trailing # comment: {undocumented}"
        quick = exp.make_config("quick")
        for row, f in zip(rows[1:], dataclasses.fields(exp.config)):
            if isinstance(getattr(quick, f.name), (int, float, str)) and str(getattr(quick, f.name)).strip():
                assert str(getattr(quick, f.name)).lower() in row.lower()


def test_list_config_flag_lists_every_experiment(toy, capsys):
    assert main(["list", "toy", "--config"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("toy noisy-mean: mean of noisy samples")
    assert "sleep" in out and "seconds per step" in out


def test_list_unknown_experiment_and_paper(capsys):
    assert main(["list", "nmf", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("paperlab: error: unknown experiment 'nope' for paper 'nmf'; valid: example, monotone, "
                           "gd-equivalence, fixed-points, parts")
    assert main(["list", "nope", "x"]) == 2
    assert capsys.readouterr().err.startswith("paperlab: error: unknown paper 'nope'; valid: nmf,")
    assert main(["list", "--config"]) == 2
    assert "needs a PAPER" in capsys.readouterr().err
