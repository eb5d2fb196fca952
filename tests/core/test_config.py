from dataclasses import dataclass

import pytest

from paperlab.core.config import apply_overrides, config_from_dict, config_hash, config_to_dict, parse_set_args


@dataclass
class Cfg:
    steps: int = 10
    lr: float = 1e-4
    flag: bool = False
    name: str = "x"
    methods: tuple[str, ...] = ("a", "b")
    sizes: tuple[int, ...] = (1, 2)
    limit: int | None = None


def test_overrides_are_typed():
    cfg = apply_overrides(Cfg(), parse_set_args(["steps=5", "lr=3e-4", "flag=true", "methods=siren,relu",
                                                 "sizes=1000,5000", "limit=none", "name=cam"]))
    assert cfg == Cfg(steps=5, lr=3e-4, flag=True, name="cam", methods=("siren", "relu"), sizes=(1000, 5000))
    assert apply_overrides(Cfg(), {"limit": "7", "steps": "2e3"}).limit == 7
    assert apply_overrides(Cfg(), {"steps": "2e3"}).steps == 2000


@dataclass
class OptionalCfg(Cfg):
    hidden: tuple[int, ...] | None = None
    scale: float | None = None


def test_values_read_back_from_json_get_their_declared_types():
    """A config rebuilt from its config.json (lists, ints) equals the one that wrote it, Optional fields too."""
    cfg = OptionalCfg(methods=("r",), sizes=(3,), hidden=(64, 64), scale=2.0)
    rebuilt = config_from_dict(OptionalCfg, config_to_dict(cfg) | {"scale": 2})
    assert rebuilt == cfg and isinstance(rebuilt.hidden, tuple) and isinstance(rebuilt.scale, float)
    assert config_from_dict(OptionalCfg, {"hidden": None}).hidden is None


def test_unknown_key_lists_valid_keys():
    with pytest.raises(ValueError, match=r"unknown config key 'stepz'.*valid: flag, limit, lr"):
        apply_overrides(Cfg(), {"stepz": "1"})


def test_bad_values_are_named():
    with pytest.raises(ValueError, match="'steps' expects int"):
        apply_overrides(Cfg(), {"steps": "many"})
    with pytest.raises(ValueError, match="boolean"):
        apply_overrides(Cfg(), {"flag": "maybe"})
    with pytest.raises(ValueError, match="key=value"):
        parse_set_args(["steps"])


def test_hash_is_stable_and_sensitive():
    a = config_hash(config_to_dict(Cfg()))
    assert a == config_hash(config_to_dict(Cfg()))
    assert a != config_hash(config_to_dict(Cfg(steps=11)))


def test_settings_from_copies_same_named_fields_prefix_and_overrides():
    from dataclasses import dataclass

    from paperlab.core.config import settings_from

    @dataclass
    class Cfg:
        lr: float = 0.1
        steps: int = 5
        unrelated: str = "x"
        inner_lr: float = 0.7

    @dataclass
    class Settings:
        lr: float
        steps: int
        extra: int = 3

    s = settings_from(Cfg(lr=0.2), Settings)
    assert (s.lr, s.steps, s.extra) == (0.2, 5, 3)            # copied; a field the config lacks keeps its default
    assert settings_from(Cfg(), Settings, steps=9, extra=4) == Settings(lr=0.1, steps=9, extra=4)
    assert settings_from(Cfg(), Settings, prefix="inner_", steps=1).lr == 0.7   # prefix + name
    with pytest.raises(TypeError, match="no fields"):
        settings_from(Cfg(), Settings, nonsense=1)
    with pytest.raises(TypeError):                                # a required field neither copied nor given
        settings_from(Cfg(), Settings, prefix="inner_")
