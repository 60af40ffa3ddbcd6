"""GraphQL types of outputs: the Output node, how it was made, filters and order.

Output is lazy: its link is signed, and its job and upscale are loaded through
the request's DataLoaders, only when selected.
"""

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from core import models
from core.history import paging
from engine.catalog import SCHEDULERS
from resolvers.catalog.types import Scheduler
from resolvers.context import Context
from schema.enums import Direction, GalleryStatus, OutputOrderField
from schema.filters import (
    AspectRatioFilter,
    BooleanFilter,
    DateTimeFilter,
    FloatFilter,
    GalleryStatusFilter,
    IntFilter,
    JobSourceFilter,
    PromptFilter,
    StringFilter,
)
from schema.ids import global_id
from schema.lookup import schema_class
from schema.paging import Connection, Edge

if TYPE_CHECKING:  # a back-reference: for type checkers only, see schema/lookup.py
    from resolvers.jobs.types import Job

Jobs = Annotated["Job", strawberry.lazy("resolvers.jobs.types")]
_LIST = "at most 100 values"


@strawberry.input(
    description="Conditions on your outputs; every given field must hold. Nest _and/_or/_not up to 5 deep."
)
class OutputWhere:
    created_at: DateTimeFilter | None = strawberry.field(
        default=None, description="When the image was stored."
    )
    width: IntFilter | None = strawberry.field(
        default=None, description="Width in pixels."
    )
    height: IntFilter | None = strawberry.field(
        default=None, description="Height in pixels."
    )
    inference_steps: IntFilter | None = strawberry.field(
        default=None, description="Denoising steps; NULL for upscales."
    )
    seed: IntFilter | None = strawberry.field(
        default=None, description="Seed; NULL for upscales."
    )
    guidance_scale: FloatFilter | None = strawberry.field(
        default=None, description="Guidance scale; NULL for upscales."
    )
    model_id: StringFilter | None = strawberry.field(
        default=None, description="Catalog model (or upscaler) id."
    )
    scheduler_id: StringFilter | None = strawberry.field(
        default=None, description="Scheduler id, e.g. K_EULER."
    )
    gallery_status: GalleryStatusFilter | None = strawberry.field(
        default=None, description="Standing in the public gallery."
    )
    source: JobSourceFilter | None = strawberry.field(
        default=None, description="Which client submitted the job."
    )
    is_favorite: BooleanFilter | None = strawberry.field(
        default=None, description="Marked as a favorite."
    )
    is_public: BooleanFilter | None = strawberry.field(
        default=None, description="Visible in the public gallery."
    )
    is_upscaled: BooleanFilter | None = strawberry.field(
        default=None, description="True for upscales, false for generated images."
    )
    aspect_ratio: AspectRatioFilter | None = strawberry.field(
        default=None, description="Exact width-to-height ratio."
    )
    job_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only the outputs of this job (its `id`)."
    )
    prompt: PromptFilter | None = strawberry.field(
        default=None, description="Prompt text."
    )
    and_: list["OutputWhere"] | None = strawberry.field(
        default=None, name="_and", description=f"All of these hold; {_LIST}."
    )
    or_: list["OutputWhere"] | None = strawberry.field(
        default=None,
        name="_or",
        description=f"At least one holds; {_LIST}; [] matches none.",
    )
    not_: "OutputWhere | None" = strawberry.field(
        default=None, name="_not", description="Does not hold (NULLs included)."
    )


@strawberry.input(description="One sort term; give several to break ties in order.")
class OutputOrderBy:
    field: OutputOrderField = strawberry.field(description="What to sort by.")
    direction: Direction | None = strawberry.field(
        default=paging.Direction.DESC, description="ASC or DESC (default DESC)."
    )


@strawberry.type(description="A model by catalog id, as recorded on an output.")
class ModelRef:
    model_id: str = strawberry.field(
        description="Catalog model (or upscaler) id, as given to generationCreate."
    )
    name: str = strawberry.field(
        description="Display name; the id when the model is no longer in the catalog."
    )
    in_catalog: bool = strawberry.field(
        description="False when the model has been removed from the catalog."
    )


