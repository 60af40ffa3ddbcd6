"""Upscale images 4x with Real-ESRGAN, tile by tile, with progress and cancel.

Backends. Both built-in upscalers run in torch on the worker's device and
dtype, like the diffusion models: realesr-animevideov3 (compact, 0.6 M
parameters, ``engine.esrgan``) and realesrgan-x4plus (RRDBNet, 16.7 M,
``engine.rrdb``), their ncnn weights converted once and cached as safetensors.
On a GPU worker x4plus runs in float16 on the GPU. The ncnn backend runs any
``.param``/``.bin`` pair on the CPU; the tests and benchmarks use it as the
reference the torch conversions are checked against, and a catalog file may
still choose it for a CPU-only worker.

Tiles. The image is cut into near-equal tiles of at most ``UpscaleModel.tile``
input pixels per edge (capped by ``MAX_TILE`` where memory demands it). Each is
upscaled with ``CONTEXT`` extra pixels per side that are cropped away after. The
compact net reaches 18 px, so its tiled output equals an untiled run; RRDB
reaches further, and its tiles differ from one by under 1/255 on average
(upstream Real-ESRGAN pads tiles by 10 px). Output is written tile by tile into
one preallocated uint8 array, so memory is one tile's activations plus the
output itself: 1 MP in stays under 2 GB peak RSS with either model.

Modes. Inputs are converted to RGB. Transparency (RGBA, LA, P or RGB with a
transparent colour) is kept: the networks know nothing of alpha, so the alpha
channel is resized with bicubic and the result is RGBA. Other inputs give RGB.
"""

from __future__ import annotations

import itertools
import math
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

import ncnn
import numpy as np
import torch
from numpy.typing import NDArray
from PIL import Image
from torch.nn import functional as F  # noqa: N812  # torch's own convention

from engine.building import MODULE_BUILDING
from engine.catalog import Catalog, UpscaleModel
from engine.esrgan import SRVGGNetCompact, load_compact, model_paths
from engine.progress import Cancelled, OnStep, ShouldStop
from engine.rrdb import RRDBNet, load_rrdb

MAX_INPUT_PIXELS = 1_048_576  # product rule: 1 MP in, so 16 MP out at most
# Extra input pixels around each tile: the compact net's 18 3x3 convolutions see
# 18 px, so its tiles are exact; more would cost RRDB's small tiles dearly.
CONTEXT = 20
# Largest tile edge per architecture and backend, whatever the catalog asks.
# Peak RSS of a fresh process upscaling 1 MP on the CPU: x4plus through ncnn
# 1.6-1.8 GB at 96 px (winograd buffers at 4x; about 1.35 GB for one 128 px
# tile alone); in torch, float32, 0.78 GB at 128 px, 0.90 at 192, 1.37-1.55 at
# 256, 2.12 at 352. Bigger tiles waste less work on CONTEXT (+36% pixels at
# 256, +46% at 192), so torch takes the largest that stays under 2 GB.
MAX_TILE = {("rrdb", "ncnn"): 96, ("rrdb", "torch"): 256}
# Half precision where the hardware is built for it. The CPU keeps float32,
# the reference ncnn matches: bfloat16 ran x4plus 2.2x faster here, on a CPU
# with AVX512_BF16 that others may lack, but drifts up to 5/255 from ncnn. A
# worker that knows its CPU may pass dtype=torch.bfloat16.
DEFAULT_DTYPES = {"cuda": torch.float16, "mps": torch.float16, "cpu": torch.float32}

Pixels = NDArray[np.uint8]


class InvalidImage(ValueError):  # noqa: N818  # name fixed by the engine contract
    """An input image that cannot be upscaled; the message gives rule and value."""

    code = "INVALID_IMAGE"
    field = "image"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class UpscaleResult:
    """An upscaled image and how it was made."""

    image: Image.Image
    model_id: str
    scale: int
    tiles: int
    seconds: float  # tiling and inference only, not model loading


