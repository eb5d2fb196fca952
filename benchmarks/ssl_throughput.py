"""SimCLR training-step throughput: batched kornia augmentations on the model's device vs the
common reference of per-sample augmentation in a Python loop (what a DataLoader's transforms do).

Both implementations draw the same augmentation parameters, so they produce identical views and
identical NT-Xent losses on the same batch (checked and recorded). Cases: small CNN and ResNet-18
(CIFAR stem) at 28x28 (1 channel, Fashion-MNIST) and 32x32 (3 channels, CIFAR), two views of a
batch of --batch-size images; the step with augmentation, the step without it, and augmentation alone.

    python benchmarks/ssl_throughput.py --json benchmarks/results/ssl_throughput.json
"""
from __future__ import annotations

import argparse

import torch

from paperlab.core.benchmark import format_cases, interleaved_times, matmul_flops, matmul_peak_gflops, \
    write_benchmark_json
from paperlab.core.linear import onednn_linear
from paperlab.core.precision import autocast, precision_info, resolve_precision
from paperlab.ssl.augment import AugmentConfig, apply_augment, apply_augment_per_sample, sample_params
from paperlab.ssl.losses import nt_xent_loss
from paperlab.ssl.models import SimCLR, build_encoder
from paperlab.ssl.optim import build_optimizer


