"""The per-arm speed probe that sizes BEAR grids (rl/bear/speed.py): it runs and rejects bad input."""
from paperlab.rl.bear.speed import main, probe


def test_probe_times_each_method():
    out = probe(["bc", "kl-control"], scale="tiny", seconds=0.2, eval_steps=5, updates=1000)
    assert out["processes"] == 1
    for method in ("bc", "kl-control"):
        row = out[method]
        assert row["updates_per_s"] > 0 and row["total_updates_per_s"] == row["updates_per_s"]
        assert row["minutes_per_arm"] == round(1000 / row["updates_per_s"] / 60, 1)
        assert row["eval_s_per_1000_steps"] > 0


def test_probe_rejects_unknown_methods(capsys):
    assert main(["--methods", "bear,dqn", "--seconds", "1"]) == 2
    assert "dqn" in capsys.readouterr().err
