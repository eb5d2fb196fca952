"""Meta-RL task families with a batched, task-conditioned environment API.

A `TaskFamily` samples task parameters (deterministically from a seed) and builds a `TaskBatch`: one
environment per task, stepped in lockstep with actions of shape (n_tasks, act_dim) in [-1, 1]. The point
robots are pure NumPy and fully vectorised across tasks (PEARL appendix / oyster `point_robot.py`);
the MuJoCo families wrap gymnasium's v5 environments with the task reward of the authors' `rlkit/envs`.

Every `step` returns (obs, reward, context_reward, done, info): `context_reward` is what the encoder
sees (the sparse reward on sparse-point-robot, the reward elsewhere) and `done` marks termination.
Episodes have a fixed horizon; an environment that terminates early sits out the rest of its episode
(`active` mask) so that trajectories of all tasks stay aligned.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np


class TaskBatch:
    """Lockstep environments, one per task. Subclasses implement `_reset` and `_step`."""

    obs_dim: int
    act_dim: int

    def __init__(self, n_tasks: int, horizon: int):
        self.n_tasks = n_tasks
        self.horizon = horizon
        self.active = np.ones(n_tasks, dtype=bool)
        self.t = 0

    def reset(self) -> np.ndarray:
        self.active[:] = True
        self.t = 0
        return self._reset()

    def step(self, actions: np.ndarray):
        actions = np.clip(np.asarray(actions, dtype=np.float64), -1.0, 1.0)
        if actions.shape != (self.n_tasks, self.act_dim):
            raise ValueError(f"actions must have shape {(self.n_tasks, self.act_dim)}, got {actions.shape}")
        valid = self.active.copy()
        obs, reward, ctx_reward, done, info = self._step(actions)
        self.active &= ~done
        self.t += 1
        info["valid"] = valid  # which tasks really took this step (the others finished their episode)
        return obs, reward, ctx_reward, done, info

    def _reset(self) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def _step(self, actions: np.ndarray):  # pragma: no cover - interface
        raise NotImplementedError


# ----------------------------------------------------------------------------------------------------
# Point robots (pure NumPy, vectorised over tasks)
# ----------------------------------------------------------------------------------------------------
class PointRobotBatch(TaskBatch):
    """2-D point with position control: s' = s + 0.1·a, reward = -‖s' - goal‖ (oyster `PointEnv`).

    `sparse_radius` turns on the sparse reward of `SparsePointEnv`: r_sparse = r + 1 inside the goal
    radius and 0 outside; the dense reward is still returned for the RL update, as in the authors' code.
    """

    obs_dim = 2
    act_dim = 2
    max_action = 0.1  # oyster: action space Box(-0.1, 0.1)

    def __init__(self, goals: np.ndarray, horizon: int = 20, sparse_radius: float | None = None,
                 start_at_origin: bool = False, rng: np.random.Generator | None = None):
        goals = np.asarray(goals, dtype=np.float64).reshape(-1, 2)
        super().__init__(len(goals), horizon)
        self.goals = goals
        self.sparse_radius = sparse_radius
        self.start_at_origin = start_at_origin
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.state = np.zeros_like(goals)

    def _reset(self) -> np.ndarray:
        if self.start_at_origin:
            self.state = np.zeros_like(self.goals)
        else:  # oyster PointEnv.reset_model: uniform on the unit square
            self.state = self.rng.uniform(-1.0, 1.0, size=self.goals.shape)
        return self.state.copy()

    def _step(self, actions: np.ndarray):
        self.state = self.state + self.max_action * actions
        dist = np.linalg.norm(self.state - self.goals, axis=1)
        reward = -dist
        success = np.zeros(self.n_tasks, dtype=bool)
        ctx_reward = reward
        if self.sparse_radius is not None:
            success = dist <= self.sparse_radius
            ctx_reward = sparse_reward(reward, self.sparse_radius)
        done = np.zeros(self.n_tasks, dtype=bool)
        return self.state.copy(), reward, ctx_reward, done, {"success": success}


def sparse_reward(dense: np.ndarray, radius: float) -> np.ndarray:
    """oyster `SparsePointEnv`: -dist + 1 inside the goal radius, 0 outside."""
    dense = np.asarray(dense, dtype=np.float64)
    return np.where(dense >= -radius, dense + 1.0, 0.0)


# ----------------------------------------------------------------------------------------------------
# MuJoCo families on gymnasium v5
# ----------------------------------------------------------------------------------------------------
class MujocoTaskBatch(TaskBatch):
    """One gymnasium v5 env per task; `task_reward(info, action, task, env)` replaces the env's reward."""

    def __init__(self, env_id: str, tasks: list[dict], horizon: int, task_reward: Callable,
                 configure: Callable | None = None, env_kwargs: dict | None = None,
                 terminate: bool = False, seed: int = 0):
        import gymnasium as gym

        super().__init__(len(tasks), horizon)
        self.tasks = tasks
        self.task_reward = task_reward
        self.terminate = terminate
        self.envs = [gym.make(env_id, **(env_kwargs or {})).unwrapped for _ in tasks]
        if configure is not None:
            for env, task in zip(self.envs, tasks):
                configure(env, task)
        self.obs_dim = int(self.envs[0].observation_space.shape[0])
        self.act_dim = int(self.envs[0].action_space.shape[0])
        self.low = self.envs[0].action_space.low
        self.high = self.envs[0].action_space.high
        self.seed = seed
        self.n_resets = 0
        self.last_obs = np.zeros((self.n_tasks, self.obs_dim))

    def _reset(self) -> np.ndarray:
        obs = [env.reset(seed=self.seed * 100_003 + self.n_resets * 1009 + i)[0] for i, env in enumerate(self.envs)]
        self.n_resets += 1
        self.last_obs = np.stack(obs)
        return self.last_obs.copy()

    def _step(self, actions: np.ndarray):
        scaled = self.low + (actions + 1.0) * 0.5 * (self.high - self.low)
        obs = self.last_obs.copy()
        reward = np.zeros(self.n_tasks)
        done = np.zeros(self.n_tasks, dtype=bool)
        for i, env in enumerate(self.envs):
            if not self.active[i]:
                continue
            o, _, terminated, _, info = env.step(scaled[i])
            obs[i] = o
            reward[i] = self.task_reward(info, scaled[i], self.tasks[i], env)
            if self.terminate and terminated:
                done[i] = True
        self.last_obs = obs
        return obs.copy(), reward, reward, done, {"success": np.zeros(self.n_tasks, dtype=bool)}