def bench_config(encoder: str, width: float, side: int, channels: int, batch: int, repeats: int,
                 peaks: dict) -> list[dict]:
    torch.manual_seed(0)
    images = torch.randint(0, 256, (batch, channels, side, side), dtype=torch.uint8)
    cfg = AugmentConfig(size=side, jitter_strength=0.5, blur_p=0.0)    # SimCLR CIFAR recipe
    model = SimCLR(build_encoder(encoder, channels, width), hidden_dim=512, out_dim=128)
    optimizer = build_optimizer(model, "lars", 0.3, 1e-6)
    gen = torch.Generator().manual_seed(0)

    def views(augment):
        x = images.float() / 255.0
        p1 = sample_params(batch, side, side, channels, cfg, gen)
        p2 = sample_params(batch, side, side, channels, cfg, gen)
        return augment(x, p1, cfg), augment(x, p2, cfg)

    def train_step(v1, v2, precision="fp32"):
        with autocast("cpu", precision):   # fp32: a disabled autocast, the anchor's numerics
            z1, z2 = model(v1), model(v2)
        loss = nt_xent_loss(z1.float(), z2.float(), 0.5)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    # identical loss on the same batch: same parameters, both implementations, same model state
    p1 = sample_params(batch, side, side, channels, cfg, torch.Generator().manual_seed(1))
    p2 = sample_params(batch, side, side, channels, cfg, torch.Generator().manual_seed(2))
    x = images.float() / 255.0
    with torch.no_grad():
        loss_batched = float(nt_xent_loss(model(apply_augment(x, p1, cfg)), model(apply_augment(x, p2, cfg)), 0.5))
        loss_loop = float(nt_xent_loss(model(apply_augment_per_sample(x, p1, cfg)),
                                       model(apply_augment_per_sample(x, p2, cfg)), 0.5))

    fixed = views(apply_augment)

    def reference_step():   # per-sample augmentation and the plain nn.Linear head (torch's default matmul)
        with onednn_linear(False):
            train_step(*views(apply_augment_per_sample))

    auto = resolve_precision("auto", "cpu")
    extra = {"batched_auto": lambda: train_step(*views(apply_augment), auto)} if auto != "fp32" else {}
    timed = interleaved_times({
        "batched": lambda: train_step(*views(apply_augment)), "loop": reference_step, **extra,
        "no_aug": lambda: train_step(*fixed), "aug_batched": lambda: views(apply_augment),
        "aug_loop": lambda: views(apply_augment_per_sample)}, repeats)
    t_batched, t_loop, t_no_aug = timed["batched"], timed["loop"], timed["no_aug"]
    t_aug_batched, t_aug_loop = timed["aug_batched"], timed["aug_loop"]
    step_flops = matmul_flops(lambda: train_step(*fixed))   # convolutions and linears, forward + backward
    n_images = 2 * batch
    name = f"{encoder}(w={width:g}) {side}x{side}x{channels} B={batch}"
    common = {"encoder": encoder, "width": width, "side": side, "channels": channels, "batch": batch,
              "params": sum(p.numel() for p in model.parameters())}
    rows = []
    if extra:   # what --precision auto gives here, against the same fp32 reference
        t_auto = timed["batched_auto"]
        rows.append({"case": f"{name} train step incl. augmentation", "impl": f"batched kornia, {auto} (auto here)",
                     "reference": "per-sample Python loop", **common, "precision": auto,
                     "impl_seconds": t_auto["median"], "reference_seconds": t_loop["median"],
                     "images_per_s": n_images / t_auto["median"],
                     "speedup_vs_reference": t_loop["median"] / t_auto["median"],
                     "speedup_vs_fp32": t_batched["median"] / t_auto["median"]})
    return rows + [
        {"case": f"{name} train step incl. augmentation", "impl": "batched kornia (this library)", "precision": "fp32",
         "reference": "per-sample Python loop", **common,
         "impl_seconds": t_batched["median"], "reference_seconds": t_loop["median"],
         "impl_iqr": t_batched["iqr"], "reference_iqr": t_loop["iqr"],
         "images_per_s": n_images / t_batched["median"], "reference_images_per_s": n_images / t_loop["median"],
         "speedup_vs_reference": t_loop["median"] / t_batched["median"],
         "images_per_s_without_augmentation": n_images / t_no_aug["median"],
         "augmentation_share_of_step": max(0.0, 1 - t_no_aug["median"] / t_batched["median"]),
         "matmul_gflop_per_step": step_flops / 1e9, "gflops": step_flops / t_batched["median"] / 1e9,
         "fraction_of_matmul_peak": step_flops / t_batched["median"] / 1e9 / peaks["onednn_fp32"],
         "loss_batched": loss_batched, "loss_reference": loss_loop,
         "loss_abs_diff": abs(loss_batched - loss_loop)},
        {"case": f"{name} augmentation only (2 views)", "impl": "batched kornia (this library)",
         "reference": "per-sample Python loop", **common,
         "impl_seconds": t_aug_batched["median"], "reference_seconds": t_aug_loop["median"],
         "images_per_s": n_images / t_aug_batched["median"],
         "reference_images_per_s": n_images / t_aug_loop["median"],
         "speedup_vs_reference": t_aug_loop["median"] / t_aug_batched["median"]},
    ]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", required=True, help="output JSON path")
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--small-cnn-width", type=float, default=32)
    parser.add_argument("--resnet-width", type=float, default=0.25,
                        help="ResNet-18 width multiplier (1.0 = 64 base channels; default 0.25 for CPU)")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    peaks = matmul_peak_gflops()
    cases = []
    for encoder, width in (("small_cnn", args.small_cnn_width), ("resnet18", args.resnet_width)):
        for side, channels in ((28, 1), (32, 3)):
            cases += bench_config(encoder, width, side, channels, args.batch_size, args.repeats, peaks)
            print(format_cases(cases[-2:], ["case", "images_per_s", "reference_images_per_s", "speedup_vs_reference"]),
                  flush=True)
    write_benchmark_json(args.json, cases, note=(
        "CPU shared with other engineers' jobs while measured (see machine.load_average); absolute numbers "
        "vary with load, the batched-vs-loop ratio is measured side by side in one process (interleaved). "
        "fraction_of_matmul_peak: conv+linear FLOPs of the step without augmentation over the full step time, "
        "relative to oneDNN's measured fp32 matmul peak (the convolutions run on oneDNN). Rows marked '(auto here)' "
        "time the same step under bf16 autocast, where --precision auto picks it on this machine."), matmul_peak=peaks,
        precision=precision_info("cpu"),
        command="python benchmarks/ssl_throughput.py " + " ".join(argv or []))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
