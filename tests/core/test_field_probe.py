"""The adversarial probe of issue 27 kept as a test: every config field of every experiment of every paper gets
wrong types, NaN, +-inf, 0, a negative number, 1e308 and a huge size through `paperlab run ... --set`. A value
that makes no sense must give exit 2, one line naming the field, and no folder; 0 and negatives may be accepted
where a field allows them (then the config is valid and would run). Configs are made in-process by the CLI's
main(); nothing trains: the run stops where it would first write (`check_out_dir`)."""

import dataclasses
import typing

import pytest

import paperlab.core.runner as runner
import paperlab.cli as cli
from paperlab.cli import main
from paperlab.core.constraints import _base_type, _default, constraints_of
from paperlab.core.registry import get_paper, paper_names


class Accepted(BaseException):
    """The config was accepted: the run got as far as its output folder (nothing is written)."""


NUMBER_PROBES = {"nan": "reject", "inf": "reject", "-inf": "reject", "1e308": "reject", "abc": "reject",
                 "0": "either", "-1": "either"}
INT_PROBES = NUMBER_PROBES   # 1e308 is the huge int; '2.5' for an int is in test_integrity
BOOL_PROBES = {"abc": "reject", "2": "reject"}
STR_PROBES = {"": "either", "nan": "either"}
# zeros the probe of issue 27 found crashing inside a run (AttributeError, RuntimeError): refused up front now
MUST_REJECT = {("pearl", "num_train_steps_per_itr", "0"), ("siren", "source_samples", "0"),
               # negative loss weights and weight decays finished with meaningless results
               ("siren", "weight_eikonal", "-1"), ("ssl", "weight_decay", "-1"), ("ssl", "probe_weight_decay", "-1")}
# a negative value of these is never meaningful: learning rates, loss weights, decays, frequencies, variances
NEVER_NEGATIVE = ("lr", "learning_rate", "weight", "decay", "omega", "variance", "alpha", "temperature", "wavenumber")
# sizes the probe found allocating or hanging at 1e9: refused by a per-field bound now
HUGE_SIZES = {"hidden_features", "hidden_layers", "side", "m", "n", "frames", "depth", "n_matrices", "width"}


def _probes(typ) -> dict[str, str]:
    base, _ = _base_type(typ)
    origin = typing.get_origin(base)
    if origin in (tuple, list):
        item = (typing.get_args(base) or (str,))[0]
        probes = _probes(item)
        return {**probes, "": "either" if item is str else probes.get("", "either")}
    if base is bool:
        return BOOL_PROBES
    if base is int:
        return INT_PROBES
    if base is float:
        return NUMBER_PROBES
    return STR_PROBES


def _cases(paper: str):
    """(experiment, field, probes) for every field; a field that several experiments share with the same type,
    default and declared constraints (BEAR's and PEARL's common configs) is probed once."""
    seen = set()
    for exp in get_paper(paper).experiments:
        hints = typing.get_type_hints(exp.config)
        declared = constraints_of(exp.config)
        for f in dataclasses.fields(exp.config):
            spec = declared.get(f.name)
            key = (f.name, repr(hints[f.name]), repr(_default(f)), id(spec), tuple(map(id, spec or ()))
                   if isinstance(spec, list) else ())
            if key not in seen:
                seen.add(key)
                yield exp.name, f.name, _probes(hints[f.name])


@pytest.fixture
def stop_before_writing(monkeypatch):
    def accepted(out, what="--out"):
        raise Accepted()

    monkeypatch.setattr(runner, "check_out_dir", accepted)
    # `run` prints how long committed runs took (a scan of results/): not what this test is about, and slow x 2000
    monkeypatch.setattr(cli, "committed_durations", lambda *args, **kwargs: {}, raising=False)


@pytest.mark.parametrize("paper", paper_names())
def test_every_field_refuses_meaningless_values(paper, tmp_path, capsys, stop_before_writing):
    out = tmp_path / "runs"
    failures = []
    for experiment, field, probes in _cases(paper):
        values = dict(probes)
        if field in HUGE_SIZES and "1000000000" not in values:
            values["1000000000"] = "reject"
        for value, expect in values.items():
            if (paper, field, value) in MUST_REJECT or value == "-1" and any(w in field for w in NEVER_NEGATIVE):
                expect = "reject"
            args = ["run", paper, experiment, "--scale", "tiny", "--out", str(out), "--set", f"{field}={value}"]
            try:
                rc = main(args)
            except Accepted:
                rc = None
            except BaseException as err:   # a traceback instead of one line
                failures.append(f"{experiment} {field}={value!r}: {type(err).__name__}: {err}")
                continue
            err = capsys.readouterr().err.strip()
            if out.exists():
                failures.append(f"{experiment} {field}={value!r}: left {out}")
            if rc is None:
                if expect == "reject":
                    failures.append(f"{experiment} {field}={value!r}: accepted")
            elif rc != 2 or "\n" in err or not err.startswith("paperlab: error:") or field not in err:
                failures.append(f"{experiment} {field}={value!r}: exit {rc}, {err[:300]!r}")
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures[:80])
