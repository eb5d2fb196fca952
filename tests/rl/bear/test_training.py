"""Training loop on tiny MuJoCo datasets written here: exact resume from an in-arm checkpoint, alpha/MMD curves,
terminal handling on Hopper; the naive-q-diverges judge on synthetic arm results."""
import numpy as np
import pytest
import torch

from paperlab.core.claims import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED
from paperlab.rl.bear.dataset_builder import rollout
from paperlab.rl.bear.datasets import OfflineDataset
from paperlab.rl.bear.claims import judge_q_divergence
from paperlab.rl.bear.training import ArmSettings, train_arm

TINY = ArmSettings(hidden=(16, 16), vae_hidden=(16, 16), batch_size=16, warmup_steps=5, updates=30, eval_every=15,
                   eval_episodes=1, q_probe_every=5, n_probe=32)


def tiny_dataset(env_id: str, n: int = 300, seed: int = 0) -> OfflineDataset:
    rng = np.random.default_rng(seed)
    act_dim = {"HalfCheetah-v5": 6, "Hopper-v5": 3}[env_id]
    arrays = rollout(env_id, lambda o: rng.uniform(-1, 1, act_dim).astype(np.float32), n, seed=seed)
    return OfflineDataset(**arrays, metadata={"env": env_id, "kind": "random"})


@pytest.fixture(scope="module")
def cheetah():
    return tiny_dataset("HalfCheetah-v5")


class Killed(Exception):
    pass


@pytest.mark.parametrize("method", ["bear", "bcq", "bc", "sac"])
def test_killed_arm_resumes_bit_for_bit(tmp_path, cheetah, method):
    """A kill at update 25 loses only the updates since the checkpoint at 20; the resumed arm's curves (Q
    estimates, evaluation returns, alpha/MMD) equal an uninterrupted run's exactly."""
    reference = train_arm(cheetah, method, TINY, seed=3)
    ckpt = tmp_path / "arm.ckpt.pt"

    def kill_at_25(**record):
        if record.get("step", 0) >= 25:
            raise Killed
    with pytest.raises(Killed):
        train_arm(cheetah, method, TINY, seed=3, log=kill_at_25, checkpoint=ckpt, checkpoint_every=10)
    assert torch.load(ckpt, weights_only=True)["step"] == 20
    records = []
    resumed = train_arm(cheetah, method, TINY, seed=3, log=lambda **r: records.append(r), checkpoint=ckpt,
                        checkpoint_every=10)
    assert records[0] == {"method": method, "step": 20, "resumed_from_checkpoint": str(ckpt)}
    assert resumed == reference
    assert not ckpt.exists()                      # removed once the arm finished


def test_bear_records_alpha_and_mmd_per_probe(cheetah):
    result = train_arm(cheetah, "bear", TINY, seed=0)
    curve = np.asarray(result["constraint_curve"])
    assert curve[:, 0].tolist() == [5, 10, 15, 20, 25, 30]
    assert np.all(curve[:, 1] > 0) and np.all(curve[:, 2] > 0)           # alpha = exp(log alpha), MMD >= 1e-3
    assert train_arm(cheetah, "bc", TINY, seed=0)["constraint_curve"] == []


def test_hopper_terminals_end_episodes_and_stop_bootstrapping():
    data = tiny_dataset("Hopper-v5", n=400)
    assert data.terminals.sum() >= 1                      # random Hopper falls within 400 steps
    ends = np.flatnonzero(data.episode_ends)
    assert set(np.flatnonzero(data.terminals)) <= set(ends)
    result = train_arm(data, "bear", TINY, seed=0)
    assert np.isfinite(result["normalized_score"]) and result["mc_return"] != 0


def _arm(q, g, updates=25_000, gamma=0.99, tau=0.005):
    return {"q_curve": [[updates, q, g]], "mc_return": g, "gamma": gamma, "tau": tau,
            "eval_curve": [[updates, 0.0, 0.0]], "normalized_score": 0.0}


def _runs(sac_q, bear_q, g=400.0, **kw):
    return {"q-divergence": [{"scores": {"HalfCheetah-v5": {"medium": {"sac": 0.0, "bear": 0.0}}},
                              "arms": {"HalfCheetah-v5/medium/sac": _arm(s, g, **kw),
                                       "HalfCheetah-v5/medium/bear": _arm(b, g, **kw)}}
                             for s, b in zip(sac_q, bear_q)]}


def test_q_divergence_judge_against_monte_carlo_return():
    assert judge_q_divergence(_runs([1500, 2000, 1800], [380, 420, 450])).verdict == REPRODUCED
    assert judge_q_divergence(_runs([1500, float("nan"), 1800], [380, 420, 450])).verdict == REPRODUCED
    assert judge_q_divergence(_runs([450, 500, 420], [380, 420, 450])).verdict == NOT_REPRODUCED   # no blow-up
    assert judge_q_divergence(_runs([1500, 2000, 1800], [1500, 1700, 1600])).verdict == NOT_REPRODUCED  # BEAR too
    assert judge_q_divergence(_runs([300, 2000, 1800], [380, 420, 450])).verdict == INCONCLUSIVE   # one seed below


