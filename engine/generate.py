"""Run text-to-image and image-to-image requests, alone or batched."""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from PIL import Image

from engine.pipelines import PipelineCache
from engine.progress import (
    Cancelled,
    OnPhase,
    OnStep,
    ShouldStop,
    StepHook,
    StepListener,
)
from engine.requests import ResolvedRequest

MAX_BATCH_IMAGES = 8  # images per pipeline call; bounds peak memory


@dataclass(frozen=True)
class GeneratedImage:
    """One output image and the seed that reproduces it."""

    index: int
    seed: int
    image: Image.Image


@dataclass(frozen=True)
class GenerationResult:
    """The images of one request; `seconds` is the wall time of its pipeline call."""

    request: ResolvedRequest
    images: list[GeneratedImage]
    seconds: float


BatchOutcome = GenerationResult | Cancelled


def generate(
    pipes: PipelineCache,
    request: ResolvedRequest,
    on_step: OnStep | None = None,
    should_stop: ShouldStop | None = None,
) -> GenerationResult:
    """Run text-to-image, or image-to-image when the request has an init image.

    Args:
        pipes: Loaded pipelines for one device.
        request: A request `resolve_request` checked against its catalog entry
            (or one restored from a job that was checked at submission).
        on_step: Called once per denoising step with (step, total, preview);
            the preview is None unless `request.preview_every` says otherwise.
        should_stop: Checked every step; True stops within one step.

    Returns:
        The images, each with the seed that reproduces it.

    Raises:
        Cancelled: should_stop returned True.
    """
    (outcome,) = _run(pipes, [(request, on_step, should_stop, None)])
    if isinstance(outcome, Cancelled):
        raise outcome
    return outcome


def generate_batch(
    pipes: PipelineCache,
    requests: Sequence[ResolvedRequest],
    on_steps: Sequence[OnStep | None] | None = None,
    should_stops: Sequence[ShouldStop | None] | None = None,
    *,
    max_batch_images: int = MAX_BATCH_IMAGES,
    on_phases: Sequence[OnPhase | None] | None = None,
) -> list[BatchOutcome]:
    """Run several requests, sharing one pipeline call among compatible ones.

    Text-to-image requests with the same model, size, steps, scheduler and
    guidance run together with per-image prompts and generators, so each image
    equals its solo run. A member that is cancelled stops getting callbacks at
    once and its images are dropped, while the call keeps going for the others;
    the call is interrupted only when every member is cancelled.

    Args:
        pipes: Loaded pipelines for one device.
        requests: Resolved requests, in any mix of models and settings.
        on_steps: One progress callback per request, or None.
        should_stops: One cancel check per request, or None.
        max_batch_images: Most images in one pipeline call.
        on_phases: One phase callback per request, or None: each request is
            told its pipeline call's load, denoise and decode times.

    Returns:
        One outcome per request, in order: its result or Cancelled.
    """
    count = len(requests)
    hooks = list(on_steps or [None] * count)
    stops = list(should_stops or [None] * count)
    phases = list(on_phases or [None] * count)
    if len(hooks) != count or len(stops) != count or len(phases) != count:
        raise ValueError(
            "on_steps, should_stops and on_phases must have one entry per request"
        )
    outcomes: list[BatchOutcome | None] = [None] * count
    groups: dict[tuple[object, ...], list[list[int]]] = {}
    for i, request in enumerate(requests):
        chunks = groups.setdefault(_batch_key(i, request), [[]])
        images = sum(requests[j].num_outputs for j in chunks[-1])
        if chunks[-1] and images + request.num_outputs > max_batch_images:
            chunks.append([])
        chunks[-1].append(i)
    for chunks in groups.values():
        for chunk in chunks:
            members = [(requests[i], hooks[i], stops[i], phases[i]) for i in chunk]
            for i, outcome in zip(chunk, _run(pipes, members), strict=True):
                outcomes[i] = outcome
    return [outcome for outcome in outcomes if outcome is not None]


