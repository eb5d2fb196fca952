"""--precision: resolution of auto (measurement mocked), the cache, autocast applied in every torch paper's
training step, fp32 kept where required (SIREN's first layer, losses, parameters, optimizer state), and the
setting recorded in config.json and in the run identity."""
import json

import numpy as np
import pytest
import torch
from torch import nn

from paperlab.core import precision as P
from paperlab.core.config import config_hash
from paperlab.core.linear import Linear
from paperlab.core.runner import run_experiment, run_identity


@pytest.fixture(autouse=True)
def clean(monkeypatch, tmp_path):
    monkeypatch.delenv(P.PRECISION_ENV, raising=False)
    monkeypatch.setenv(P.CACHE_ENV, str(tmp_path / "cache"))
    monkeypatch.setattr(P, "_memory", {})


# -- resolution --------------------------------------------------------------------------------------
def test_default_is_fp32_and_env_and_argument_choose():
    assert P.resolve_precision() == "fp32"
    assert P.resolve_precision("bf16-mixed") == "bf16-mixed"


def test_env_sets_it_and_bad_values_name_what_is_allowed(monkeypatch):
    monkeypatch.setenv(P.PRECISION_ENV, "bf16-mixed")
    assert P.resolve_precision() == "bf16-mixed"
    monkeypatch.setenv(P.PRECISION_ENV, "fp16")
    with pytest.raises(ValueError, match="'fp16' is not one of fp32, bf16-mixed, auto"):
        P.resolve_precision()
    with pytest.raises(ValueError, match="'half' is not one of"):
        P.resolve_precision("half")


@pytest.mark.parametrize("speedup,expected", [(2.0, "bf16-mixed"), (P.MIN_SPEEDUP, "bf16-mixed"),
                                              (1.1, "fp32"), (0.6, "fp32")])
def test_auto_follows_the_measured_speedup(speedup, expected):
    assert P.resolve_precision("auto", "cpu", speedup=lambda device: speedup) == expected


