"""Submission inputs, checked once through the engine's rule set and stored resolved.

The names are the engine's (engine/requests.py): GenerationParams is the engine's
GenerationRequest with an upload id in place of the image, plus what only the
service knows (visibility, idempotency key). The job's params column holds the
resolved request under the same names, and the worker rebuilds the request from
it without checking it again.
"""

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from PIL import Image

from core.errors import ErrorCode, ServiceError, ValidationFailed
from core.models import Upload
from core.webhooks.job_hooks import JobHook
from engine.catalog import Catalog
from engine.requests import (
    DEFAULT_NUM_OUTPUTS,
    GenerationRequest,
    InvalidRequests,
    ResolvedRequest,
    resolve_request,
)

MAX_IDEMPOTENCY_KEY = 100  # the width of jobs.idempotency_key
_ENGINE_FIELDS = {f.name for f in fields(GenerationRequest)} - {"init_image"}


@dataclass(frozen=True)
class GenerationParams:
    """What a caller asks a generation for; None means the model's default."""

    prompt: str
    model_id: str | None = None
    negative_prompt: str = ""
    width: int | None = None
    height: int | None = None
    num_outputs: int = DEFAULT_NUM_OUTPUTS
    inference_steps: int | None = None
    guidance_scale: float | None = None
    scheduler_id: str | None = None
    seed: int | None = None
    init_image_id: uuid.UUID | None = None
    prompt_strength: float | None = None
    preview_every: int = 0
    is_public: bool | None = None
    idempotency_key: str | None = None
    webhook: JobHook | None = None


@dataclass(frozen=True)
class UpscaleParams:
    """What a caller asks an upscale for: one upload or one own output."""

    image_id: uuid.UUID | None = None
    output_id: uuid.UUID | None = None
    model_id: str | None = None
    idempotency_key: str | None = None
    webhook: JobHook | None = None


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
        message = "idempotency_key must not be empty"
        return [ServiceError(ErrorCode.REQUIRED, message, "idempotency_key")]
    if len(key) > MAX_IDEMPOTENCY_KEY:
        message = f"idempotency_key must be at most {MAX_IDEMPOTENCY_KEY} characters; got {len(key)}"
        return [ServiceError(ErrorCode.TOO_LONG, message, "idempotency_key")]
    return []


def resolve_generation(
    params: GenerationParams,
    catalog: Catalog,
    *,
    upload: Upload | None,
    problems: list[ServiceError],
) -> ResolvedRequest:
    """Check every rule, adding to `problems`; raise ValidationFailed if any.

    The API has only the upload's size, not its pixels: a small stand-in image,
    with the width and height defaulted from the upload, meets the same rules.
    """
    problems = [*problems, *check_idempotency_key(params.idempotency_key)]
    stand_in = None
    if upload is not None:
        stand_in = Image.new("RGB", (8, 8))
        params = replace(
            params,
            width=upload.width if params.width is None else params.width,
            height=upload.height if params.height is None else params.height,
        )
    elif params.init_image_id is not None:
        # The upload was not found (already reported); check the rest without it.
        params = replace(params, prompt_strength=None)
    resolved = None
    try:
        resolved = resolve_request(catalog, engine_request(params, catalog, stand_in))
    except InvalidRequests as err:
        for p in err.problems:
            # The engine checks the image; the caller sent the upload's id.
            field = "init_image_id" if p.field == "init_image" else p.field
            problems.append(ServiceError(_code(p.code), p.message, field))
    if problems or resolved is None:
        raise ValidationFailed(problems)
    return resolved


def engine_request(
    params: GenerationParams, catalog: Catalog, init_image: Image.Image | None
) -> GenerationRequest:
    """The engine's request for these params (the model defaulted from the catalog)."""
    values = {name: getattr(params, name) for name in _ENGINE_FIELDS}
    values["model_id"] = params.model_id or catalog.default_model().id
    return GenerationRequest(**values, init_image=init_image)


def stored_params(
    resolved: ResolvedRequest, params: GenerationParams, *, is_public: bool
) -> dict[str, Any]:
    """The job's params column: the resolved request under its own names."""
    values = {name: getattr(resolved, name) for name in _ENGINE_FIELDS}
    values.pop("model_id")  # a column of its own
    init = params.init_image_id
    values["init_image_id"] = None if init is None else str(init)
    values["is_public"] = is_public
    return values


def resolved_from_params(
    stored: dict[str, Any],
    catalog: Catalog,
    *,
    model_id: str,
    init_image: Image.Image | None,
) -> ResolvedRequest:
    """The request a job was accepted with, as stored: checked once, at submission.

    Raises catalog.UnknownModel when the model left the catalog since.
    """
    values = {name: stored[name] for name in _ENGINE_FIELDS - {"model_id"}}
    rgb = None if init_image is None else init_image.convert("RGB")
    return ResolvedRequest(model=catalog.model(model_id), **values, init_image=rgb)


def _code(code: str) -> ErrorCode:
    try:
        return ErrorCode(code)
    except ValueError:
        return ErrorCode.BAD_USER_INPUT
