"""Submission inputs and their validation through the engine's one rule set."""

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from PIL import Image

from core.errors import ErrorCode, ServiceError
from core.models import Upload
from engine.catalog import Catalog
from engine.requests import (
    GenerationRequest,
    InvalidRequests,
    ResolvedRequest,
    resolve_request,
)

MAX_IDEMPOTENCY_KEY = 100  # the width of jobs.idempotency_key

# Engine field names to the Python names of GenerationParams.
_FIELDS = {
    "steps": "inference_steps",
    "guidance": "guidance_scale",
    "scheduler": "scheduler_id",
    "strength": "prompt_strength",
    "init_image": "init_image_id",
    "preview_every": "previews",
}


@dataclass(frozen=True)
class GenerationParams:
    """What a caller asks a generation for; None means the model's default."""

    prompt: str
    model_id: str | None = None
    negative_prompt: str = ""
    width: int | None = None
    height: int | None = None
    num_outputs: int = 2
    guidance_scale: float | None = None
    inference_steps: int | None = None
    scheduler_id: str | None = None
    seed: int | None = None
    init_image_id: uuid.UUID | None = None
    prompt_strength: float | None = None
    is_public: bool | None = None
    idempotency_key: str | None = None
    previews: int = 0


@dataclass(frozen=True)
class UpscaleParams:
    """What a caller asks an upscale for: one upload or one own output."""

    image_id: uuid.UUID | None = None
    output_id: uuid.UUID | None = None
    model_id: str | None = None
    idempotency_key: str | None = None


def request_hash(kind: str, params: GenerationParams | UpscaleParams) -> str:
    """A digest of the input as sent, so a reused idempotency key can be compared."""
    data = asdict(params)
    data.pop("idempotency_key")
    text = json.dumps({"kind": kind, **data}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def check_idempotency_key(key: str | None) -> list[ServiceError]:
    """Problems with an idempotency key: 1 to 100 characters."""
    if key is None:
        return []
    if not key:
        return [
            ServiceError(
                ErrorCode.REQUIRED,
                "idempotency_key must not be empty",
                "idempotency_key",
            )
        ]
    if len(key) > MAX_IDEMPOTENCY_KEY:
        message = f"idempotency_key must be at most {MAX_IDEMPOTENCY_KEY} characters; got {len(key)}"
        return [ServiceError(ErrorCode.TOO_LONG, message, "idempotency_key")]
    return []


def _code(code: str) -> ErrorCode:
    try:
        return ErrorCode(code)
    except ValueError:
        return ErrorCode.BAD_USER_INPUT


def generation_request(
    params: GenerationParams, catalog: Catalog, init_image: Image.Image | None
) -> GenerationRequest:
    """The engine request for these params (model defaulted from the catalog)."""
    return GenerationRequest(
        model_id=params.model_id or catalog.default_model().id,
        prompt=params.prompt,
        negative_prompt=params.negative_prompt,
        width=params.width,
        height=params.height,
        steps=params.inference_steps,
        guidance=params.guidance_scale,
        scheduler=params.scheduler_id,
        num_outputs=params.num_outputs,
        seed=params.seed,
        init_image=init_image,
        strength=params.prompt_strength,
        preview_every=params.previews,
    )


def resolve_generation(
    params: GenerationParams,
    catalog: Catalog,
    *,
    upload: Upload | None,
    problems: list[ServiceError],
) -> ResolvedRequest:
    """Check every rule, adding to `problems`; raise ValidationFailed if any.

    The API has only the upload's size, not its pixels: a small stand-in image
    with the width and height defaulted from the upload checks the same rules.
    """
    from core.errors import ValidationFailed

    problems = [*problems, *check_idempotency_key(params.idempotency_key)]
    stand_in = None
    if upload is not None:
        stand_in = Image.new("RGB", (8, 8))
        params = _with_size(params, upload.width, upload.height)
    elif params.init_image_id is not None:
        # The upload was not found (already reported); check the rest without it.
        params = _with_strength(params, None)
    resolved: ResolvedRequest | None = None
    try:
        resolved = resolve_request(
            catalog, generation_request(params, catalog, stand_in)
        )
    except InvalidRequests as err:
        for p in err.problems:
            problems.append(
                ServiceError(_code(p.code), p.message, _FIELDS.get(p.field, p.field))
            )
    if resolved is not None and params.previews > resolved.steps:
        message = f"previews must be in 0..{resolved.steps} (the steps); got {params.previews}"
        problems.append(ServiceError(ErrorCode.OUT_OF_RANGE, message, "previews"))
    if problems or resolved is None:
        raise ValidationFailed(problems)
    return resolved


def _with_size(params: GenerationParams, width: int, height: int) -> GenerationParams:
    data = asdict(params)
    data["width"] = width if params.width is None else params.width
    data["height"] = height if params.height is None else params.height
    return GenerationParams(**data)


def _with_strength(
    params: GenerationParams, strength: float | None
) -> GenerationParams:
    data = asdict(params)
    data["prompt_strength"] = strength
    return GenerationParams(**data)


def stored_params(
    resolved: ResolvedRequest, params: GenerationParams, *, is_public: bool
) -> dict[str, Any]:
    """The job's params column: every value the worker needs, defaults resolved."""
    return {
        "prompt": resolved.prompt,
        "negative_prompt": resolved.negative_prompt,
        "width": resolved.width,
        "height": resolved.height,
        "num_outputs": resolved.num_outputs,
        "inference_steps": resolved.steps,
        "guidance_scale": resolved.guidance,
        "scheduler_id": resolved.scheduler,
        "seed": resolved.seed,
        "init_image_id": None
        if params.init_image_id is None
        else str(params.init_image_id),
        "prompt_strength": resolved.strength,
        "previews": resolved.preview_every,
        "is_public": is_public,
    }


def params_from_job(params: dict[str, Any], model_id: str) -> GenerationParams:
    """Rebuild fully resolved GenerationParams from a job's params column."""
    init = params.get("init_image_id")
    return GenerationParams(
        prompt=params["prompt"],
        model_id=model_id,
        negative_prompt=params["negative_prompt"],
        width=params["width"],
        height=params["height"],
        num_outputs=params["num_outputs"],
        guidance_scale=params["guidance_scale"],
        inference_steps=params["inference_steps"],
        scheduler_id=params["scheduler_id"],
        seed=params["seed"],
        init_image_id=None if init is None else uuid.UUID(init),
        prompt_strength=params["prompt_strength"],
        is_public=params["is_public"],
        previews=params["previews"],
    )
