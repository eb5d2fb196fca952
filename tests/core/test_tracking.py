"""Trackers: points keyed by each record's step, TensorBoard and MLflow (with stand-in modules, so neither
library is needed)."""

import importlib.machinery
import json
import sys
import types
from collections import namedtuple

import pytest

from paperlab.core.runner import run_experiment
from paperlab.core.tracking import Scalars, open_tracker, resolve_tracker


def test_a_records_step_is_its_x_value_and_each_series_counts_on_its_own():
    scalars = Scalars()
    assert list(scalars.points({"method": "siren", "step": 50, "loss": 0.5})) == [("siren/loss", 0.5, 50)]
    assert list(scalars.points({"iteration": 3, "env_steps": 9000, "final_return": -2.0})) == \
        [("final_return", -2.0, 9000)]  # env_steps comes before iteration; neither is plotted as a metric
    stepless = [{"arm": "a", "acc": 0.1}, {"arm": "b", "acc": 0.2}, {"arm": "a", "acc": 0.3}]
    steps = [p for record in stepless for p in scalars.points(record)]
    assert steps == [("a/acc", 0.1, 0), ("b/acc", 0.2, 0), ("a/acc", 0.3, 1)]
    assert list(scalars.points({"loss": float("nan"), "ok": True, "x": 1.0})) == [("x", 1.0, 0)]


def _fake_module(monkeypatch, name, **attrs):
    module = types.ModuleType(name)
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)  # found by importlib.util.find_spec
    for key, value in attrs.items():
        setattr(module, key, value)
    monkeypatch.setitem(sys.modules, name, module)
    return module


def test_tensorboard_points_continue_after_a_resume(tmp_path, monkeypatch):
    written = []

    class SummaryWriter:
        def __init__(self, log_dir):
            self.log_dir = log_dir

        def add_scalar(self, name, value, step):
            written.append((name, value, step))

        def close(self):
            written.append("closed")

    _fake_module(monkeypatch, "torch.utils.tensorboard", SummaryWriter=SummaryWriter)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "metrics.jsonl").write_text("".join(json.dumps({"time": 1.0, "arm": "a", "acc": v}) + "\n"
                                                   for v in (0.1, 0.2, 0.9)))
    tracker = open_tracker("tensorboard", run_dir, first_step=2)  # the third record was dropped by the resume
    tracker.log(arm="a", acc=0.3)
    tracker.log(method="siren", step=700, loss=0.01)
    tracker.close()
    assert written == [("a/acc", 0.3, 2), ("siren/loss", 0.01, 700), "closed"]


Metric = namedtuple("Metric", "key value timestamp step")
Param = namedtuple("Param", "key value")


class FakeClient:
    """The MlflowClient calls the tracker makes, recorded."""
    instances: list = []

    def __init__(self, tracking_uri):
        self.uri, self.experiments, self.metrics, self.params, self.terminated = tracking_uri, {}, [], [], []
        FakeClient.instances.append(self)

    def get_experiment_by_name(self, name):
        return None

    def create_experiment(self, name):
        self.experiments[name] = "exp-1"
        return "exp-1"

    def create_run(self, experiment_id, run_name):
        self.run_name = run_name
        return types.SimpleNamespace(info=types.SimpleNamespace(run_id="run-1"))

    def log_batch(self, run_id, metrics=(), params=()):
        self.metrics += list(metrics)
        self.params += list(params)

    def set_terminated(self, run_id):
        self.terminated.append(run_id)


def test_mlflow_tracker_logs_config_and_steps_of_a_run(toy, tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    FakeClient.instances.clear()
    _fake_module(monkeypatch, "mlflow", MlflowClient=FakeClient)
    _fake_module(monkeypatch, "mlflow.entities", Metric=Metric, Param=Param)
    assert resolve_tracker("mlflow") == "mlflow"
    run_dir = run_experiment("toy", "noisy-mean", scale="tiny", out=tmp_path / "runs", tracker="mlflow")
    (client,) = FakeClient.instances
    assert client.uri == (tmp_path / "runs" / "mlruns").resolve().as_uri()
    assert client.experiments == {"toy/noisy-mean": "exp-1"} and client.run_name == run_dir.name
    params = dict(client.params)
    assert params["config.n"] == "50" and params["scale"] == "tiny" and params["seed"] == "0"
    logged = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [(m.key, m.step) for m in client.metrics] == [("estimate", 0), ("estimate", 1), ("estimate", 2)]
    assert [m.value for m in client.metrics] == pytest.approx([r["estimate"] for r in logged])
    assert client.terminated == ["run-1"]
    assert json.loads((run_dir / "mlflow_run.json").read_text())["run_id"] == "run-1"


def test_a_tracker_whose_library_is_missing_is_refused_in_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # import of mlflow fails as if not installed
    with pytest.raises(ValueError, match=r"--tracker mlflow needs the mlflow package: pip install 'paperlab\[mlflow\]'"):
        resolve_tracker("mlflow")