def test_q_divergence_judge_precondition():
    short = judge_q_divergence(_runs([1500, 2000, 1800], [380, 420, 450], updates=2_000))
    assert short.verdict == INCONCLUSIVE and "1/((1-gamma) tau)" in short.note
    near_zero = judge_q_divergence(_runs([1500, 2000, 1800], [380, 420, 450], g=0.5))
    assert near_zero.verdict == INCONCLUSIVE and "within 1 of 0" in near_zero.note
    one_seed = judge_q_divergence(_runs([1500], [400]))
    assert one_seed.verdict == INCONCLUSIVE and "seed" in one_seed.note


def test_arm_locks_exclude_a_second_owner_and_take_over_stale_ones(tmp_path):
    """BEAR's arm and dataset locks are the core's RunLock: try_acquire refuses a live owner, takes a dead one's."""
    import json
    import socket
    import subprocess
    import sys

    from paperlab.core.runs import RunLock
    lock, other = RunLock(tmp_path / "arm.lock"), RunLock(tmp_path / "arm.lock")
    assert lock.try_acquire() and not other.try_acquire()   # held by a live process (this one)
    lock.release()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    lock.path.write_text(json.dumps({"host": socket.gethostname(), "pid": int(dead.stdout)}))
    assert other.try_acquire()                               # its owner exited: stale, taken over
    assert json.loads(other.path.read_text())["pid"] != int(dead.stdout)


def test_small_scale_grid_shares_arms_and_adds_seeds_only_where_planned():
    """The small plan (issue 30): the benchmark trains random + medium x 6 methods x 3 seeds, plus BEAR and BC on
    medium for seeds 3-5; the other claims reuse those arms (same key) and add only medium-replay's."""
    from paperlab.rl.bear.experiments import _arm_key, arm_settings, build_config, seed_grid
    from paperlab.rl.bear.paper import PAPER

    def keys(name, seeds):
        cfg = PAPER.experiment(name).make_config("small")
        out = set()
        for seed in range(seeds):
            kinds, methods = seed_grid(cfg, seed)
            out |= {(kind, _arm_key(build_config(cfg, env), kind, m, arm_settings(cfg), seed, "cpu"))
                    for env in cfg.envs for kind in kinds for m in methods}
        return out
    seeds = {claim.experiments[0]: claim.seeds for claim in PAPER.claims}
    assert seeds == {"offline-benchmark": 6, "q-divergence": 3, "mmd-vs-kl": 3, "support-vs-distribution": 6}
    benchmark = keys("offline-benchmark", 6)
    assert len(benchmark) == 2 * 6 * 3 + 3 * 2          # (random, medium) x 6 methods x 3 seeds + medium BEAR/BC x 3
    extra = set()
    for name in ("q-divergence", "mmd-vs-kl", "support-vs-distribution"):
        arms = keys(name, seeds[name])
        assert {a for a in arms if a[0] != "medium-replay"} <= benchmark, name
        extra |= arms - benchmark
    assert {kind for kind, _ in extra} == {"medium-replay"} and len(extra) == 3 * 3   # BEAR, BEAR-KL, BC x 3 seeds


def test_none_keeps_each_agents_default_and_zero_is_a_value():
    """'Use the default' is None (as PEARL's configs): 0 is a real value (no warm start), not a sentinel."""
    from paperlab.core.constraints import validate_config
    from paperlab.rl.bear.agents import bear_config
    from paperlab.rl.bear.experiments import OfflineConfig
    from paperlab.rl.bear.training import make_agent
    authors = bear_config("authors")
    default = make_agent("bear", "Pendulum-v1", 3, 1, ArmSettings(), "cpu").cfg
    assert (default.warmup_steps, default.lagrange_lr, default.batch_size, tuple(default.actor_hidden)) == \
        (authors.warmup_steps, authors.lagrange_lr, authors.batch_size, tuple(authors.actor_hidden))
    set_ = make_agent("bear", "Pendulum-v1", 3, 1, ArmSettings(warmup_steps=0, lagrange_lr=1e-2, hidden=(8,)), "cpu").cfg
    assert (set_.warmup_steps, set_.lagrange_lr, tuple(set_.actor_hidden)) == (0, 1e-2, (8,))
    for bad in ({"warmup_steps": -1}, {"batch_size": 0}, {"lagrange_lr": 0.0}, {"hidden": ()}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            validate_config(OfflineConfig(**bad))


def test_make_agent_builds_kl_control_and_the_d4rl_preset():
    from paperlab.rl.bear.agents import BEARVariant
    from paperlab.rl.bear.kl_control import KLControl
    from paperlab.rl.bear.training import ArmSettings, make_agent
    s = ArmSettings(hidden=(8, 8), vae_hidden=(8, 8), warmup_steps=500, gamma=0.99)
    kl = make_agent("kl-control", "HalfCheetah-v5", 17, 6, s, "cpu")
    assert isinstance(kl, KLControl) and kl.cfg.gamma == 0.98 and tuple(kl.cfg.behaviour_hidden) == (8, 8)
    d4rl = make_agent("bear-d4rl", "HalfCheetah-v5", 17, 6, s, "cpu")
    assert isinstance(d4rl, BEARVariant)
    # the warm start scales like the authors' (500 of their 20k) keeping the preset's 40k ratio
    assert (d4rl.cfg.warmup_steps, d4rl.cfg.kernel, d4rl.cfg.mmd_sigma) == (1000, "gaussian", 20.0)
    assert make_agent("bear", "HalfCheetah-v5", 17, 6, s, "cpu").cfg.warmup_steps == 500
