"""Per-task replay buffers stored as one array per field, sampled for many tasks in one gather.

PEARL keeps two of these (oyster `MultiTaskReplayBuffer` x2): the RL buffer holds all data of a task, the
encoder buffer only the data of the latest collection for that task (cleared before each collection,
paper Sec. 4.2 "sampling strategies"). Storage is (n_tasks, capacity, dim) with a ring pointer per task.
"""

from __future__ import annotations

import numpy as np

FIELDS = ("obs", "actions", "rewards", "ctx_rewards", "next_obs", "terminals")


class MultiTaskReplayBuffer:
    def __init__(self, n_tasks: int, capacity: int, obs_dim: int, act_dim: int):
        if capacity < 1:
            raise ValueError(f"capacity must be positive, got {capacity}")
        self.n_tasks, self.capacity = n_tasks, capacity
        dims = {"obs": obs_dim, "actions": act_dim, "rewards": 1, "ctx_rewards": 1, "next_obs": obs_dim,
                "terminals": 1}
        self.data = {k: np.zeros((n_tasks, capacity, d), dtype=np.float32) for k, d in dims.items()}
        # episode_start[t, i] is True where a trajectory begins (used for trajectory-shaped context)
        self.episode_start = np.zeros((n_tasks, capacity), dtype=bool)
        self.size = np.zeros(n_tasks, dtype=np.int64)
        self.ptr = np.zeros(n_tasks, dtype=np.int64)
        # collection id of every stored transition, so tests can check what the buffer holds
        self.collection_id = np.full((n_tasks, capacity), -1, dtype=np.int64)

    def clear(self, tasks) -> None:
        tasks = np.atleast_1d(tasks)
        self.size[tasks] = 0
        self.ptr[tasks] = 0
        self.collection_id[tasks] = -1

    def add_trajectories(self, tasks: np.ndarray, traj: dict[str, np.ndarray], valid: np.ndarray,
                         collection_id: int = 0) -> None:
        """Add one lockstep trajectory per task: arrays (n, H, dim), `valid` (n, H) marks real steps."""
        for row, task in enumerate(np.asarray(tasks)):
            steps = np.flatnonzero(valid[row])
            n = len(steps)
            if n == 0:
                continue
            pos = (self.ptr[task] + np.arange(n)) % self.capacity
            for key in FIELDS:
                self.data[key][task, pos] = traj[key][row, steps]
            self.episode_start[task, pos] = False
            self.episode_start[task, pos[0]] = True
            self.collection_id[task, pos] = collection_id
            self.ptr[task] = (self.ptr[task] + n) % self.capacity
            self.size[task] = min(self.size[task] + n, self.capacity)

    def _check(self, tasks: np.ndarray) -> None:
        empty = tasks[self.size[tasks] == 0]
        if len(empty):
            raise ValueError(f"cannot sample from empty buffers of tasks {sorted(set(empty.tolist()))}")

    def sample(self, tasks: np.ndarray, batch_size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Independent uniform transitions per task: arrays (n_tasks, batch_size, dim)."""
        tasks = np.asarray(tasks)
        self._check(tasks)
        idx = (rng.random((len(tasks), batch_size)) * self.size[tasks, None]).astype(np.int64)
        return {k: v[tasks[:, None], idx] for k, v in self.data.items()}

    def sample_trajectories(self, tasks: np.ndarray, batch_size: int, rng: np.random.Generator) -> dict:
        """Whole trajectories laid end to end (the correlated context of the RNN-on-trajectories arm).

        For every task, random trajectory starts are drawn and `batch_size` consecutive transitions are
        read from there in storage order (oyster `random_sequence`).
        """
        tasks = np.asarray(tasks)
        self._check(tasks)
        idx = np.empty((len(tasks), batch_size), dtype=np.int64)
        for row, task in enumerate(tasks):
            size = self.size[task]
            starts = np.flatnonzero(self.episode_start[task, :size])
            start = rng.choice(starts) if len(starts) else 0
            oldest = self.ptr[task] if size == self.capacity else 0  # storage order of a full ring
            offset = (start - oldest) % size
            idx[row] = (oldest + (offset + np.arange(batch_size)) % size) % self.capacity
        return {k: v[tasks[:, None], idx] for k, v in self.data.items()}
