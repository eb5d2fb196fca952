"""What a paper plugs into the foundation: its experiments and its claims."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from paperlab.core.config import SCALES, apply_overrides
from paperlab.core.constraints import validate_config
from paperlab.core.names import unknown_name

if TYPE_CHECKING:
    from paperlab.core.claims import Claim
    from paperlab.core.runs import Run


@dataclass
class Experiment:
    """One experiment: a config dataclass (paper defaults), scale presets, and `run(run, cfg) -> results`."""

    name: str
    description: str
    config: type
    run: Callable[["Run", Any], dict]
    scales: dict[str, dict[str, Any]] = field(default_factory=dict)
    # where the experiment reads or writes outside its run folder (data, shared caches), resolved from a
    # config: recorded in every run's config.json so the location of shared state is explicit
    paths: Callable[[Any], dict[str, str]] | None = None

    def __post_init__(self) -> None:
        if not dataclasses.is_dataclass(self.config):
            raise TypeError(f"experiment {self.name!r}: config must be a dataclass")
        unknown = set(self.scales) - set(SCALES)
        if unknown:
            raise ValueError(f"experiment {self.name!r}: unknown scales {sorted(unknown)}; valid: {', '.join(SCALES)}")
        for scale, preset in self.scales.items():  # presets are validated when the paper is imported
            validate_config(apply_overrides(self.config(), preset))

    def make_config(self, scale: str = "quick", overrides: dict[str, Any] | None = None) -> Any:
        """Paper defaults, then the scale preset (`tiny` falls back to `quick`), then user overrides."""
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; valid: {', '.join(SCALES)}")
        preset = self.scales.get(scale)
        if preset is None and scale == "tiny":
            preset = self.scales.get("quick", {})
        cfg = apply_overrides(self.config(), preset or {})
        return validate_config(apply_overrides(cfg, overrides or {}))


@dataclass
class Paper:
    """A paper: its experiments and the summary's claims, each judged from measurements."""

    name: str
    title: str
    experiments: list[Experiment]
    claims: list["Claim"]
    summary_plots: Callable[[dict[str, list[dict]], Path], list[Path]] | None = None
    # folders under src/paperlab that the paper's code uses besides core/, datasets/ and its own package
    # (e.g. "rl/common"): part of the code fingerprint that decides whether a finished run is still valid
    code: tuple[str, ...] = ()
    # the kinds of trained model its runs save (core.models.save_model), each rebuilt for `paperlab.load` by
    # restore(spec, state, device) -> a ready model (a network, a policy that acts, an encoder, an estimator)
    models: dict[str, Callable[[dict, dict, str], Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [e.name for e in self.experiments]
        if len(set(names)) != len(names):
            raise ValueError(f"paper {self.name!r}: duplicate experiment names {names}")
        for claim in self.claims:
            missing = [e for e in claim.experiments if e not in names]
            if missing:
                raise ValueError(f"claim {claim.id!r} needs unknown experiments {missing}; valid: {', '.join(names)}")

    def experiment(self, name: str) -> Experiment:
        for exp in self.experiments:
            if exp.name == name:
                return exp
        raise unknown_name("experiment", name, [e.name for e in self.experiments], f" for paper {self.name!r}")
