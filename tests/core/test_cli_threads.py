"""The thread default: a run alone uses the cores it may run on; runs side by side get one thread each."""

import os

import torch

from paperlab.core.registry import get_paper
from paperlab.core.runner import THREADS_ENV, default_threads, resolve_threads
from paperlab.core.runs import load_results
from paperlab.core.sweep import Job, run_parallel_job


def test_a_run_alone_defaults_to_the_cores_it_may_use(monkeypatch):
    monkeypatch.delenv(THREADS_ENV, raising=False)
    assert default_threads() == len(os.sched_getaffinity(0)) >= 1
    assert resolve_threads() == default_threads()


def test_a_parallel_worker_defaults_to_one_thread(toy, tmp_path, monkeypatch):
    monkeypatch.setattr(get_paper("toy").experiment("noisy-mean"), "run",
                        lambda run, cfg: {"torch": torch.get_num_threads()})
    monkeypatch.setenv(THREADS_ENV, "")   # recorded by monkeypatch: the worker's setdefault is undone after
    monkeypatch.delenv(THREADS_ENV)
    one = run_parallel_job(Job("toy", "noisy-mean", "tiny", 0, out=str(tmp_path / "a")))
    assert load_results(one)["torch"] == 1 and os.environ[THREADS_ENV] == "1"
    monkeypatch.setenv(THREADS_ENV, "2")   # an explicit setting (--threads, $PAPERLAB_THREADS) reaches the workers
    two = run_parallel_job(Job("toy", "noisy-mean", "tiny", 0, out=str(tmp_path / "b")))
    assert load_results(two)["torch"] == 2
