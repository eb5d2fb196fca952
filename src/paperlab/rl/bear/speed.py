"""Updates per second of each BEAR-experiment arm at a scale's settings: the probe that sizes a grid.

Each method is timed in ``--processes`` processes at once (one torch thread each, as ``--executor processes``
runs arms), on synthetic HalfCheetah-shaped batches, past BEAR's warm start; evaluation is timed per 1000
environment steps. It prints a JSON line per method and, for ``--updates``, the minutes an arm takes.

    python -m paperlab.rl.bear.speed --seconds 20                          # CPU, small scale, 1 process
    python -m paperlab.rl.bear.speed --device cuda --processes 12 --seconds 8 --updates 100000
"""
from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import sys
import time
from types import SimpleNamespace

import numpy as np
import torch

DEFAULT_METHODS = ("bear", "bcq", "bear-kl", "kl-control", "sac", "bc", "bear-d4rl")


def _time_method(method: str, scale: str, device: str, seconds: float, eval_steps: int, queue) -> None:
    torch.set_num_threads(1)
    from paperlab.rl.bear.experiments import arm_settings
    from paperlab.rl.bear.paper import PAPER
    from paperlab.rl.bear.training import make_agent, policy_fn
    from paperlab.rl.common.envs import env_dims, make_env
    from paperlab.rl.common.replay import ReplayBuffer

    cfg = PAPER.experiment("offline-benchmark").make_config(scale)
    env_id = cfg.envs[0]
    env = make_env(env_id)
    obs_dim, act_dim = env_dims(env)
    rng = np.random.default_rng(0)
    n = 20_000
    buf = ReplayBuffer.from_arrays(rng.normal(size=(n, obs_dim)), rng.uniform(-1, 1, (n, act_dim)),
                                   rng.normal(size=n), rng.normal(size=(n, obs_dim)), np.zeros(n), device=device)
    torch.manual_seed(0)
    agent = make_agent(method, env_id, obs_dim, act_dim, arm_settings(cfg), device)
    batch = agent.cfg.batch_size
    if hasattr(agent, "steps"):
        agent.steps = 10**9 if method != "kl-control" else 0     # past the warm start; KL-control keeps its parity
    for _ in range(5):
        agent.update(buf.sample(batch))
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start, done = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        agent.update(buf.sample(batch))
        done += 1
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    updates_per_s = done / (time.perf_counter() - start)
    act, (obs, _) = policy_fn(agent), env.reset(seed=0)
    start = time.perf_counter()
    for _ in range(eval_steps):
        obs, _, terminated, truncated, _ = env.step(act(obs.astype(np.float32)))
        if terminated or truncated:
            obs, _ = env.reset()
    queue.put((updates_per_s, (time.perf_counter() - start) / max(eval_steps, 1) * 1000))


def probe(methods=DEFAULT_METHODS, scale: str = "small", device: str = "cpu", processes: int = 1,
          seconds: float = 20.0, eval_steps: int = 200, updates: int | None = None) -> dict:
    """{method: {updates_per_s (mean per process), total_updates_per_s, eval_s_per_1000_steps, minutes_per_arm}}."""
    ctx = mp.get_context("spawn")
    out = {"device": device, "processes": processes, "scale": scale,
           "cpu_capability": torch.backends.cpu.get_cpu_capability()}
    for method in methods:
        if processes == 1:   # in this process (no interpreter start-up)
            results = []
            _time_method(method, scale, device, seconds, eval_steps, SimpleNamespace(put=results.append))
        else:
            queue = ctx.Queue()
            workers = [ctx.Process(target=_time_method, args=(method, scale, device, seconds, eval_steps, queue))
                       for _ in range(processes)]
            for w in workers:
                w.start()
            results = [queue.get() for _ in workers]
            for w in workers:
                w.join()
        rate = float(np.mean([r[0] for r in results]))
        row = {"updates_per_s": round(rate, 1), "total_updates_per_s": round(rate * processes, 1),
               "eval_s_per_1000_steps": round(float(np.mean([r[1] for r in results])), 2)}
        if updates:
            row["minutes_per_arm"] = round(updates / rate / 60, 1)
        out[method] = row
        print(json.dumps({method: row}), flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", default=",".join(DEFAULT_METHODS))
    p.add_argument("--scale", default="small", choices=("tiny", "quick", "small", "paper"))
    p.add_argument("--device", default="cpu")
    p.add_argument("--processes", type=int, default=1)
    p.add_argument("--seconds", type=float, default=20.0, help="timed updates per method and process")
    p.add_argument("--eval-steps", type=int, default=200)
    p.add_argument("--updates", type=int, default=None, help="report the minutes an arm of this many updates takes")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    from paperlab.rl.bear.training import METHODS
    methods = [m for m in args.methods.split(",") if m]
    bad = [m for m in methods if m not in METHODS]
    if bad or args.processes < 1 or args.seconds <= 0:
        print(f"error: --methods must be among {', '.join(METHODS)} (got {', '.join(bad) or 'ok'}); "
              f"--processes >= 1 (got {args.processes}); --seconds > 0 (got {args.seconds})", file=sys.stderr)
        return 2
    result = probe(methods, args.scale, args.device, args.processes, args.seconds, args.eval_steps, args.updates)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