def _batch_key(index: int, r: ResolvedRequest) -> tuple[object, ...]:
    if r.init_image is not None:
        return ("img2img", index)  # each init image runs alone
    # SDXL encodes an absent negative prompt as zeros but "" as text, so empty
    # and non-empty negatives must not share a call (a list cannot mix them).
    return (r.model.id, r.width, r.height, r.inference_steps, r.scheduler_id,
            r.guidance_scale, r.negative_prompt == "")  # fmt: skip


Member = tuple[ResolvedRequest, OnStep | None, ShouldStop | None, OnPhase | None]


def _run(
    pipes: PipelineCache, members: list[Member]
) -> list[GenerationResult | Cancelled]:
    """Run compatible requests in one pipeline call."""
    outcomes: list[GenerationResult | Cancelled | None] = [None] * len(members)
    live: list[int] = []
    for k, (_, _, should_stop, _) in enumerate(members):
        if should_stop is not None and should_stop():
            outcomes[k] = Cancelled(0)
        else:
            live.append(k)
    if not live:
        return [outcome for outcome in outcomes if outcome is not None]
    first = members[live[0]][0]
    load_started = time.time_ns()
    loaded = pipes.get(first.model)
    loaded_at = time.time_ns()
    hook, options = _call_options([members[k] for k in live])
    if first.init_image is None:
        pipe = loaded.text2img
        options |= {"width": first.width, "height": first.height}
    else:
        pipe = loaded.img2img()
        size = (first.width, first.height)
        image = first.init_image
        if image.size != size:  # documented: the init image is fit to the output
            image = image.resize(size, Image.Resampling.LANCZOS)
        options |= {"image": image, "strength": first.prompt_strength}
    started = time.perf_counter()
    denoise_started = time.time_ns()
    with loaded.scheduler(pipe, first.scheduler_id), torch.inference_mode():
        call: Any = pipe  # DiffusionPipeline declares no __call__; subclasses do
        images: list[Image.Image] = call(**options).images
    seconds = time.perf_counter() - started
    ended = time.time_ns()
    # The VAE decodes after the last step's hook: the split between the two.
    stepped = hook.stepped_at_ns or ended
    for k in live:
        on_phase = members[k][3]
        if on_phase is not None:
            on_phase("load", load_started, loaded_at)
            on_phase("denoise", denoise_started, stepped)
            on_phase("decode", stepped, ended)
    for k, listener in zip(live, hook.listeners, strict=True):
        request = members[k][0]
        if listener.cancelled:
            outcomes[k] = Cancelled(listener.completed_steps)
            continue
        outputs = [
            GeneratedImage(index=n, seed=request.seed + n, image=images[row])
            for n, row in enumerate(range(listener.rows.start, listener.rows.stop))
        ]
        outcomes[k] = GenerationResult(request, outputs, seconds)
    return [outcome for outcome in outcomes if outcome is not None]


def _call_options(members: list[Member]) -> tuple[StepHook, dict[str, object]]:
    """The step hook, with one listener per member, and the pipeline arguments
    they share: per-image prompts and generators, so each image equals its solo
    run."""
    first = members[0][0]
    listeners: list[StepListener] = []
    prompts: list[str] = []
    negatives: list[str] = []
    seeds: list[int] = []
    for request, on_step, should_stop, _ in members:
        rows = slice(len(prompts), len(prompts) + request.num_outputs)
        listeners.append(
            StepListener(rows, on_step, should_stop, request.preview_every)
        )
        prompts += [request.prompt] * request.num_outputs
        negatives += [request.negative_prompt] * request.num_outputs
        seeds += request.seeds
    hook = StepHook(listeners, first.total_steps, first.model.family)
    options: dict[str, object] = {
        "prompt": prompts,
        # None keeps each pipeline's own empty-prompt handling (SDXL: zeros).
        "negative_prompt": negatives if any(negatives) else None,
        "num_inference_steps": first.inference_steps,
        "guidance_scale": first.guidance_scale,
        # CPU generators: a seed gives the same noise on every device.
        "generator": [torch.Generator("cpu").manual_seed(s) for s in seeds],
        "callback_on_step_end": hook,
    }
    return hook, options
