from dataclasses import dataclass

import pytest

from paperlab.core.config import apply_overrides, config_hash, config_to_dict, parse_set_args


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
