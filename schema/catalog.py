"""GraphQL types for the catalog: models, schedulers, upscalers and defaults."""

from enum import Enum

import strawberry
from strawberry import relay


@strawberry.enum(description="Architecture family of a generation model.")
class ModelFamily(Enum):
    SD15 = strawberry.enum_value("SD15", description="Stable Diffusion 1.x.")
    SD2 = strawberry.enum_value("SD2", description="Stable Diffusion 2.x.")
    SDXL = strawberry.enum_value("SDXL", description="Stable Diffusion XL.")


@strawberry.type(description="A noise scheduler (sampler) a model can run with.")
class Scheduler:
    id: strawberry.ID = strawberry.field(
        description="Scheduler id, e.g. K_EULER, as given to generationCreate's schedulerId."
    )
    name: str = strawberry.field(description="Display name, e.g. Euler.")


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
        description="Catalog id, e.g. darkroom-tiny, as given to generationCreate's modelId."
    )
    def model_id(self) -> strawberry.ID:
        """The catalog id inside the global id."""
        return strawberry.ID(self.catalog_id)


@strawberry.type(description="A 4x (or other) image upscaler on offer.")
class UpscaleModel:
    id: strawberry.ID = strawberry.field(
        description="Upscaler id, as given to upscaleCreate."
    )
    name: str = strawberry.field(description="Display name.")
    description: str = strawberry.field(description="Speed and quality notes.")
    is_default: bool = strawberry.field(
        description="True for the upscaler used when a request names none."
    )
    scale: int = strawberry.field(description="Factor each side grows by, e.g. 4.")


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
