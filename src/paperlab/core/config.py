"""Dataclass configs: typed `key=value` overrides and scale presets.

A config is a plain `@dataclass` whose defaults are the paper's settings. A scale (`tiny`, `quick`,
`small`, `paper`) is a dict of overrides applied on top; `--set key=value` overrides come last.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from typing import Any

from paperlab.core.names import did_you_mean

SCALES = ("tiny", "quick", "small", "paper")


def _field_types(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints.get(f.name, f.type) for f in dataclasses.fields(cls)}


def _parse_scalar(text: str, typ: Any, key: str) -> Any:
    if typ is bool:
        lowered = text.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"config key {key!r} expects a boolean (true/false), got {text!r}")
    if typ in (int, float):
        try:
            if typ is int and "e" in text.lower():   # 1e6 is a whole number; 2.5e0 is not
                number = float(text)
                if not number.is_integer():
                    raise ValueError
                return int(number)
            return typ(text)
        except (ValueError, OverflowError):
            raise ValueError(f"config key {key!r} expects {typ.__name__} ({'a whole number' if typ is int else 'a number'}), "
                             f"got {text!r}") from None
    if typ is str or typ is Any:
        return text
    raise ValueError(f"config key {key!r} has unsupported type {typ!r}")


def parse_value(text: str, typ: Any, key: str) -> Any:
    """Parse a command-line string into the field's declared type (int, float, bool, str, tuples, lists, Optional)."""
    origin = typing.get_origin(typ)
    args = typing.get_args(typ)
    if origin in (typing.Union, types.UnionType):
        if text.strip().lower() in ("none", "null") and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return parse_value(text, inner[0], key)
    if origin in (tuple, list):
        parts = [p for p in text.split(",") if p.strip() != ""]
        item_type = args[0] if args else str
        values = [parse_value(p.strip(), item_type, key) for p in parts]
        return tuple(values) if origin is tuple else values
    if isinstance(text, str):
        return _parse_scalar(text, typ, key)
    return text


def _coerce(value: Any, typ: Any, key: str) -> Any:
    """Accept already-typed values (from presets/JSON) or strings (from the CLI)."""
    if isinstance(value, str) and typ is not str:
        return parse_value(value, typ, key)
    origin = typing.get_origin(typ)
    if origin in (typing.Union, types.UnionType) and value is not None:   # Optional[X]: coerce as X
        return _coerce(value, next(a for a in typing.get_args(typ) if a is not type(None)), key)
    if origin is tuple and isinstance(value, list):
        return tuple(value)
    if typ is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def apply_overrides(cfg: Any, overrides: dict[str, Any]) -> Any:
    """Return a copy of `cfg` with `overrides` applied; unknown keys raise a one-line error listing the valid ones."""
    types_by_name = _field_types(type(cfg))
    changes = {}
    for key, value in overrides.items():
        if key not in types_by_name:
            valid = sorted(types_by_name)
            raise ValueError(f"unknown config key {key!r} for {type(cfg).__name__}{did_you_mean(key, valid)}; "
                             f"valid: {', '.join(valid)}")
        changes[key] = _coerce(value, types_by_name[key], key)
    return dataclasses.replace(cfg, **changes)


def parse_set_args(pairs: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Turn ['a=1', 'b=x,y'] into {'a': '1', 'b': 'x,y'}."""
    out: dict[str, str] = {}
    for pair in pairs:
        if "=" not in pair:
            raise ValueError(f"--set expects key=value, got {pair!r}")
        key, value = pair.split("=", 1)
        out[key.strip()] = value
    return out


def config_to_dict(cfg: Any) -> dict[str, Any]:
    return json.loads(json.dumps(dataclasses.asdict(cfg), default=str))


def config_from_dict(cls: type, data: dict[str, Any]) -> Any:
    return apply_overrides(cls(), {k: v for k, v in data.items()})


def config_hash(payload: dict[str, Any]) -> str:
    """A short stable hash identifying (paper, experiment, config, seed): the identity of a run."""
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def settings_from(cfg: Any, cls: type, prefix: str = "", **overrides: Any) -> Any:
    """`cls(...)` (an internal settings dataclass) with every field that the config `cfg` has under the same
    name (or `prefix` + name) copied from `cfg`; `overrides` set or replace the rest. Fields neither copied nor
    overridden keep `cls`'s default."""
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    unknown = set(overrides) - names
    if unknown:
        raise TypeError(f"{cls.__name__} has no fields {sorted(unknown)}")
    have = {f.name for f in dataclasses.fields(cfg)}
    copied = {n: getattr(cfg, prefix + n) for n in names if prefix + n in have and n not in overrides}
    return cls(**copied, **overrides)
