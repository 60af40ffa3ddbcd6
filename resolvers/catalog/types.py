"""GraphQL types for the catalog: models, schedulers, upscalers and defaults."""

import strawberry
from strawberry import relay

from engine.catalog import SCHEDULERS, GenerationModel
from engine.catalog import UpscaleModel as CatalogUpscaler
from schema.enums import ModelFamily


@strawberry.type(description="A noise scheduler (sampler) a model can run with.")
class Scheduler:
    scheduler_id: str = strawberry.field(
        description="Scheduler id, e.g. K_EULER, as given to generationCreate's schedulerId."
    )
    name: str = strawberry.field(description="Display name, e.g. Euler.")

    @classmethod
    def of(cls, scheduler_id: str) -> "Scheduler":
        """A scheduler by id; an id no longer known keeps the id as its name."""
        return cls(
            scheduler_id=scheduler_id, name=SCHEDULERS.get(scheduler_id, scheduler_id)
        )


@strawberry.type(
    description="A text-to-image model on offer and the limits it enforces."
)
class Model(relay.Node):
    catalog_id: relay.NodeID[str]
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(description="What the model is good for.")
    is_default: bool = strawberry.field(
        description="True for the model used when a request names none."
    )
    family: ModelFamily = strawberry.field(description="Architecture family.")
    default_width: int = strawberry.field(
        description="Width in pixels used when none is given."
    )
    default_height: int = strawberry.field(
        description="Height in pixels used when none is given."
    )
    default_steps: int = strawberry.field(
        description="Inference steps used when none are given."
    )
    default_guidance: float = strawberry.field(
        description="Guidance scale used when none is given."
    )
    default_scheduler: Scheduler = strawberry.field(
        description="Scheduler used when none is given."
    )
    min_width: int = strawberry.field(description="Smallest width in pixels.")
    max_width: int = strawberry.field(description="Largest width in pixels.")
    min_height: int = strawberry.field(description="Smallest height in pixels.")
    max_height: int = strawberry.field(description="Largest height in pixels.")
    size_multiple: int = strawberry.field(
        description="Width and height must be multiples of this many pixels."
    )
    min_steps: int = strawberry.field(description="Fewest inference steps accepted.")
    max_steps: int = strawberry.field(description="Most inference steps accepted.")
    supports_guidance: bool = strawberry.field(
        description="False when the model ignores guidance; then leave guidanceScale unset."
    )
    schedulers: list[Scheduler] = strawberry.field(
        description="Schedulers this model accepts; any other is refused, never swapped."
    )

    @strawberry.field(
        description="Catalog id, e.g. darkroom-tiny; generationCreate's modelId takes it or `id`."
    )
    def model_id(self) -> str:
        """The catalog id inside the global id."""
        return self.catalog_id

    @classmethod
    def of(cls, model: GenerationModel) -> "Model":
        """The GraphQL view of a catalog model."""
        return cls(
            catalog_id=model.id,
            name=model.name,
            description=model.description,
            is_default=model.is_default,
            family=ModelFamily[model.family.value],
            default_width=model.default_width,
            default_height=model.default_height,
            default_steps=model.default_steps,
            default_guidance=model.default_guidance,
            default_scheduler=Scheduler.of(model.default_scheduler),
            min_width=model.min_width,
            max_width=model.max_width,
            min_height=model.min_height,
            max_height=model.max_height,
            size_multiple=model.size_multiple,
            min_steps=model.min_steps,
            max_steps=model.max_steps,
            supports_guidance=model.supports_guidance,
            schedulers=[Scheduler.of(s) for s in model.schedulers],
        )


@strawberry.type(description="A 4x (or other) image upscaler on offer.")
class UpscaleModel:
    model_id: str = strawberry.field(
        description="Upscaler id, as given to upscaleCreate's modelId."
    )
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(description="Speed and quality notes.")
    is_default: bool = strawberry.field(
        description="True for the upscaler used when a request names none."
    )
    scale: int = strawberry.field(description="Factor each side grows by, e.g. 4.")

    @classmethod
    def of(cls, upscaler: CatalogUpscaler) -> "UpscaleModel":
        """The GraphQL view of a catalog upscaler."""
        return cls(
            model_id=upscaler.id,
            name=upscaler.name,
            description=upscaler.description,
            is_default=upscaler.is_default,
            scale=upscaler.scale,
        )


@strawberry.type(
    description="What a generation request gets when it leaves a setting out: the values that really run."
)
class GenerationDefaults:
    model: Model = strawberry.field(description="The model these defaults belong to.")
    scheduler: Scheduler = strawberry.field(
        description="The model's default scheduler."
    )
    width: int = strawberry.field(description="Width in pixels.")
    height: int = strawberry.field(description="Height in pixels.")
    num_outputs: int = strawberry.field(description="Images per job (2).")
    guidance_scale: float = strawberry.field(description="Prompt adherence.")
    inference_steps: int = strawberry.field(description="Denoising steps.")
    prompt_strength: float = strawberry.field(
        description="Image-to-image only: how far to move from the init image (0.5)."
    )