@strawberry.type(description="The settings an output was made with.")
class Generation:
    prompt: str = strawberry.field(description="The prompt, whitespace collapsed.")
    negative_prompt: str = strawberry.field(
        description="What was avoided; may be empty."
    )
    model_id: str = strawberry.field(
        description="Catalog id of the model (or upscaler) that made it."
    )
    scheduler_id: str | None = strawberry.field(
        description="Scheduler id; null for upscales."
    )
    inference_steps: int | None = strawberry.field(
        description="Denoising steps; null for upscales."
    )
    guidance_scale: float | None = strawberry.field(
        description="Prompt adherence; null for upscales."
    )
    prompt_strength: float | None = strawberry.field(
        description="How far it moved from its init image; null for text-to-image."
    )

    @strawberry.field(description="The model that made it, by its catalog entry.")
    def model(self, info: Info[Context, Any]) -> ModelRef:
        """Named from the catalog; a removed model keeps its id as its name."""
        catalog = info.context.services.catalog
        entry = catalog.models.get(self.model_id) or catalog.upscalers.get(
            self.model_id
        )
        return ModelRef(
            model_id=self.model_id,
            name=entry.name if entry else self.model_id,
            in_catalog=entry is not None,
        )

    @strawberry.field(description="The scheduler it ran with; null for upscales.")
    def scheduler(self) -> Scheduler | None:
        """Named from the known schedulers; an unknown id keeps the id as name."""
        if self.scheduler_id is None:
            return None
        name = SCHEDULERS.get(self.scheduler_id, self.scheduler_id)
        return Scheduler(scheduler_id=self.scheduler_id, name=name)


@strawberry.type(description="One stored image of yours.")
class Output(relay.Node):
    output_id: relay.NodeID[str]
    index: int = strawberry.field(description="Position in its job, from 0.")
    width: int = strawberry.field(description="Width in pixels.")
    height: int = strawberry.field(description="Height in pixels.")
    seed: int | None = strawberry.field(
        description="The seed that reproduces it; null for upscales."
    )
    format: str = strawberry.field(description="File format, e.g. PNG.")
    is_favorite: bool = strawberry.field(description="Marked as a favorite.")
    is_public: bool = strawberry.field(description="Visible in the public gallery.")
    gallery_status: GalleryStatus = strawberry.field(
        description="Standing in the public gallery."
    )
    is_upscaled: bool = strawberry.field(
        description="True when this image is the result of an upscale (of an output or an upload)."
    )
    created_at: datetime = strawberry.field(description="When it was stored.")
    generation: Generation = strawberry.field(description="How it was made.")
    job_id: relay.GlobalID = strawberry.field(description="Id of the job that made it.")
    row_id: strawberry.Private[uuid.UUID]
    job_row_id: strawberry.Private[uuid.UUID]
    storage_key: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: models.Output) -> "Output":
        """The GraphQL view of an output row; link, job and upscale load when selected."""
        return cls(
            output_id=str(row.id),
            index=row.index,
            width=row.width,
            height=row.height,
            seed=row.seed,
            format=row.format,
            is_favorite=row.is_favorite,
            is_public=row.is_public,
            gallery_status=row.gallery_status,
            is_upscaled=row.is_upscaled,
            created_at=row.created_at,
            generation=Generation(
                prompt=row.prompt,
                negative_prompt=row.negative_prompt,
                model_id=row.model_id,
                scheduler_id=row.scheduler_id,
                inference_steps=row.inference_steps,
                guidance_scale=row.guidance_scale,
                prompt_strength=row.prompt_strength,
            ),
            job_id=global_id("Job", row.job_id),
            row_id=row.id,
            job_row_id=row.job_id,
            storage_key=row.storage_key,
        )

    @strawberry.field(
        description="Where to download it: a plain link when public, else a signed link valid for an hour."
    )
    async def image_url(self, info: Info[Context, Any]) -> str:
        """Signed only when selected."""
        storage = info.context.services.storage
        return await storage.url(self.storage_key, public=self.is_public)

    @strawberry.field(description="The job that made it.")
    async def job(self, info: Info[Context, Any]) -> Jobs | None:
        """Loaded for the whole page at once."""
        row = await info.context.loaders.job_by_id.load(self.job_row_id)
        if row is None:
            return None
        # Jobs list their outputs; the way back goes through the schema.
        job: Job = schema_class(info, "Job").from_row(row)
        return job

    @strawberry.field(description="The upscale of this image, if one was made.")
    async def upscale(self, info: Info[Context, Any]) -> "Output | None":
        """Loaded for the whole page at once."""
        row = await info.context.loaders.upscale_by_output_id.load(self.row_id)
        return None if row is None else Output.from_row(row)


@strawberry.type(
    name="OutputEdge",
    description="One output of a page, with its cursor and, in a search, its score.",
)
class OutputEdge(Edge[Output]):
    score: float | None = strawberry.field(
        default=None,
        description=(
            "Relevance in a search (search or similarTo), higher first: the prompt's "
            "cosine similarity, plus 1 when it holds every word searched for. "
            "Null without a search."
        ),
    )


@strawberry.type(
    name="OutputConnection",
    description="A page of outputs: in keyset order, or ranked when searching.",
)
class OutputConnection(Connection[Output]):
    # Narrower edges than the generic's: each may carry a score.
    edges: list[OutputEdge] = strawberry.field(  # type: ignore[assignment]
        description="The items on this page."
    )
