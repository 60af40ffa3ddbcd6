"""Validate a generation request against its catalog entry and fill defaults.

Torch-free: the API resolves a request before charging credits and stores the
result; the worker runs that stored, resolved request. Values are used as sent
or rejected, never clamped or swapped.

One name set runs through the whole path: these field names are the GraphQL
input's (in camelCase), the job's stored params, the engine's, the PNG metadata
keys and the Job type's.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass

from PIL import Image

from engine.catalog import Catalog, GenerationModel, UnknownModel

MAX_PROMPT_CHARS = 500
MAX_OUTPUTS = 4
DEFAULT_NUM_OUTPUTS = 2
MAX_SEED = 2**31 - 1  # seeds are stored as signed 32-bit integers
MIN_GUIDANCE, MAX_GUIDANCE = 1.0, 20.0
DEFAULT_PROMPT_STRENGTH = 0.5

_Bad = Callable[[str, str, str], None]  # records (field, code, message)


@dataclass(frozen=True)
class GenerationRequest:
    """What a caller asks for; None means the model's default."""

    model_id: str
    prompt: str
    negative_prompt: str = ""
    width: int | None = None
    height: int | None = None
    num_outputs: int = DEFAULT_NUM_OUTPUTS
    inference_steps: int | None = None
    guidance_scale: float | None = None
    scheduler_id: str | None = None
    seed: int | None = None
    init_image: Image.Image | None = None
    prompt_strength: float | None = None
    preview_every: int = 0  # 0: no previews; N: every N steps and on the last


@dataclass(frozen=True)
class ResolvedRequest:
    """A validated request with every default filled in."""

    model: GenerationModel
    prompt: str
    negative_prompt: str
    width: int
    height: int
    num_outputs: int
    inference_steps: int
    guidance_scale: float
    scheduler_id: str
    seed: int  # image i uses seed + i
    init_image: Image.Image | None  # RGB; the pipeline resizes it to width x height
    prompt_strength: float | None
    preview_every: int

    @property
    def model_id(self) -> str:
        """Return the catalog id of the model."""
        return self.model.id

    @property
    def total_steps(self) -> int:
        """Return the denoising steps that really run (fewer for img2img)."""
        if self.prompt_strength is None:
            return self.inference_steps
        return int(self.inference_steps * self.prompt_strength)

    @property
    def seeds(self) -> list[int]:
        """Return the seed of each output image."""
        return [self.seed + i for i in range(self.num_outputs)]


class InvalidRequest(ValueError):  # noqa: N818 - name fixed by the engine contract
    """One problem with one field of a request."""

    def __init__(self, field: str, code: str, message: str) -> None:
        super().__init__(message)
        self.field, self.code, self.message = field, code, message


class InvalidRequests(ValueError):  # noqa: N818 - name fixed by the engine contract
    """Every problem found in a request, reported together."""

    def __init__(self, problems: list[InvalidRequest]) -> None:
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


def resolve_request(catalog: Catalog, request: GenerationRequest) -> ResolvedRequest:
    """Fill defaults from the model entry and check every rule, raising InvalidRequests.

    Args:
        catalog: The models on offer.
        request: The caller's values; None fields take the model's defaults.

    Returns:
        The request with model, size, steps, guidance, scheduler, seed and
        strength all set.
    """
    problems: list[InvalidRequest] = []

    def bad(field: str, code: str, message: str) -> None:
        problems.append(InvalidRequest(field, code, message))

    prompt, negative = _check_prompts(request, bad)
    num_outputs, seed = _check_count_and_seed(request, bad)
    init_image = _check_init_image(request.init_image, bad)
    try:
        model = catalog.model(request.model_id)
    except UnknownModel as err:
        bad("model_id", "UNKNOWN_MODEL", str(err))
        raise InvalidRequests(problems) from None
    width, height = _check_size(model, request, init_image, bad)
    steps = _check_steps(model, request, width * height, bad)
    guidance = _check_guidance(model, request, bad)
    scheduler = request.scheduler_id or model.default_scheduler
    if scheduler not in model.schedulers:
        bad(
            "scheduler_id",
            "UNKNOWN_SCHEDULER",
            f"scheduler_id must be one of {', '.join(model.schedulers)} for model"
            f" {model.id}; got {scheduler!r}",
        )
    strength = _check_strength(request, steps, bad)
    _check_previews(request.preview_every, steps, bad)
    if problems:
        raise InvalidRequests(problems)
    return ResolvedRequest(
        model=model,
        prompt=prompt,
        negative_prompt=negative,
        width=width,
        height=height,
        num_outputs=num_outputs,
        inference_steps=steps,
        guidance_scale=guidance,
        scheduler_id=scheduler,
        seed=seed,
        init_image=init_image,
        prompt_strength=strength,
        preview_every=request.preview_every,
    )


def _check_prompts(request: GenerationRequest, bad: _Bad) -> tuple[str, str]:
    """Both prompts with whitespace collapsed; never cut."""
    prompt = " ".join(request.prompt.split())
    if not prompt:
        bad("prompt", "REQUIRED", "prompt must not be empty")
    elif len(prompt) > MAX_PROMPT_CHARS:
        bad(
            "prompt",
            "PROMPT_TOO_LONG",
            f"prompt must be at most {MAX_PROMPT_CHARS} characters; got {len(prompt)}",
        )
    negative = " ".join(request.negative_prompt.split())
    if len(negative) > MAX_PROMPT_CHARS:
        bad(
            "negative_prompt",
            "PROMPT_TOO_LONG",
            f"negative_prompt must be at most {MAX_PROMPT_CHARS} characters;"
            f" got {len(negative)}",
        )
    return prompt, negative


