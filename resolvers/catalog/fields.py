"""Root fields of the catalog domain, merged into the schema's roots by api/schema.py."""

import strawberry

from resolvers.catalog import resolvers as catalog
from resolvers.catalog.types import GenerationDefaults, Model, Scheduler, UpscaleModel


@strawberry.type(name="CatalogQuery")
class Query:
    models: list[Model] = strawberry.field(
        resolver=catalog.resolve_models,
        description="Generation models on offer, in catalog order, with their limits. No token needed.",
    )
    schedulers: list[Scheduler] = strawberry.field(
        resolver=catalog.resolve_schedulers,
        description="Every scheduler; each model lists those it accepts. No token needed.",
    )
    upscale_models: list[UpscaleModel] = strawberry.field(
        resolver=catalog.resolve_upscale_models,
        description="Upscalers on offer, in catalog order. No token needed.",
    )
    defaults: GenerationDefaults = strawberry.field(
        resolver=catalog.resolve_defaults,
        description=(
            "The settings generationCreate uses for what it leaves out; an unknown "
            "modelId is NOT_FOUND. No token needed."
        ),
    )