def _ctrl_cost(action: np.ndarray, weight: float) -> float:
    return weight * float(np.sum(np.square(action)))


def _contact_cost(env: Any) -> float:
    # oyster ant/humanoid: 0.5e-3 * sum(clip(cfrc_ext, -1, 1)^2)
    return 0.5 * 1e-3 * float(np.sum(np.square(np.clip(env.data.cfrc_ext, -1, 1))))


def cheetah_vel_reward(info, action, task, env) -> float:
    # oyster half_cheetah_vel.py: -|v_x - v_goal| - 0.05 ||a||^2
    return -abs(info["x_velocity"] - task["velocity"]) - _ctrl_cost(action, 0.05)


def cheetah_dir_reward(info, action, task, env) -> float:
    # oyster half_cheetah_dir.py: d * v_x - 0.05 ||a||^2
    return task["direction"] * info["x_velocity"] - _ctrl_cost(action, 0.05)


def ant_dir_reward(info, action, task, env) -> float:
    # oyster ant_dir.py: v·(cos θ, sin θ) - 0.5 ||a||^2 - contact cost + 1 (survive)
    theta = task["angle"]
    forward = info["x_velocity"] * np.cos(theta) + info["y_velocity"] * np.sin(theta)
    return forward - _ctrl_cost(action, 0.5) - _contact_cost(env) + 1.0


def ant_goal_reward(info, action, task, env) -> float:
    # oyster ant_goal.py: -L1(xy, goal) - 0.1 ||a||^2 - contact cost
    xy = np.array([info["x_position"], info["y_position"]])
    return -float(np.sum(np.abs(xy - task["goal"]))) - _ctrl_cost(action, 0.1) - _contact_cost(env)


def humanoid_dir_reward(info, action, task, env) -> float:
    # oyster humanoid_dir.py: 0.25 * COM velocity along θ - 0.1 ||a||^2 - impact cost + 5 alive
    theta = task["angle"]
    forward = info["x_velocity"] * np.cos(theta) + info["y_velocity"] * np.sin(theta)
    impact = min(0.5e-6 * float(np.sum(np.square(env.data.cfrc_ext))), 10.0)
    return 0.25 * forward - _ctrl_cost(action, 0.1) - impact + 5.0


def forward_reward(info, action, task, env) -> float:
    # walker/hopper-rand-params: the env's usual forward + alive - ctrl reward
    return float(info["reward_forward"] + info.get("reward_survive", 0.0) + info.get("reward_ctrl", 0.0))


def configure_rand_params(env: Any, task: dict) -> None:
    """rand_param_envs: body mass / inertia scaled by 1.5^u, damping / friction by 1.3^u, u ~ U[-3, 3]."""
    model = env.model
    if not hasattr(env, "_pearl_base_params"):
        env._pearl_base_params = {k: getattr(model, k).copy() for k in
                                  ("body_mass", "body_inertia", "dof_damping", "geom_friction")}
    base = env._pearl_base_params
    model.body_mass[:] = base["body_mass"] * task["body_mass"]
    model.body_inertia[:] = base["body_inertia"] * task["body_inertia"]
    model.dof_damping[:] = base["dof_damping"] * task["dof_damping"]
    model.geom_friction[:] = base["geom_friction"] * task["geom_friction"]