class Upscaler(ABC):
    """A loaded upscaling network that works one tile at a time."""

    def __init__(self, model: UpscaleModel) -> None:
        self.model = model
        cap = MAX_TILE.get((model.architecture, model.backend), model.tile)
        self.tile = min(model.tile, cap)

    @abstractmethod
    def upscale_tile(self, tile: Pixels) -> Pixels:
        """Upscale an (h, w, 3) uint8 tile to (h * scale, w * scale, 3)."""

    def upscale_array(
        self,
        rgb: Pixels,
        *,
        out: Pixels | None = None,
        on_step: OnStep | None = None,
        should_stop: ShouldStop | None = None,
    ) -> tuple[Pixels, int]:
        """Upscale an (H, W, 3) uint8 array tile by tile; return it and the tiles.

        Args:
            rgb: The input pixels.
            out: Where to write, shaped (H * scale, W * scale, C >= 3); the
                first three channels are filled. Allocated when None.
            on_step: Called after each tile with (tile, total, None).
            should_stop: Checked before each tile; True raises Cancelled.
        """
        height, width, _ = rgb.shape
        scale = self.model.scale
        if out is None:
            out = np.empty((height * scale, width * scale, 3), np.uint8)
        boxes = [
            (y0, y1, x0, x1)
            for y0, y1 in _spans(height, self.tile)
            for x0, x1 in _spans(width, self.tile)
        ]
        for done, (y0, y1, x0, x1) in enumerate(boxes):
            if should_stop is not None and should_stop():
                raise Cancelled(completed_steps=done)
            py0, px0 = max(0, y0 - CONTEXT), max(0, x0 - CONTEXT)
            py1, px1 = min(height, y1 + CONTEXT), min(width, x1 + CONTEXT)
            up = self.upscale_tile(rgb[py0:py1, px0:px1])
            oy, ox = (y0 - py0) * scale, (x0 - px0) * scale
            out[y0 * scale : y1 * scale, x0 * scale : x1 * scale, :3] = up[
                oy : oy + (y1 - y0) * scale, ox : ox + (x1 - x0) * scale
            ]
            if on_step is not None:
                on_step(done + 1, len(boxes), None)
        return out, len(boxes)


class TorchUpscaler(Upscaler):
    """A converted network as a torch module on the worker's device and dtype."""

    def __init__(
        self,
        model: UpscaleModel,
        net: SRVGGNetCompact | RRDBNet,
        device: str,
        dtype: torch.dtype,
    ) -> None:
        super().__init__(model)
        self.net, self.device, self.dtype = net, device, dtype

    def upscale_tile(self, tile: Pixels) -> Pixels:
        """Upscale an (h, w, 3) uint8 tile to (h * scale, w * scale, 3)."""
        height, width, _ = tile.shape
        with torch.inference_mode():
            x = torch.tensor(tile, device=self.device)  # copies: tile may be read-only
            x = x.permute(2, 0, 1).unsqueeze(0).float().div_(255).to(self.dtype)
            y = self.net(x).float()
            if self.model.scale != self.net.upscale:
                # Upstream's x2/x3 variants resize the x4 output the same way.
                size = (height * self.model.scale, width * self.model.scale)
                y = F.interpolate(y, size=size, mode="bicubic", align_corners=False)
            y = y[0].clamp_(0, 1).mul_(255).round_().to(torch.uint8)
            pixels: Pixels = y.permute(1, 2, 0).cpu().numpy()
            return pixels


class NcnnUpscaler(Upscaler):
    """Any Real-ESRGAN ``.param``/``.bin`` pair run by ncnn on the CPU."""

    def __init__(self, model: UpscaleModel) -> None:
        super().__init__(model)
        param, weights = model_paths(model.weights)
        self.net = ncnn.Net()
        # Vulkan needs a loader and GPU absent on CPU workers; ncnn would fall back
        # with a warning, so ask for the CPU path outright.
        self.net.opt.use_vulkan_compute = False
        # ncnn would take every core; follow the thread count the process gave
        # torch, so one setting bounds both CPU backends on a shared machine.
        self.net.opt.num_threads = torch.get_num_threads()
        if self.net.load_param(str(param)) != 0 or self.net.load_model(str(weights)):
            raise RuntimeError(
                f"ncnn could not load {model.weights} from {param.parent}"
            )

    def upscale_tile(self, tile: Pixels) -> Pixels:
        """Upscale an (h, w, 3) uint8 tile to (h * scale, w * scale, 3)."""
        height, width, _ = tile.shape
        x = np.ascontiguousarray(tile.transpose(2, 0, 1), dtype=np.float32) / 255
        extractor = self.net.create_extractor()
        extractor.input("data", ncnn.Mat(x))
        status, mat = extractor.extract("output")
        y = np.asarray(mat)
        expected = (3, height * self.model.scale, width * self.model.scale)
        if status != 0 or y.shape != expected:
            raise RuntimeError(f"ncnn {self.model.weights}: {y.shape} for {expected}")
        pixels: Pixels = np.rint(np.clip(y, 0, 1) * 255).astype(np.uint8)
        return pixels.transpose(1, 2, 0)


