"""The SDF and prior losses against the authors' formulation (vsitzmann/siren loss_functions.py)."""

import torch

from paperlab.siren.models import Siren
from paperlab.siren.prior import ImagePrior, PriorConfig
from paperlab.siren.sdf import SDFConfig, sdf_loss


def authors_sdf_loss(model, coords, gt_sdf, gt_normals):
    """The authors' `sdf`: torch.where over the whole batch (-1 marks off-surface points), each term .mean()."""
    coords = coords.clone().requires_grad_(True)
    pred = model(coords)
    grad = torch.autograd.grad(pred.sum(), coords, create_graph=True)[0]
    on = gt_sdf != -1
    sdf_c = torch.where(on, pred, torch.zeros_like(pred))
    inter = torch.where(on, torch.zeros_like(pred), torch.exp(-1e2 * pred.abs()))
    normal = torch.where(on, 1 - torch.nn.functional.cosine_similarity(grad, gt_normals, dim=-1)[..., None],
                         torch.zeros_like(grad[..., :1]))
    eik = (grad.norm(dim=-1) - 1).abs()
    return sdf_c.abs().mean() * 3e3 + inter.mean() * 1e2 + normal.mean() * 1e2 + eik.mean() * 5e1


def test_sdf_loss_matches_authors_averaging():
    torch.manual_seed(0)
    for dim, n_surf, n_space in ((2, 30, 30), (3, 20, 50)):
        model = Siren(dim, 1, 32, 1)
        surface = torch.rand(n_surf, dim) * 2 - 1
        normals = torch.nn.functional.normalize(torch.randn(n_surf, dim), dim=-1)
        space = torch.rand(n_space, dim) * 2 - 1
        ours, _ = sdf_loss(model, surface, normals, space, SDFConfig())
        gt_sdf = torch.cat([torch.zeros(n_surf, 1), -torch.ones(n_space, 1)])
        gt_normals = torch.cat([normals, -torch.ones(n_space, dim)])
        theirs = authors_sdf_loss(model, torch.cat([surface, space]), gt_sdf, gt_normals)
        torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


def test_hypernetwork_weight_penalty_is_mean_square_of_emitted_params():
    cfg = PriorConfig(latent=8, encoder_hidden=8, siren_hidden=8, siren_layers=1, hyper_hidden=8)
    model = ImagePrior("hypernetwork", cfg)
    coords = torch.rand(3, 5, 2) * 2 - 1
    values = torch.rand(3, 5, 1)
    _, code, penalty = model(coords, values, torch.ones(3, 5))
    emitted = torch.cat([head(code).flatten() for head in model.decoder.heads])
    torch.testing.assert_close(penalty, emitted.square().mean())
    assert cfg.hypo_weight == 1e2 and cfg.latent_weight == 0.1      # authors' fw_weight and kl_weight defaults
    cnp = ImagePrior("cnp", cfg)
    assert float(cnp(coords, values, torch.ones(3, 5))[2]) == 0.0
