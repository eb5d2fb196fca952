"""Per-field constraints of config dataclasses, declared once per class and checked by one validator.

A config class lists what its fields allow in a class-level mapping (not a dataclass field), like
scikit-learn's `_parameter_constraints`:

    @dataclass
    class FitConfig:
        steps: int = 1000
        lr: float = 1e-4
        methods: tuple[str, ...] = ("siren", "relu")
        _constraints = {"steps": Interval(1), "lr": Interval(0, closed="neither"),
                        "methods": Options("siren", "relu", "tanh")}

Mappings of base classes are inherited (a subclass adds or replaces keys). Every field also gets
the default rules below unless its own constraint says otherwise, so an undeclared field cannot
silently take a meaningless value:

- a float must be finite (no NaN, no inf);
- an int must be >= 0 (a field whose default is negative, e.g. -1 for "automatic", is exempt);
- always, whatever else is declared: an int field holds an int (not 1.5, not True), a float field a number, and
  no number is larger in magnitude than FLOAT_LIMIT (floats) or INT_LIMIT (ints), so a value that would
  overflow or exhaust memory is refused even where a field declares only a lower bound;
- a tuple/list whose default is non-empty must stay non-empty, and its items follow the rules of
  their type; a constraint on a tuple field applies to each item.

`validate_config(cfg)` raises one ValueError naming the class, field, value and what is allowed.
`Experiment.make_config` calls it, so a bad value is rejected before any run folder is created.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from pathlib import Path
from typing import Any, Callable

Bound = float | int | str | Callable[[Any], float] | None

# Bounds every number of every config obeys. A float32 holds 7 significant digits and overflows past 3.4e38:
# a weight, rate or scale beyond 1e6 leaves training without precision (and its squares near overflow).
# No run on one machine performs or stores more than 1e9 of anything (steps, samples, units).
FLOAT_LIMIT = 1e6
INT_LIMIT = 10**9


def _bound_value(bound: Bound, cfg: Any) -> float | None:
    """A bound is a number, the name of another field of the config, or a function of the config."""
    if bound is None:
        return None
    if isinstance(bound, str):
        return getattr(cfg, bound)
    if callable(bound):
        return bound(cfg)
    return bound


def _bound_text(bound: Bound, cfg: Any) -> str:
    value = _bound_value(bound, cfg)
    if isinstance(bound, str):
        return f"{bound} ({value})"
    return f"{value:g}" if isinstance(value, float) else str(value)


class Interval:
    """A number in [low, high] (`closed`: 'both', 'left', 'right' or 'neither'); None means unbounded (up to the
    core's FLOAT_LIMIT / INT_LIMIT). `why` says where the bound comes from (shown in the message)."""

    def __init__(self, low: Bound = None, high: Bound = None, closed: str = "both", why: str = ""):
        if closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"closed must be both, left, right or neither, got {closed!r}")
        self.low, self.high, self.closed, self.why = low, high, closed, why

    def check(self, value: Any, cfg: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "a number"
        noun = "an integer" if isinstance(value, int) else "a finite number"
        if isinstance(value, float) and not math.isfinite(value):
            return self.describe(cfg, noun)
        low, high = _bound_value(self.low, cfg), _bound_value(self.high, cfg)
        left_ok = low is None or (value >= low if self.closed in ("both", "left") else value > low)
        right_ok = high is None or (value <= high if self.closed in ("both", "right") else value < high)
        return None if left_ok and right_ok else self.describe(cfg, noun)

    def describe(self, cfg: Any, noun: str = "a finite number") -> str:
        low = "-inf" if self.low is None else _bound_text(self.low, cfg)
        high = "inf" if self.high is None else _bound_text(self.high, cfg)
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        return f"{noun} in {left}{low}, {high}{right}" + (f" ({self.why})" if self.why else "")


class Options:
    """One of the given values."""

    def __init__(self, *choices: Any):
        self.choices = choices

    def check(self, value: Any, cfg: Any) -> str | None:
        return None if value in self.choices else self.describe(cfg)

    def describe(self, cfg: Any) -> str:
        return "one of " + ", ".join(repr(c) for c in self.choices)


class PathKind:
    """A path to an existing 'file' or 'dir' ('' allowed when `optional`: the field's own default applies);
    with `suffixes`, a file must end in one of them."""

    def __init__(self, kind: str, optional: bool = True, suffixes: tuple[str, ...] = ()):
        if kind not in ("file", "dir"):
            raise ValueError(f"kind must be 'file' or 'dir', got {kind!r}")
        self.kind, self.optional, self.suffixes = kind, optional, suffixes

    def check(self, value: Any, cfg: Any) -> str | None:
        if value in ("", None) and self.optional:
            return None
        if not isinstance(value, (str, Path)) or str(value) == "":
            return self.describe(cfg)
        path = Path(value).expanduser()
        if self.kind == "file":
            if not path.is_file():
                return f"an existing file ({path} is {'a directory' if path.is_dir() else 'missing'})"
            if self.suffixes and path.suffix.lower() not in self.suffixes:
                return f"a file ending in {', '.join(self.suffixes)}"
        elif path.exists() and not path.is_dir():
            return f"a directory ({path} is a file)"
        return None

    def describe(self, cfg: Any) -> str:
        return f"a path to an existing {self.kind}" + (" (or empty for the default)" if self.optional else "")


_READ_CACHE: dict[tuple, str | None] = {}


def readable(path: Path, read: Callable[[Path], Any], what: str) -> str | None:
    """None when `read(path)` succeeds, else what is wrong with the file, in one line (any exception the reader
    raises: a ValueError's own message, else its type, e.g. a decompression bomb or out of memory). Cached per
    (path, size, modification time): a config is validated several times before a run."""
    path = Path(path).expanduser()
    try:
        stat = path.stat()
    except OSError as err:
        return f"a readable {what} ({path}: {err.strerror or err})"
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns, read)
    if key not in _READ_CACHE:
        try:
            read(path)
            problem = None
        except MemoryError:
            problem = "too large to read into memory"
        except Exception as err:   # whatever the decoder raises on malformed input, named in one line
            text = str(err).strip().splitlines()[0] if str(err).strip() else ""
            problem = text if isinstance(err, ValueError) and text else f"{type(err).__name__}: {text or 'unreadable'}"
        _READ_CACHE[key] = None if problem is None else f"a readable {what} ({path}: {problem[:300]})"
    return _READ_CACHE[key]