def _check_count_and_seed(request: GenerationRequest, bad: _Bad) -> tuple[int, int]:
    """The image count and the first seed, drawn at random when not given."""
    n = request.num_outputs
    if not 1 <= n <= MAX_OUTPUTS:
        bad(
            "num_outputs",
            "OUT_OF_RANGE",
            f"num_outputs must be in 1..{MAX_OUTPUTS}; got {n}",
        )
        n = 1
    if request.seed is None:
        return n, random.randrange(MAX_SEED - n + 1)
    if not 0 <= request.seed <= MAX_SEED - n + 1:
        bad(
            "seed",
            "OUT_OF_RANGE",
            f"seed must be in 0..{MAX_SEED - n + 1} so that seed + i fits"
            f" {MAX_SEED} for {n} output(s); got {request.seed}",
        )
    return n, request.seed


def _check_init_image(image: Image.Image | None, bad: _Bad) -> Image.Image | None:
    if image is None:
        return None
    try:
        rgb = image.convert("RGB")
    except (OSError, ValueError):
        # Never quote the decoder's own words: they name library internals.
        bad("init_image", "INVALID_IMAGE", "init_image could not be converted to RGB")
        return None
    if 0 in rgb.size:
        bad(
            "init_image",
            "INVALID_IMAGE",
            f"init_image must not be empty; got {rgb.size}",
        )
        return None
    return rgb


def _check_size(
    model: GenerationModel,
    request: GenerationRequest,
    init_image: Image.Image | None,
    bad: _Bad,
) -> tuple[int, int]:
    """Return width and height, or 0 for an axis with a problem."""
    sizes: list[int] = []
    for axis, given, low, high, default in (
        ("width", request.width, model.min_width, model.max_width, model.default_width),
        (
            "height",
            request.height,
            model.min_height,
            model.max_height,
            model.default_height,
        ),
    ):
        rule = f"a multiple of {model.size_multiple} in {low}..{high}"
        if given is not None:
            value, origin = given, ""
        elif init_image is not None:
            value = init_image.width if axis == "width" else init_image.height
            origin = f"init_image {axis}; pass {axis} explicitly. "
        else:
            value, origin = default, ""
        if not low <= value <= high or value % model.size_multiple:
            bad(axis, "INVALID_SIZE", f"{origin}{axis} must be {rule}; got {value}")
            value = 0
        sizes.append(value)
    return sizes[0], sizes[1]


def _check_steps(
    model: GenerationModel, request: GenerationRequest, pixels: int, bad: _Bad
) -> int:
    """The step count, within the model's range and its pixel-step budget."""
    steps = (
        model.default_steps
        if request.inference_steps is None
        else request.inference_steps
    )
    if not model.min_steps <= steps <= model.max_steps:
        bad(
            "inference_steps",
            "OUT_OF_RANGE",
            f"inference_steps must be in {model.min_steps}..{model.max_steps};"
            f" got {steps}",
        )
    elif pixels and pixels * steps > model.max_pixel_steps:
        bad(
            "inference_steps",
            "OUT_OF_RANGE",
            f"width*height*inference_steps must be at most {model.max_pixel_steps};"
            f" got {pixels}*{steps} = {pixels * steps}",
        )
    return steps


def _check_guidance(
    model: GenerationModel, request: GenerationRequest, bad: _Bad
) -> float:
    given = request.guidance_scale
    guidance = model.default_guidance if given is None else given
    if given is not None and not model.supports_guidance:
        bad(
            "guidance_scale",
            "OUT_OF_RANGE",
            f"model {model.id} ignores guidance, so leave guidance_scale unset;"
            f" got {given}",
        )
    elif not MIN_GUIDANCE <= guidance <= MAX_GUIDANCE:  # also rejects NaN
        bad(
            "guidance_scale",
            "OUT_OF_RANGE",
            f"guidance_scale must be in {MIN_GUIDANCE:g}..{MAX_GUIDANCE:g};"
            f" got {guidance}",
        )
    return float(guidance)


def _check_strength(request: GenerationRequest, steps: int, bad: _Bad) -> float | None:
    if request.init_image is None:
        if request.prompt_strength is not None:
            bad(
                "prompt_strength",
                "OUT_OF_RANGE",
                "prompt_strength applies only with an init image;"
                f" got {request.prompt_strength}",
            )
        return None
    strength = (
        DEFAULT_PROMPT_STRENGTH
        if request.prompt_strength is None
        else request.prompt_strength
    )
    if not 0.0 < strength <= 1.0:  # also rejects NaN
        bad(
            "prompt_strength",
            "OUT_OF_RANGE",
            f"prompt_strength must be in (0, 1]; got {strength}",
        )
    elif int(steps * strength) < 1:
        bad(
            "prompt_strength",
            "OUT_OF_RANGE",
            "int(inference_steps*prompt_strength) must be at least 1 step;"
            f" got int({steps}*{strength}) = 0",
        )
    return float(strength)


def _check_previews(every: int, steps: int, bad: _Bad) -> None:
    if not 0 <= every <= steps:
        bad(
            "preview_every",
            "OUT_OF_RANGE",
            f"preview_every must be 0 (off) or a step count in 1..{steps}"
            f" (the inference steps); got {every}",
        )
