"""Adapt plain progress and cancel callables to the diffusers step hook.

A pipeline call may carry several requests (batching); each has its own
`on_step`, `should_stop`, preview interval and latent rows. `StepHook` is the
one `callback_on_step_end` that serves them all, and `request_interrupt` is the
one place that touches the pipeline's private interrupt flag.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from PIL import Image

from engine.catalog import Family

OnStep = Callable[[int, int, Image.Image | None], None]  # step 1..total, total, preview
ShouldStop = Callable[[], bool]
# A phase of one pipeline call ("load", "denoise", "decode") as it ended: its
# name and its start and end in time.time_ns(), for a caller's traces.
OnPhase = Callable[[str, int, int], None]

# Least-squares projections from the 4 latent channels to RGB, for VAEs trained
# like SD's (the factors ComfyUI and A1111 use). The tiny random VAE gives noise.
_SD15_RGB = (
    (0.3512, 0.2297, 0.3227),
    (0.3250, 0.4974, 0.2350),
    (-0.2829, 0.1762, 0.2721),
    (-0.2120, -0.2616, -0.7177),
)
_SDXL_RGB = (
    (0.3651, 0.4232, 0.4341),
    (-0.2533, -0.0042, 0.1068),
    (0.1076, 0.1111, -0.0362),
    (-0.3165, -0.2492, -0.2188),
)
LATENT_RGB: dict[Family, tuple[tuple[float, float, float], ...]] = {
    Family.SD15: _SD15_RGB,
    Family.SD2: _SD15_RGB,  # SD 2.x kept the SD 1.x VAE
    Family.SDXL: _SDXL_RGB,
}
LATENT_RGB_BIAS: dict[Family, tuple[float, float, float]] = {
    Family.SD15: (0.0, 0.0, 0.0),
    Family.SD2: (0.0, 0.0, 0.0),
    Family.SDXL: (0.1084, -0.0175, -0.0011),
}


class Cancelled(Exception):  # noqa: N818 - name fixed by the engine contract
    """Raised when should_stop returned True; no images are returned."""

    def __init__(self, completed_steps: int) -> None:
        super().__init__(f"cancelled after {completed_steps} step(s)")
        self.completed_steps = completed_steps


def latent_preview(latents: torch.Tensor, family: Family) -> Image.Image:
    """Project one image's latents (C,h,w), or the first of a batch, to a small RGB image.

    Args:
        latents: Latents of shape (4, h, w) or (B, 4, h, w), in model space.
        family: Picks the projection factors.

    Returns:
        An RGB image of 1/8 the output size; costs well under 1 ms at 512 px.
    """
    if latents.ndim == 4:
        latents = latents[0]
    factors = torch.tensor(LATENT_RGB[family], device=latents.device)
    bias = torch.tensor(LATENT_RGB_BIAS[family], device=latents.device)
    rgb = torch.einsum("chw,cr->hwr", latents.float(), factors) + bias
    pixels = ((rgb + 1.0) * 127.5).clamp(0, 255).to(torch.uint8).cpu().numpy()
    return Image.fromarray(np.ascontiguousarray(pixels), mode="RGB")


def request_interrupt(pipe: Any) -> None:
    """Make a diffusers pipeline skip its remaining denoising steps."""
    # diffusers has no public stop call: its loops test `self.interrupt`, which
    # reads `_interrupt`, at the top of each step and skip the step when set.
    pipe._interrupt = True


@dataclass
class StepListener:
    """One request's share of a pipeline call: its rows, callbacks and state."""

    rows: slice  # the request's images within the batch
    on_step: OnStep | None = None
    should_stop: ShouldStop | None = None
    preview_every: int = 0
    completed_steps: int = 0
    cancelled: bool = False


class StepHook:
    """The `callback_on_step_end` for one pipeline call.

    Schedulers such as Heun and PNDM run more model calls than steps, so each
    hook call maps its index onto 1..total and reports each step exactly once.
    A cancelled listener gets no more calls; the pipeline is interrupted only
    when every listener is cancelled, so the others in a batch run to the end.
    """

    def __init__(
        self, listeners: Sequence[StepListener], total: int, family: Family
    ) -> None:
        self.listeners, self.total, self.family = listeners, total, family
        self.reported = 0
        self.stepped_at_ns = 0  # when the last step ended: decoding starts there

    def __call__(
        self, pipe: Any, index: int, timestep: Any, tensors: dict[str, Any]
    ) -> dict[str, Any]:
        """Report finished steps, then honour cancel requests."""
        calls = max(int(pipe.num_timesteps), 1)
        target = min((index + 1) * self.total // calls, self.total)
        while self.reported < target:
            self.reported += 1
            self._report(self.reported, tensors.get("latents"))
        for listener in self.listeners:
            if listener.cancelled or listener.should_stop is None:
                continue
            if listener.should_stop():
                listener.cancelled = True
        if all(listener.cancelled for listener in self.listeners):
            request_interrupt(pipe)
        self.stepped_at_ns = time.time_ns()
        return tensors

    def _report(self, step: int, latents: torch.Tensor | None) -> None:
        for listener in self.listeners:
            if listener.cancelled:
                continue
            listener.completed_steps = step
            if listener.on_step is None:
                continue
            every = listener.preview_every
            due = every > 0 and (step % every == 0 or step == self.total)
            preview = None
            if due and latents is not None:
                preview = latent_preview(latents[listener.rows], self.family)
            listener.on_step(step, self.total, preview)
