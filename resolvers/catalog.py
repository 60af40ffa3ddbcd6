"""Catalog resolvers: the models, schedulers and upscalers on offer, and defaults."""

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.errors import ErrorCode, ServiceError
from engine.catalog import SCHEDULERS, Catalog, GenerationModel, UpscaleModel
from resolvers.context import Context
from schema.catalog import GenerationDefaults, Model, ModelFamily, Scheduler
from schema.catalog import UpscaleModel as UpscaleModelType

# generationCreate's default numOutputs and the engine's default prompt strength
# (engine.requests.DEFAULT_STRENGTH, which the API may not import); tests pin both.
DEFAULT_NUM_OUTPUTS = 2
DEFAULT_PROMPT_STRENGTH = 0.5


def scheduler_of(scheduler_id: str) -> Scheduler:
    """A scheduler by id; an id no longer known keeps the id as its name."""
    return Scheduler(
        id=strawberry.ID(scheduler_id), name=SCHEDULERS.get(scheduler_id, scheduler_id)
    )


def model_of(model: GenerationModel) -> Model:
    """Convert a catalog model."""
    return Model(
        catalog_id=model.id,
        name=model.name,
        description=model.description,
        is_default=model.is_default,
        family=ModelFamily(model.family.value),
        default_width=model.default_width,
        default_height=model.default_height,
        default_steps=model.default_steps,
        default_guidance=model.default_guidance,
        default_scheduler=scheduler_of(model.default_scheduler),
        min_width=model.min_width,
        max_width=model.max_width,
        min_height=model.min_height,
        max_height=model.max_height,
        size_multiple=model.size_multiple,
        min_steps=model.min_steps,
        max_steps=model.max_steps,
        supports_guidance=model.supports_guidance,
        schedulers=[scheduler_of(s) for s in model.schedulers],
    )


def _upscaler_of(upscaler: UpscaleModel) -> UpscaleModelType:
    return UpscaleModelType(
        id=strawberry.ID(upscaler.id),
        name=upscaler.name,
        description=upscaler.description,
        is_default=upscaler.is_default,
        scale=upscaler.scale,
    )


def catalog_model(catalog: Catalog, model_id: str) -> GenerationModel:
    """A catalog model by id; NOT_FOUND when there is none."""
    model = catalog.models.get(model_id)
    if model is None:
        known = ", ".join(catalog.models)
        raise ServiceError(
            ErrorCode.NOT_FOUND,
            f"no model {model_id!r}; known: {known}",
            "model_id",
        )
    return model


async def resolve_models(info: Info[Context, Any]) -> list[Model]:
    """Every generation model on offer, in catalog order."""
    return [model_of(m) for m in info.context.services.catalog.models.values()]


async def resolve_schedulers(info: Info[Context, Any]) -> list[Scheduler]:
    """Every scheduler any model may use."""
    return [scheduler_of(s) for s in SCHEDULERS]


async def resolve_upscale_models(info: Info[Context, Any]) -> list[UpscaleModelType]:
    """Every upscaler on offer, in catalog order."""
    return [_upscaler_of(u) for u in info.context.services.catalog.upscalers.values()]


async def resolve_defaults(
    info: Info[Context, Any],
    model_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(
            description="Catalog model id (see `models`); default the default model."
        ),
    ] = None,
) -> GenerationDefaults:
    """The settings a request gets for what it leaves out, for one model."""
    catalog = info.context.services.catalog
    model = (
        catalog.default_model()
        if model_id is None
        else catalog_model(catalog, model_id)
    )
    return GenerationDefaults(
        model=model_of(model),
        scheduler=scheduler_of(model.default_scheduler),
        width=model.default_width,
        height=model.default_height,
        num_outputs=DEFAULT_NUM_OUTPUTS,
        guidance_scale=model.default_guidance,
        inference_steps=model.default_steps,
        prompt_strength=DEFAULT_PROMPT_STRENGTH,
    )
