"""SIREN and the baselines it is compared with (Sitzmann et al. 2020, Sec. 3 and Supplement 1).

All models map coordinates in [-1, 1]^d to signal values and share one interface: `model(coords)`.
SIREN additionally computes its gradient and Laplacian analytically in the same forward pass
(`Siren.forward_with_derivatives`): the derivative of a sine layer is a phase-shifted sine layer
(Sec. 3.1), so the Jacobian and the Laplacian can be pushed forward through the layers with
ordinary tensor ops in one graph instead of nested `autograd.grad` calls.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from paperlab.core.constraints import check_shape
from paperlab.core.linear import Linear, linear, sequential_forward
from paperlab.core.precision import full_precision

METHODS = ("siren", "relu", "tanh", "relu_pe", "rbf_relu")


class SineLayer(nn.Module):
    """y = sin(omega_0 * (W x + b)) with the paper's initialisation (Sec. 3.2, Supplement 1.5).

    First layer: W ~ U(-1/fan_in, 1/fan_in) so that sin(omega_0 W x) spans several periods over [-1, 1].
    Other layers: W ~ U(-sqrt(6/fan_in)/omega_0, +sqrt(6/fan_in)/omega_0), which keeps omega_0 * W x
    standard normal when x follows the arcsine distribution. Biases keep PyTorch's default
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as in the authors' code.

    omega_0 is folded into the matmul as (omega_0 W) x + omega_0 b: one matmul and one sin, the same
    function and parameters as sin(omega_0 * linear(x)) with one fewer elementwise pass each way.
    Every matmul here goes through :mod:`paperlab.core.linear` (oneDNN fp32 on CPU).
    """

    def __init__(self, in_features: int, out_features: int, omega_0: float = 30.0, is_first: bool = False):
        super().__init__()
        self.omega_0 = float(omega_0)
        self.is_first = is_first
        self.linear = Linear(in_features, out_features)
        init_sine_weight(self.linear.weight, omega_0, is_first)

    def preactivation(self, x: torch.Tensor) -> torch.Tensor:
        if self.is_first:   # fp32 even under --precision bf16-mixed: sin(30 x W) on coordinates needs it
            with full_precision(x.device):
                x = x.float() if x.dtype in (torch.bfloat16, torch.float16) else x   # float64 stays float64
                return linear(x, self.linear.weight * self.omega_0, self.linear.bias * self.omega_0)
        return linear(x, self.linear.weight * self.omega_0, self.linear.bias * self.omega_0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.sin(self.preactivation(x))


def sine_weight_bound(fan_in: int, omega_0: float, is_first: bool) -> float:
    """Half-width of the uniform init of a sine layer's weights (Sec. 3.2)."""
    return 1.0 / fan_in if is_first else math.sqrt(6.0 / fan_in) / omega_0


@torch.no_grad()
def init_sine_weight(weight: torch.Tensor, omega_0: float, is_first: bool) -> None:
    bound = sine_weight_bound(weight.shape[1], omega_0, is_first)
    weight.uniform_(-bound, bound)


