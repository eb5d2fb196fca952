"""BEAR's shared arm cache: its location is explicit, a corrupt entry is named and recomputed."""

import json

from paperlab.cli import main
from paperlab.rl.bear.experiments import OfflineConfig, arm_store, bear_paths


def test_cache_location_is_explicit(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PAPERLAB_DATA", str(tmp_path / "data"))
    assert bear_paths(OfflineConfig())["arm_cache"] == str(tmp_path / "data" / "bear" / "arm-cache")
    assert bear_paths(OfflineConfig(data_dir=str(tmp_path)))["arm_cache"] == str(tmp_path / "arm-cache")
    assert main(["data", "where", "bear"]) == 0
    assert str(tmp_path / "data" / "bear" / "arm-cache") in capsys.readouterr().out


def test_run_config_records_the_cache(tmp_path, monkeypatch):
    from paperlab.core.registry import get_paper
    from paperlab.core.runner import run_experiment

    exp = get_paper("bear").experiment("offline-benchmark")
    monkeypatch.setattr(exp, "run", lambda run, cfg: {"ok": 1})
    run_dir = run_experiment("bear", "offline-benchmark", scale="tiny", out=tmp_path / "runs",
                             overrides={"data_dir": str(tmp_path)})
    meta = json.loads((run_dir / "config.json").read_text())
    assert meta["paths"] == {"data_dir": str(tmp_path), "arm_cache": str(tmp_path / "arm-cache")}


def test_corrupt_cache_entry_is_named_removed_and_recomputed(tmp_path, capsys):
    store = arm_store(OfflineConfig(data_dir=str(tmp_path)))
    entry = store.path("abc")
    entry.parent.mkdir()
    entry.write_text("{truncated")
    assert store.get("abc") is None
    assert str(entry) in capsys.readouterr().err and not entry.exists()
    entry.write_text(json.dumps({"no_score": 1.0}))   # valid JSON, but not an arm
    assert store.get("abc") is None and not entry.exists()
    store.put("abc", {"normalized_score": 3.0})
    assert store.get("abc") == {"normalized_score": 3.0, "reused_from_cache": str(entry)}
