"""The config validator: declared constraints and the default rules, over every field of every paper's
configs (property-based with hypothesis)."""

import dataclasses
import math
import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from paperlab.core.constraints import POSITIVE, Check, Interval, Options, PathKind, Unique, constraints_of, \
    validate_config
from paperlab.core.registry import all_papers

EXPERIMENTS = [(p.name, e) for p in all_papers().values() for e in p.experiments]


def _numeric_fields(exp):
    hints = typing.get_type_hints(exp.config)
    out = []
    for f in dataclasses.fields(exp.config):
        typ = hints[f.name]
        args = [a for a in typing.get_args(typ) if a is not type(None)]
        base = args[0] if typing.get_origin(typ) in (typing.Union, __import__("types").UnionType) else typ
        if base in (int, float):
            out.append((f.name, base))
    return out


CASES = [(paper, exp, name, typ) for paper, exp in EXPERIMENTS for name, typ in _numeric_fields(exp)]


@settings(max_examples=300, deadline=None)
@given(case=st.sampled_from(CASES), bad=st.sampled_from([math.nan, math.inf, -math.inf]))
def test_no_float_field_accepts_nan_or_inf(case, bad):
    paper, exp, name, typ = case
    if typ is not float:
        return
    with pytest.raises(ValueError, match=name):
        exp.make_config("tiny", {name: bad})


def _lower_bound(exp, name, typ, default):
    spec = constraints_of(exp.config).get(name)
    for s in spec if isinstance(spec, list) else [spec]:
        if isinstance(s, Interval) and isinstance(s.low, (int, float)):
            return s.low, s.closed in ("both", "left")
    if typ is int and not (isinstance(default, int) and default < 0):
        return 0, True
    return None, True


@settings(max_examples=300, deadline=None)
@given(case=st.sampled_from(CASES), below=st.floats(min_value=1e-6, max_value=1e6))
def test_no_numeric_field_accepts_values_below_its_lower_bound(case, below):
    paper, exp, name, typ = case
    default = getattr(exp.config(), name)
    low, closed = _lower_bound(exp, name, typ, default)
    if low is None:
        return
    value = low - below if closed else low - below * (0 if typ is float else 1)
    value = math.floor(value) if typ is int else value
    if typ is int and closed and value >= low:
        value = low - 1
    with pytest.raises(ValueError, match=name):
        exp.make_config("tiny", {name: value})


@pytest.mark.parametrize("paper,exp", EXPERIMENTS, ids=lambda x: x if isinstance(x, str) else x.name)
def test_every_scale_preset_is_valid_and_non_empty_lists_stay_non_empty(paper, exp):
    for scale in ("tiny", "quick", "small", "paper"):
        exp.make_config(scale)
    cfg = exp.config()
    for f in dataclasses.fields(cfg):
        value = getattr(cfg, f.name)
        if isinstance(value, tuple) and value:
            with pytest.raises(ValueError, match=f.name):
                exp.make_config("tiny", {f.name: ""})


def test_validator_messages_and_kinds(tmp_path):
    @dataclasses.dataclass
    class Cfg:
        """A test config."""
        _constraints = {"steps": Interval(1, "limit"), "lr": POSITIVE, "kind": Options("a", "b"),
                        "names": [Options("x", "y"), Unique()], "folder": PathKind("dir"),
                        "odd": Check(lambda v, c: v % 2 == 1, "an odd integer")}
        steps: int = 5
        limit: int = 10
        lr: float = 0.1
        kind: str = "a"
        names: tuple[str, ...] = ("x",)
        folder: str = ""
        odd: int = 3
        auto: int = -1
        count: int = 2

    validate_config(Cfg())
    validate_config(Cfg(auto=-7))  # a negative default exempts the field from the >= 0 rule
    afile = tmp_path / "f"
    afile.write_text("")
    for bad, needle in [(dict(steps=11), "limit (10)"), (dict(lr=0.0), "(0, inf)"), (dict(kind="c"), "'a', 'b'"),
                        (dict(names=("x", "x")), "repeats"), (dict(names=("z",)), "'x', 'y'"),
                        (dict(folder=str(afile)), "is a file"), (dict(odd=4), "odd"), (dict(count=-1), ">= 0")]:
        with pytest.raises(ValueError, match=r"Cfg\.") as info:
            validate_config(Cfg(**bad))
        assert needle in str(info.value), (bad, str(info.value))