def load_upscaler(
    model: UpscaleModel, *, device: str, dtype: torch.dtype, cache_dir: Path
) -> Upscaler:
    """Load one catalog upscaler on its backend (ncnn ignores device and dtype)."""
    if model.backend == "ncnn":
        return NcnnUpscaler(model)
    load = load_compact if model.architecture == "compact" else load_rrdb
    with MODULE_BUILDING:
        net = load(model.weights, cache_dir, device, dtype)
    return TorchUpscaler(model, net, device, dtype)


class UpscalerCache:
    """Upscalers loaded on first use for one device and dtype, kept for the process."""

    def __init__(
        self,
        device: str,
        *,
        cache_dir: Path,
        catalog: Catalog,
        dtype: torch.dtype | None = None,
    ) -> None:
        self.device, self.cache_dir, self.catalog = device, cache_dir, catalog
        # None picks the device's default: float16 on cuda, float32 on the CPU.
        kind = device.split(":")[0]
        self.dtype = DEFAULT_DTYPES.get(kind, torch.float32) if dtype is None else dtype
        self._loaded: dict[str, Upscaler] = {}

    def get(self, model_id: str) -> Upscaler:
        """Return the loaded upscaler for an id, loading it the first time."""
        model = self.catalog.upscaler(model_id)  # raises UnknownModel
        if model_id not in self._loaded:
            self._loaded[model_id] = load_upscaler(
                model, device=self.device, dtype=self.dtype, cache_dir=self.cache_dir
            )
        return self._loaded[model_id]


def upscale(
    upscalers: UpscalerCache,
    image: Image.Image,
    model_id: str,
    on_step: OnStep | None = None,
    should_stop: ShouldStop | None = None,
) -> UpscaleResult:
    """Upscale an image with a catalog upscaler.

    Args:
        upscalers: Loaded upscalers for one device.
        image: Any Pillow image of at most ``MAX_INPUT_PIXELS`` pixels.
        model_id: A catalog upscaler id.
        on_step: Called once per tile with (tile, total, None); 1-based.
        should_stop: Checked before each tile; True raises Cancelled with the
            number of tiles finished.

    Returns:
        The image at ``scale`` times the size: RGBA if the input had
        transparency, else RGB.
    """
    # 1. Check the image, then the id, before loading or computing anything.
    check_image(image)
    upscaler = upscalers.get(model_id)
    scale = upscaler.model.scale
    # 2. Split off alpha; the networks take RGB only.
    alpha = (
        image.convert("RGBA").getchannel("A") if image.has_transparency_data else None
    )
    rgb = np.asarray(image.convert("RGB"))
    # 3. Fill one preallocated output, tile by tile.
    started = time.perf_counter()
    out = np.empty(
        (image.height * scale, image.width * scale, 3 if alpha is None else 4),
        np.uint8,
    )
    _, tiles = upscaler.upscale_array(
        rgb, out=out, on_step=on_step, should_stop=should_stop
    )
    if alpha is not None:
        size = (image.width * scale, image.height * scale)
        out[..., 3] = np.asarray(alpha.resize(size, Image.Resampling.BICUBIC))
    result = Image.fromarray(out, "RGB" if alpha is None else "RGBA")
    return UpscaleResult(
        image=result,
        model_id=model_id,
        scale=scale,
        tiles=tiles,
        seconds=time.perf_counter() - started,
    )


def check_image(image: Image.Image) -> None:
    """Raise InvalidImage unless the image is non-empty, decodable and small enough."""
    width, height = image.size
    if width <= 0 or height <= 0:
        raise InvalidImage(f"image must not be empty; got {width}x{height} pixels")
    if width * height > MAX_INPUT_PIXELS:
        raise InvalidImage(
            f"image must have at most {MAX_INPUT_PIXELS:,} pixels (1 MP);"
            f" got {width}x{height} = {width * height:,}"
        )
    try:
        image.load()  # a truncated or corrupt file fails here, not mid-upscale
    except (OSError, SyntaxError, ValueError) as err:
        # The cause, chained, keeps Pillow's detail for logs; callers may show this.
        raise InvalidImage("image could not be decoded (truncated or corrupt)") from err


def _spans(length: int, tile: int) -> list[tuple[int, int]]:
    """Split 0..length into near-equal spans of at most ``tile``."""
    count = math.ceil(length / tile)
    edges = [length * i // count for i in range(count + 1)]
    return list(itertools.pairwise(edges))