# ----------------------------------------------------------------------------------------------------
# Families
# ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskFamily:
    """A distribution over tasks plus how to build the lockstep environments for a list of tasks."""

    name: str
    horizon: int
    sample: Callable[[np.random.Generator, int], list[dict]]
    build: Callable[[list[dict], int, np.random.Generator], TaskBatch]
    sparse: bool = False

    def split(self, n_train: int, n_test: int, seed: int = 1337) -> tuple[list[dict], list[dict]]:
        """Deterministic train/test tasks (oyster seeds task sampling with 1337)."""
        if n_train < 1 or n_test < 1:
            raise ValueError(f"need at least one train and one test task, got {n_train}/{n_test}")
        tasks = self.sample(np.random.default_rng(seed), n_train + n_test)
        return tasks[:n_train], tasks[n_train:]

    def make(self, tasks: list[dict], seed: int = 0) -> TaskBatch:
        if not tasks:
            raise ValueError(f"{self.name}: make() needs at least one task")
        return self.build(tasks, self.horizon, np.random.default_rng(seed))


def _point_goals(rng, n):
    # oyster PointEnv(randomize_tasks=True): goals uniform in [-1, 1]^2
    return [{"goal": g} for g in rng.uniform(-1.0, 1.0, size=(n, 2))]


def _half_circle_goals(rng, n):
    # oyster SparsePointEnv: n goals evenly spaced on the unit half circle, shuffled
    angles = np.linspace(0.0, np.pi, num=n)
    goals = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    rng.shuffle(goals)
    return [{"goal": g} for g in goals]


def _uniform_tasks(key, low, high):
    return lambda rng, n: [{key: float(v)} for v in rng.uniform(low, high, size=n)]


def _directions(rng, n):
    # cheetah-dir / paper ant-dir: forward (+1) or backward (-1)
    return [{"direction": float(d)} for d in rng.choice([-1.0, 1.0], size=n)]


def _ant_goals(rng, n):
    # oyster ant_goal.py: uniform in a disc of radius 3 (r = 3 sqrt(u))
    a = rng.uniform(0, 2 * np.pi, size=n)
    r = 3.0 * np.sqrt(rng.uniform(0, 1, size=n))
    return [{"goal": np.array([r_ * np.cos(a_), r_ * np.sin(a_)])} for r_, a_ in zip(r, a)]


def _rand_params(rng, n):
    return [{"body_mass": 1.5 ** rng.uniform(-3, 3), "body_inertia": 1.5 ** rng.uniform(-3, 3),
             "dof_damping": 1.3 ** rng.uniform(-3, 3), "geom_friction": 1.3 ** rng.uniform(-3, 3)}
            for _ in range(n)]


def _mujoco(env_id, reward, configure=None, env_kwargs=None, terminate=False):
    def build(tasks, horizon, rng):
        return MujocoTaskBatch(env_id, tasks, horizon, reward, configure, env_kwargs, terminate,
                               seed=int(rng.integers(2**31)))
    return build


FAMILIES: dict[str, TaskFamily] = {
    "point-robot": TaskFamily(
        "point-robot", 20, _point_goals,
        lambda tasks, h, rng: PointRobotBatch(np.stack([t["goal"] for t in tasks]), h, None, False, rng)),
    "sparse-point-robot": TaskFamily(
        "sparse-point-robot", 20, _half_circle_goals,
        lambda tasks, h, rng: PointRobotBatch(np.stack([t["goal"] for t in tasks]), h, 0.2, True, rng),
        sparse=True),
    "cheetah-vel": TaskFamily("cheetah-vel", 200, _uniform_tasks("velocity", 0.0, 3.0),
                              _mujoco("HalfCheetah-v5", cheetah_vel_reward)),
    "cheetah-dir": TaskFamily("cheetah-dir", 200, _directions, _mujoco("HalfCheetah-v5", cheetah_dir_reward)),
    "ant-dir": TaskFamily("ant-dir", 200, _uniform_tasks("angle", 0.0, 2 * np.pi),
                          _mujoco("Ant-v5", ant_dir_reward, terminate=True)),
    "ant-goal": TaskFamily("ant-goal", 200, _ant_goals,
                           # Ant-v5 observations include the contact forces by default (as oyster's ant-goal)
                           _mujoco("Ant-v5", ant_goal_reward, env_kwargs={"include_cfrc_ext_in_observation": True})),
    "humanoid-dir": TaskFamily("humanoid-dir", 200, _uniform_tasks("angle", 0.0, 2 * np.pi),
                               _mujoco("Humanoid-v5", humanoid_dir_reward, terminate=True)),
    "walker-rand-params": TaskFamily("walker-rand-params", 200, _rand_params,
                                     _mujoco("Walker2d-v5", forward_reward, configure_rand_params, terminate=True)),
    "hopper-rand-params": TaskFamily("hopper-rand-params", 200, _rand_params,
                                     _mujoco("Hopper-v5", forward_reward, configure_rand_params, terminate=True)),
}


def get_family(name: str) -> TaskFamily:
    if name not in FAMILIES:
        raise ValueError(f"unknown task family {name!r}; valid: {', '.join(FAMILIES)}")
    return FAMILIES[name]