class Siren(nn.Module):
    """Sinusoidal representation network: `hidden_layers` hidden sine layers between a first sine layer
    and a (by default linear) output layer; 3 hidden layers of 256 is the authors' `SingleBVPNet`."""

    def __init__(self, in_features: int, out_features: int, hidden_features: int = 256, hidden_layers: int = 3,
                 first_omega_0: float = 30.0, hidden_omega_0: float = 30.0, outermost_linear: bool = True):
        super().__init__()
        check_sizes(in_features, out_features, hidden_features, hidden_layers)
        layers = [SineLayer(in_features, hidden_features, first_omega_0, is_first=True)]
        layers += [SineLayer(hidden_features, hidden_features, hidden_omega_0) for _ in range(hidden_layers)]
        self.sine_layers = nn.ModuleList(layers)
        self.outermost_linear = outermost_linear
        if outermost_linear:
            self.last = Linear(hidden_features, out_features)
            init_sine_weight(self.last.weight, hidden_omega_0, is_first=False)  # authors' code: hidden init
        else:
            self.last = SineLayer(hidden_features, out_features, hidden_omega_0)

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        check_shape(coords, ("...", self.sine_layers[0].linear.in_features), "coords", "Siren")
        h = coords
        for layer in self.sine_layers:
            h = layer(h)
        return self.last(h)

    def forward_with_derivatives(self, coords: torch.Tensor, order: int = 2) -> dict[str, torch.Tensor]:
        """Value, gradient (order >= 1) and Laplacian (order 2) of every output channel at `coords` [N, d].

        Forward-mode differentiation through the sine layers (Sec. 3.1: d/dx sin(z) = cos(z) dz/dx):
          a_i = J_{l-1,i} (w W)^T          tangent of the pre-activation along input axis i
          J_{l,i} = cos(z_l) * a_i          Jacobian column i of layer l
          L_l = -sin(z_l) * sum_i a_i^2 + cos(z_l) * (L_{l-1} (w W)^T)   Laplacian of layer l
        The first layer has J_0 = I and L_0 = 0. Everything stays in one autograd graph, so the
        returned derivatives can be used as training targets with a single backward pass.
        Returns {"value": [N, C], "gradient": [N, C, d], "laplacian": [N, C]}.
        """
        if order not in (0, 1, 2):
            raise ValueError(f"order must be 0, 1 or 2, got {order}")
        if coords.dim() != 2:
            raise ValueError(f"coords must have shape [N, d], got {tuple(coords.shape)}")
        h, jac, lap = coords, None, None        # jac: [d, N, width]; lap: [N, width]
        layers = list(self.sine_layers) + ([] if self.outermost_linear else [self.last])
        for layer in layers:
            w = layer.linear.weight * layer.omega_0
            z = layer.preactivation(h) if layer.is_first else linear(h, w, layer.linear.bias * layer.omega_0)
            s = torch.sin(z)
            if order >= 1:
                c = torch.cos(z)
                tangent = w.t().unsqueeze(1) if jac is None else linear(jac, w)  # [d, N or 1, out]
                if order == 2:
                    curvature = -s * tangent.square().sum(0)
                    lap = curvature if lap is None else curvature + c * linear(lap, w)
                jac = c * tangent
            h = s
        out = {"value": h}
        if self.outermost_linear:
            out["value"] = self.last(h)
            if order >= 1:
                jac = linear(jac, self.last.weight)
                if order == 2:
                    lap = linear(lap, self.last.weight)
        if order >= 1:
            out["gradient"] = jac.permute(1, 2, 0)
        if order == 2:
            out["laplacian"] = lap
        return out


def check_sizes(in_features: int, out_features: int, hidden_features: int, hidden_layers: int) -> None:
    for name, value, low in (("in_features", in_features, 1), ("out_features", out_features, 1),
                             ("hidden_features", hidden_features, 1), ("hidden_layers", hidden_layers, 0)):
        if int(value) != value or value < low:
            raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")


class MLP(nn.Module):
    """Plain MLP with one activation; ReLU layers use Kaiming-normal init, tanh layers Xavier-normal
    (the authors' `FCBlock` initialisations); the last layer is linear."""

    def __init__(self, in_features: int, out_features: int, hidden_features: int = 256, hidden_layers: int = 3,
                 activation: str = "relu"):
        super().__init__()
        check_sizes(in_features, out_features, hidden_features, hidden_layers)
        if activation not in ("relu", "tanh"):
            raise ValueError(f"activation must be 'relu' or 'tanh', got {activation!r}")
        widths = [in_features] + [hidden_features] * (hidden_layers + 1) + [out_features]
        layers: list[nn.Module] = []
        for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
            layer = Linear(fan_in, fan_out)
            if activation == "relu":
                nn.init.kaiming_normal_(layer.weight, a=0.0, nonlinearity="relu", mode="fan_in")
            else:
                nn.init.xavier_normal_(layer.weight)
            layers.append(layer)
            if i < len(widths) - 2:
                layers.append(nn.ReLU() if activation == "relu" else nn.Tanh())
        self.net = nn.Sequential(*layers)

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        return sequential_forward(self.net, coords)