class DataFile(PathKind):
    """A data file that is opened and checked when the config is made (before any run folder exists):
    `read(path)` must load it (raising ValueError with the reason otherwise). `what` names it in the message."""

    def __init__(self, read: Callable[[Path], Any], what: str, optional: bool = True,
                 suffixes: tuple[str, ...] = ()):
        super().__init__("file", optional=optional, suffixes=suffixes)
        self.read, self.what = read, what

    def check(self, value: Any, cfg: Any) -> str | None:
        problem = super().check(value, cfg)
        if problem or value in ("", None):
            return problem
        return readable(Path(value), self.read, self.what)


class Check:
    """Any condition on the value (and the config): `Check(lambda v, cfg: ..., 'what is allowed')`.
    On a tuple field it applies to each item, or to the whole tuple with `whole=True`."""

    def __init__(self, predicate: Callable[[Any, Any], bool], allowed: str, whole: bool = False):
        self.predicate, self.allowed, self.whole = predicate, allowed, whole

    def check(self, value: Any, cfg: Any) -> str | None:
        return None if self.predicate(value, cfg) else self.allowed


class Unique:
    """A tuple without repeated items."""

    whole = True

    def check(self, value: Any, cfg: Any) -> str | None:
        if len(set(value)) != len(value):
            return "items without repeats"
        return None


POSITIVE = Interval(0, closed="neither")   # a finite number > 0 (learning rates, scales, temperatures)
NON_NEGATIVE = Interval(0)                  # a finite number >= 0 (loss weights, weight decay, variances)
# a learning rate: an optimiser step larger than 10 moves every weight by more than its whole range
LEARNING_RATE = Interval(0, 10, closed="right", why="a larger step moves every weight past its range")


def size_bound(limit: int, why: str, low: int = 1) -> Interval:
    """An integer size in [low, limit], with the reason for the limit (memory, time) in the message."""
    return Interval(low, limit, why=why)


# Bounds derived from what the methods here can use on one machine; the papers' own settings sit far inside.
LAYER_WIDTH = size_bound(8192, "8192^2 weights per layer: 1 GiB with gradients and Adam's moments")
LAYER_COUNT = size_bound(100, "every layer's activations are kept for backpropagation; the papers use 1-5")
POINTS = size_bound(10**7, "points per batch or set, each carried with its activations through every layer")
MATRIX_SIDE = size_bound(10_000, "a 10^4 x 10^4 float64 matrix is 800 MB")
# sin(omega * x) for x in [-1, 1]: above 1e5, float32 rounding of omega * x exceeds 0.01 rad, so the phase is noise
OMEGA = Interval(0, 1e5, closed="right", why="above it float32 rounding of omega*x exceeds 0.01 rad")


def constraints_of(cls: type) -> dict[str, Any]:
    """The merged `_constraints` of a class and its bases (a subclass wins)."""
    merged: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        merged.update(klass.__dict__.get("_constraints", {}) or {})
    return merged