def test_auto_never_picks_bf16_on_a_device_without_it(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert P.resolve_precision("auto", "cuda", speedup=lambda device: 10.0) == "fp32"


def test_auto_measures_once_per_machine_and_reads_the_cache_afterwards(monkeypatch, tmp_path):
    calls = []

    def fake_measure(device="cpu", repeats=7):
        calls.append(device)
        return {"speedup": 1.9, "ratios": {"matmul": 2.5, "linear": 1.9}, "repeats": repeats}

    monkeypatch.setattr(P, "measure_bf16_speedup", fake_measure)
    assert P.resolve_precision("auto") == "bf16-mixed"
    assert P.resolve_precision("auto") == "bf16-mixed"
    monkeypatch.setattr(P, "_memory", {})          # a new process: reads the disk cache
    assert P.bf16_speedup("cpu") == 1.9
    assert calls == ["cpu"]
    stored = json.loads((tmp_path / "cache" / "precision.json").read_text())
    assert stored[P.machine_key("cpu")]["speedup"] == 1.9


def test_the_measurement_returns_a_positive_ratio_per_workload():
    result = P.measure_bf16_speedup("cpu", repeats=1)
    assert set(result["ratios"]) == {"matmul", "linear"}
    assert result["speedup"] == min(result["ratios"].values()) > 0


# -- autocast applied, fp32 kept -----------------------------------------------------------------------
def test_autocast_follows_the_running_precision():
    layer, big = nn.Linear(8, 4), Linear(256, 512)   # big: above the oneDNN fp32 fast path's size threshold
    x, xb = torch.randn(3, 8), torch.randn(512, 256)
    with P.autocast("cpu"):
        assert layer(x).dtype == torch.float32
    with P.use_precision("bf16-mixed"):
        assert P.current_precision() == "bf16-mixed"
        with P.autocast("cpu"):
            assert layer(x).dtype == torch.bfloat16
            assert big(xb).dtype == torch.bfloat16      # the oneDNN fp32 path steps aside under autocast
            with P.full_precision("cpu"):
                assert layer(x).dtype == torch.float32
    assert P.current_precision() == "fp32"
    with pytest.raises(ValueError, match="resolved precision"):
        with P.use_precision("auto"):
            pass


def _record_linear_dtypes(module: nn.Module) -> list:
    seen = []
    for m in module.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            m.register_forward_hook(lambda mod, inp, out: seen.append(out.dtype))
    return seen


def test_siren_first_layer_and_loss_stay_fp32_under_bf16_mixed():
    from paperlab.siren.models import Siren
    from paperlab.siren.training import fit, supervision_objective

    torch.manual_seed(0)
    model = Siren(2, 1, hidden_features=16, hidden_layers=1)
    coords = torch.rand(64, 2) * 2 - 1
    first = model.sine_layers[0]
    with P.use_precision("bf16-mixed"), P.autocast("cpu"):
        pre = first.preactivation(coords)
        hidden = model.sine_layers[1](torch.sin(pre))
        fields = model.forward_with_derivatives(coords, order=1)
    assert pre.dtype == torch.float32
    torch.testing.assert_close(pre, coords @ (first.linear.weight * 30).t() + first.linear.bias * 30,
                               rtol=1e-6, atol=1e-5)
    assert hidden.dtype == torch.bfloat16        # the hidden layers do run in bf16
    assert fields["value"].dtype == torch.bfloat16

    target = torch.sin(3 * coords[:, :1])
    objective = supervision_objective(coords, target)
    with P.use_precision("bf16-mixed"):
        history = fit(model, objective, steps=3, lr=1e-3)
        seen = _record_linear_dtypes(model)
        fit(model, objective, steps=1, lr=1e-3)
    assert torch.bfloat16 in seen                 # autocast reached the training step
    assert all(np.isfinite(r["loss"]) for r in history)
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_pearl_update_keeps_parameters_and_adam_state_fp32():
    from paperlab.rl.pearl.agent import LearnerSettings, PEARLLearner

    torch.manual_seed(0)
    learner = PEARLLearner(3, 2, 6, LearnerSettings(hidden=(16,), encoder_hidden=(8,)))
    g = torch.Generator().manual_seed(0)
    with P.use_precision("bf16-mixed"):
        losses = learner.update(_pearl_batch(g), torch.randn(2, 5, 6, generator=g), learner.make_noise(2, 8, generator=g))
    assert all(np.isfinite(v) for v in losses.values())
    states = [state for opt in learner.optimizers.values() for state in opt.state.values()]
    assert states and all(v.dtype == torch.float32 for st in states for k, v in st.items() if k != "step")
    for name in ("encoder", "policy", "qf", "vf", "target_vf"):
        assert all(p.dtype == torch.float32 for p in getattr(learner, name).parameters())


def _pearl_batch(g):
    return {"obs": torch.randn(2, 8, 3, generator=g), "actions": torch.rand(2, 8, 2, generator=g) * 2 - 1,
            "rewards": torch.randn(2, 8, 1, generator=g), "next_obs": torch.randn(2, 8, 3, generator=g),
            "terminals": torch.zeros(2, 8, 1)}


def test_pearl_update_runs_its_matmuls_in_bf16(monkeypatch):
    """Every matmul of the update under bf16-mixed sees bf16 operands (counted at the dispatcher)."""
    from torch.utils._python_dispatch import TorchDispatchMode

    from paperlab.rl.pearl.agent import LearnerSettings, PEARLLearner

    matmuls = {torch.ops.aten.mm.default, torch.ops.aten.addmm.default, torch.ops.aten.bmm.default,
               torch.ops.aten.baddbmm.default}

    class Dtypes(TorchDispatchMode):
        seen: set = set()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            if func in matmuls:
                self.seen.add(args[1].dtype)
            return func(*args, **(kwargs or {}))

    def run(precision):
        torch.manual_seed(0)
        learner = PEARLLearner(3, 2, 6, LearnerSettings(hidden=(16,), encoder_hidden=(8,)))
        g = torch.Generator().manual_seed(0)
        batch = _pearl_batch(g)
        mode = Dtypes()
        mode.seen = set()
        with P.use_precision(precision), mode:
            learner.update(batch, torch.randn(2, 5, 6, generator=g), learner.make_noise(2, 8, generator=g))
        return mode.seen

    assert run("fp32") == {torch.float32}
    assert torch.bfloat16 in run("bf16-mixed")


def test_ssl_pretraining_step_autocasts_and_stays_finite():
    from paperlab.ssl.train import PretrainSettings, pretrain_simclr

    images = torch.randint(0, 256, (16, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    cfg = PretrainSettings(encoder="small_cnn", width=4, head_hidden=16, head_out=8, batch_size=8, steps=2,
                           temperature=0.5, optimizer="lars", lr=0.3, weight_decay=1e-6, warmup_fraction=0.25,
                           crop_min_scale=0.2, jitter_strength=0.5, blur_p=0.0, checkpoint_every=100)
    losses = {}
    for precision in ("fp32", "bf16-mixed"):
        records = []
        with P.use_precision(precision):
            encoder, _ = pretrain_simclr(images, cfg, seed=0, log=lambda **r: records.append(r))
        losses[precision] = records[0]["loss"]
        assert all(p.dtype == torch.float32 for p in encoder.parameters())
    # the same first batch: the loss agrees to bf16 accuracy but is not bit-equal (autocast did act)
    assert losses["bf16-mixed"] == pytest.approx(losses["fp32"], rel=0.05)
    assert losses["bf16-mixed"] != losses["fp32"]


def test_bear_training_loop_autocasts_the_update(monkeypatch):
    import paperlab.rl.bear.training as training

    seen = []
    real = training.autocast

    def spy(device):
        ctx = real(device)
        seen.append(ctx.fast_dtype if ctx._enabled else None)
        return ctx

    monkeypatch.setattr(training, "autocast", spy)
    from paperlab.rl.bear.dataset_builder import rollout
    from paperlab.rl.bear.datasets import OfflineDataset

    rng = np.random.default_rng(0)
    arrays = rollout("HalfCheetah-v5", lambda o: rng.uniform(-1, 1, 6).astype(np.float32), 120, seed=0)
    data = OfflineDataset(**arrays, metadata={"env": "HalfCheetah-v5", "kind": "random"})
    settings = training.ArmSettings(hidden=(16, 16), vae_hidden=(16, 16), batch_size=16, warmup_steps=1, updates=3,
                                    eval_every=3, eval_episodes=1, q_probe_every=3, n_probe=8)
    with P.use_precision("bf16-mixed"):
        result = training.train_arm(data, "bc", settings, seed=0)
    assert seen and set(seen) == {torch.bfloat16}
    assert result is not None


# -- recorded in config.json and the identity --------------------------------------------------------
def test_identity_includes_precision_and_fp32_keeps_the_old_identity():
    args = ("siren", "image-fit", "tiny", 0, {"steps": 3})
    legacy = config_hash({"paper": "siren", "experiment": "image-fit", "scale": "tiny", "seed": 0,
                          "config": {"steps": 3}})
    assert run_identity(*args, with_code=False) == legacy
    assert run_identity(*args, with_code=False, precision="fp32") == legacy
    assert run_identity(*args, with_code=False, precision="bf16-mixed") != legacy


def test_run_records_the_resolved_precision_and_runs_in_it(toy, tmp_path, monkeypatch):
    from paperlab.core.runs import read_json

    seen = []
    real = toy.noisy_mean
    monkeypatch.setattr(toy.PAPER.experiment("noisy-mean"), "run",
                        lambda run, cfg: (seen.append(P.current_precision()), real(run, cfg))[1])
    a = run_experiment("toy", "noisy-mean", scale="tiny", out=tmp_path, show_progress=False)
    b = run_experiment("toy", "noisy-mean", scale="tiny", out=tmp_path, show_progress=False, precision="bf16-mixed")
    monkeypatch.setattr(P, "bf16_speedup", lambda device: 3.0)
    c = run_experiment("toy", "noisy-mean", scale="tiny", out=tmp_path, show_progress=False, precision="auto",
                       skip_finished=True)
    ma, mb = read_json(a / "config.json"), read_json(b / "config.json")
    assert (ma["precision"], mb["precision"]) == ("fp32", "bf16-mixed")
    assert ma["identity"] != mb["identity"] and ma["config_identity"] != mb["config_identity"]
    assert seen == ["fp32", "bf16-mixed"]
    assert c == b                                   # auto resolved to bf16-mixed here: the finished run is reused
    assert P.current_precision() == "fp32"


def test_cli_precision_flag_reaches_the_run(toy, tmp_path, capsys):
    from paperlab.cli import main
    from paperlab.core.runs import read_json

    assert main(["run", "toy", "noisy-mean", "--scale", "tiny", "--out", str(tmp_path),
                 "--precision", "bf16-mixed"]) == 0
    (config,) = tmp_path.glob("toy/noisy-mean/*/config.json")
    assert read_json(config)["precision"] == "bf16-mixed"
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "toy", "noisy-mean", "--scale", "tiny", "--out", str(tmp_path / "x"), "--precision", "fp16"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'fp16'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