def nyquist_frequencies(samples: int) -> int:
    """Number of positional-encoding octaves for a signal with `samples` per axis on [-1, 1]
    (authors' `get_num_frequencies_nyquist`: floor(log2(samples / 4)))."""
    if samples < 4:
        raise ValueError(f"need at least 4 samples per axis for a positional encoding, got {samples}")
    nyquist_rate = 1.0 / (2.0 * (2.0 / samples))
    return int(math.floor(math.log2(nyquist_rate)))


class PositionalEncoding(nn.Module):
    """NeRF-style encoding x -> (x, sin(2^k pi x), cos(2^k pi x)) for k < num_frequencies, per axis."""

    def __init__(self, in_features: int, num_frequencies: int):
        super().__init__()
        if num_frequencies < 1:
            raise ValueError(f"num_frequencies must be >= 1, got {num_frequencies}")
        self.register_buffer("bands", (2.0 ** torch.arange(num_frequencies)) * math.pi)
        self.out_features = in_features * (1 + 2 * num_frequencies)

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        angles = (coords.unsqueeze(-1) * self.bands).flatten(-2)
        return torch.cat([coords, torch.sin(angles), torch.cos(angles)], dim=-1)


class RBFLayer(nn.Module):
    """Gaussian radial basis features exp(-(sigma * |x - c|)^2) with learnable centres c ~ U(-1, 1)
    and learnable widths (authors' `RBFLayer`: 1024 centres, sigma initialised to 10)."""

    def __init__(self, in_features: int, num_centres: int, sigma: float = 10.0):
        super().__init__()
        if num_centres < 1:
            raise ValueError(f"num_centres must be >= 1, got {num_centres}")
        self.centres = nn.Parameter(torch.empty(num_centres, in_features).uniform_(-1.0, 1.0))
        self.sigmas = nn.Parameter(torch.full((num_centres,), float(sigma)))

    def forward(self, coords: torch.Tensor) -> torch.Tensor:
        # |x - c|^2 = |x|^2 - 2 x.c + |c|^2: one [N, d] x [d, K] matmul instead of an [N, K, d] difference
        # tensor built and reduced forward and backward (2.2x faster for the layer at 128^2 and 256 centres).
        # fp32 even under bf16 autocast: the cancellation in that sum needs it (sigma^2 = 100 scales its error)
        with full_precision(coords.device):
            c = self.centres
            x = coords.to(c.dtype)
            sq_dist = (x.square().sum(-1, keepdim=True) - 2 * (x @ c.t()) + c.square().sum(-1)).clamp_min(0.0)
            return torch.exp(-sq_dist * self.sigmas.square())


def build_model(method: str, in_features: int, out_features: int, hidden_features: int = 256,
                hidden_layers: int = 3, first_omega_0: float = 30.0, hidden_omega_0: float = 30.0,
                samples_per_axis: int = 256, rbf_centres: int = 1024) -> nn.Module:
    """One of METHODS with the same width and depth: 'siren', 'relu', 'tanh', 'relu_pe' (positional
    encoding with Nyquist-set octaves for `samples_per_axis`), 'rbf_relu' (RBF layer, then a ReLU MLP)."""
    if method == "siren":
        return Siren(in_features, out_features, hidden_features, hidden_layers, first_omega_0, hidden_omega_0)
    if method in ("relu", "tanh"):
        return MLP(in_features, out_features, hidden_features, hidden_layers, activation=method)
    if method == "relu_pe":
        encoding = PositionalEncoding(in_features, nyquist_frequencies(samples_per_axis))
        return nn.Sequential(encoding, MLP(encoding.out_features, out_features, hidden_features, hidden_layers))
    if method == "rbf_relu":
        return nn.Sequential(RBFLayer(in_features, rbf_centres),
                             MLP(rbf_centres, out_features, hidden_features, max(hidden_layers - 1, 0)))
    raise ValueError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