def _as_list(spec: Any) -> list[Any]:
    if spec is None:
        return []
    return list(spec) if isinstance(spec, (list, tuple)) else [spec]


def _default(f: dataclasses.Field) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _base_type(typ: Any) -> tuple[Any, bool]:
    """(type without Optional, whether None is allowed)."""
    if typing.get_origin(typ) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(typ) if a is not type(None)]
        return (args[0] if args else Any), len(args) < len(typing.get_args(typ))
    return typ, False


def _kind_rule(value: Any, typ: Any) -> str | None:
    """What holds for every field whatever is declared: the declared type, and the core magnitude bounds."""
    if typ is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return "a number"
        if not math.isfinite(value) or abs(value) > FLOAT_LIMIT:
            return f"a finite number with magnitude <= {FLOAT_LIMIT:g} (float32 training has no precision beyond)"
    if typ is int:
        if isinstance(value, bool) or not isinstance(value, int):
            return "an integer"
        if abs(value) > INT_LIMIT:
            return f"an integer with magnitude <= {INT_LIMIT:.0e} (no run here does more than that of anything)"
    if typ is bool and not isinstance(value, bool):
        return "true or false"
    return None


def _type_rule(value: Any, typ: Any, default: Any) -> str | None:
    """The default rules: finite floats, non-negative ints (unless the default is negative)."""
    problem = _kind_rule(value, typ)
    if problem is None and typ is int:
        negative_default = isinstance(default, int) and default < 0
        if value < 0 and not negative_default:
            return "an integer >= 0"
    return problem


def validate_config(cfg: Any) -> Any:
    """Check every field of a config dataclass against its constraints; raise one ValueError or return cfg."""
    cls = type(cfg)
    hints = typing.get_type_hints(cls)
    declared = constraints_of(cls)
    unknown = set(declared) - {f.name for f in dataclasses.fields(cls)}
    if unknown:
        raise TypeError(f"{cls.__name__}._constraints names unknown fields {sorted(unknown)}")
    for f in dataclasses.fields(cls):
        value = getattr(cfg, f.name)
        typ, nullable = _base_type(hints.get(f.name, f.type))
        if value is None and nullable:
            continue
        default = _default(f)
        specs = _as_list(declared.get(f.name))
        problem = None
        origin = typing.get_origin(typ)
        if origin in (tuple, list):
            item_type = typing.get_args(typ)[0] if typing.get_args(typ) else Any
            if not isinstance(value, (tuple, list)):
                problem = "a comma-separated list"
            elif len(value) == 0 and (default is None or default is not dataclasses.MISSING and len(default) > 0):
                problem = "a non-empty list"
            for spec in specs:
                if problem is None and getattr(spec, "whole", False):
                    problem = spec.check(value, cfg)
            item_specs = [s for s in specs if not getattr(s, "whole", False)]
            for item in value if problem is None else ():
                problem = _type_rule(item, item_type, None) if not item_specs else _kind_rule(item, item_type)
                for spec in item_specs:
                    problem = problem or spec.check(item, cfg)
                if problem:
                    problem = f"items that are each {problem}"
                    break
        else:
            if not specs or all(isinstance(s, Check) for s in specs):
                problem = _type_rule(value, typ, default)
            else:
                problem = _kind_rule(value, typ)
            for spec in specs:
                problem = problem or spec.check(value, cfg)
        if problem:
            raise ValueError(f"{cls.__name__}.{f.name}={value!r} is not allowed: expected {problem}")
    return cfg


def check_shape(x: Any, shape: tuple, name: str, owner: str, finite: bool = False) -> None:
    """Library inputs: `x` must be a tensor/array of `shape`, where an int is an exact size, a string a free
    one ('N') and a leading '...' any number of leading dimensions (at least one); one ValueError naming the
    owner, the expected and the actual shape otherwise."""
    actual = tuple(getattr(x, "shape", ()))
    expected = "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    if not hasattr(x, "shape"):
        raise ValueError(f"{owner}: {name} must be an array or tensor of shape {expected}, got {type(x).__name__}")
    if shape and shape[0] == "...":
        shape = actual[: max(len(actual) - len(shape) + 1, 1)] + tuple(shape[1:]) if len(actual) >= len(shape) else shape
    if len(actual) != len(shape) or any(isinstance(s, int) and s != a for s, a in zip(shape, actual)):
        raise ValueError(f"{owner}: {name} must have shape {expected}, got {actual}")
    if finite:
        import torch

        ok = bool(torch.isfinite(torch.as_tensor(x)).all())
        if not ok:
            raise ValueError(f"{owner}: {name} contains NaN or infinity")
