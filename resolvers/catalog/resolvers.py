"""Catalog resolvers: the models, schedulers and upscalers on offer, and defaults."""

from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from core.errors import ErrorCode, ServiceError
from engine.catalog import SCHEDULERS, Catalog, GenerationModel
from engine.requests import DEFAULT_NUM_OUTPUTS, DEFAULT_PROMPT_STRENGTH
from resolvers.catalog.types import GenerationDefaults, Model, Scheduler, UpscaleModel
from resolvers.context import Context
from resolvers.errors import refusals_in_graphql_terms
from schema.ids import catalog_key


def catalog_model(catalog: Catalog, model_id: str) -> GenerationModel:
    """A catalog model by id; NOT_FOUND when there is none."""
    model = catalog.models.get(model_id)
    if model is None:
        known = ", ".join(catalog.models)
        message = f"no model {model_id!r}; known: {known}"
        raise ServiceError(ErrorCode.NOT_FOUND, message, "model_id")
    return model


async def resolve_models(info: Info[Context, Any]) -> list[Model]:
    """Every generation model on offer, in catalog order."""
    return [Model.of(m) for m in info.context.services.catalog.models.values()]


async def resolve_schedulers(info: Info[Context, Any]) -> list[Scheduler]:
    """Every scheduler any model may use."""
    return [Scheduler.of(s) for s in SCHEDULERS]


async def resolve_upscale_models(info: Info[Context, Any]) -> list[UpscaleModel]:
    """Every upscaler on offer, in catalog order."""
    return [
        UpscaleModel.of(u) for u in info.context.services.catalog.upscalers.values()
    ]


@refusals_in_graphql_terms
async def resolve_defaults(
    info: Info[Context, Any],
    model_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(
            description="The model: its `id` or `modelId` from `models`; default the default model."
        ),
    ] = None,
) -> GenerationDefaults:
    """The settings a request gets for what it leaves out, for one model."""
    catalog = info.context.services.catalog
    model = (
        catalog.default_model()
        if model_id is None
        else catalog_model(catalog, catalog_key(model_id, "Model"))
    )
    return GenerationDefaults(
        model=Model.of(model),
        scheduler=Scheduler.of(model.default_scheduler),
        width=model.default_width,
        height=model.default_height,
        num_outputs=DEFAULT_NUM_OUTPUTS,
        guidance_scale=model.default_guidance,
        inference_steps=model.default_steps,
        prompt_strength=DEFAULT_PROMPT_STRENGTH,
    )
