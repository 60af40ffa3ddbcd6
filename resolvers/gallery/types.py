"""GraphQL types of the public gallery: GalleryImage, its author, its filter, and
what moderators see of a submission.

A GalleryImage shows only what its owner published: the image, its size and
how it was made. Never the account's id or email, the job, the favorite flag or
the client that submitted it; the author is a stable handle that cannot be
turned back into the account.
"""

import uuid
from datetime import datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from core import models
from core.gallery import author_handle
from resolvers.context import Context
from resolvers.outputs.types import Generation
from schema.enums import GalleryStatus
from schema.filters import (
    AspectRatioFilter,
    BooleanFilter,
    DateTimeFilter,
    IntFilter,
    PromptFilter,
    StringFilter,
)
from schema.ids import global_id
from schema.paging import Connection, Edge

IMAGE_TYPE = "GalleryImage"  # the global id type name of gallery images
_LIST = "at most 100 values"


@strawberry.input(
    description=(
        "Conditions on gallery images, on what they show; every given field must "
        "hold. Nest _and/_or/_not up to 5 deep."
    )
)
class GalleryWhere:
    created_at: DateTimeFilter | None = strawberry.field(
        default=None, description="When the image was stored."
    )
    width: IntFilter | None = strawberry.field(
        default=None, description="Width in pixels."
    )
    height: IntFilter | None = strawberry.field(
        default=None, description="Height in pixels."
    )
    model_id: StringFilter | None = strawberry.field(
        default=None, description="Catalog model (or upscaler) id."
    )
    scheduler_id: StringFilter | None = strawberry.field(
        default=None, description="Scheduler id, e.g. K_EULER."
    )
    aspect_ratio: AspectRatioFilter | None = strawberry.field(
        default=None, description="Exact width-to-height ratio."
    )
    prompt: PromptFilter | None = strawberry.field(
        default=None, description="Prompt text."
    )
    is_upscaled: BooleanFilter | None = strawberry.field(
        default=None, description="True for upscales, false for generated images."
    )
    and_: list["GalleryWhere"] | None = strawberry.field(
        default=None, name="_and", description=f"All of these hold; {_LIST}."
    )
    or_: list["GalleryWhere"] | None = strawberry.field(
        default=None,
        name="_or",
        description=f"At least one holds; {_LIST}; [] matches none.",
    )
    not_: "GalleryWhere | None" = strawberry.field(
        default=None, name="_not", description="Does not hold (NULLs included)."
    )


@strawberry.type(description="Who made a gallery image, as the public knows them.")
class GalleryAuthor:
    handle: str = strawberry.field(
        description=(
            'A stable public name for the account ("u_" and 10 letters or digits): '
            "the same on all its images, never its id or email."
        )
    )


def _generation(row: models.Output) -> Generation:
    return Generation(
        prompt=row.prompt,
        negative_prompt=row.negative_prompt,
        model_id=row.model_id,
        scheduler_id=row.scheduler_id,
        inference_steps=row.inference_steps,
        guidance_scale=row.guidance_scale,
        prompt_strength=row.prompt_strength,
    )


def image_path(output_id: uuid.UUID, file_format: str) -> str:
    """Where the API serves a gallery image: /gallery/images/{id}.{format}."""
    return f"/gallery/images/{output_id}.{file_format.lower()}"


@strawberry.type(
    description=(
        "An image in the public gallery: public, approved by a moderator, not "
        "deleted. Readable without a token."
    )
)
class GalleryImage(relay.Node):
    image_id: relay.NodeID[str]
    width: int = strawberry.field(description="Width in pixels.")
    height: int = strawberry.field(description="Height in pixels.")
    format: str = strawberry.field(description="File format, e.g. PNG.")
    seed: int | None = strawberry.field(
        description="The seed that reproduces it; null for upscales."
    )
    created_at: datetime = strawberry.field(description="When it was stored.")
    generation: Generation = strawberry.field(description="How it was made.")
    author: GalleryAuthor = strawberry.field(description="Who made it.")
    path: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: models.Output) -> "GalleryImage":
        """The public view of an output that is in the gallery."""
        return cls(
            image_id=str(row.id),
            width=row.width,
            height=row.height,
            format=row.format.upper(),
            seed=row.seed,
            created_at=row.created_at,
            generation=_generation(row),
            author=GalleryAuthor(handle=author_handle(row.user_id)),
            path=image_path(row.id, row.format),
        )

    @strawberry.field(
        description=(
            "A stable link to the file, no signature needed; it answers 404 as soon "
            "as the image leaves the gallery (deleted, made private, rejected)."
        )
    )
    def url(self, info: Info[Context, Any]) -> str:
        """On this API's public address."""
        return info.context.settings.public_base_url.rstrip("/") + self.path


@strawberry.type(
    description=(
        "An output submitted to the gallery, as moderators see it. Its id is the "
        "GalleryImage id that galleryReview takes."
    )
)
class GallerySubmission:
    id: relay.GlobalID = strawberry.field(
        description="Its GalleryImage id (an Output id is accepted too)."
    )
    status: GalleryStatus = strawberry.field(
        description="Where it stands: SUBMITTED or WAITING_FOR_APPROVAL in the queue."
    )
    is_public: bool = strawberry.field(
        description="Public; only public submissions can be approved."
    )
    width: int = strawberry.field(description="Width in pixels.")
    height: int = strawberry.field(description="Height in pixels.")
    created_at: datetime = strawberry.field(description="When it was stored.")
    generation: Generation = strawberry.field(description="How it was made.")
    author: GalleryAuthor = strawberry.field(description="Who made it.")
    storage_key: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: models.Output) -> "GallerySubmission":
        """The moderators' view of an output."""
        return cls(
            id=global_id(IMAGE_TYPE, row.id),
            status=row.gallery_status,
            is_public=row.is_public,
            width=row.width,
            height=row.height,
            created_at=row.created_at,
            generation=_generation(row),
            author=GalleryAuthor(handle=author_handle(row.user_id)),
            storage_key=row.storage_key,
        )

    @strawberry.field(
        description=(
            "Where to look at it before deciding: a signed link valid for an hour "
            "(the gallery link answers only once approved)."
        )
    )
    async def image_url(self, info: Info[Context, Any]) -> str:
        """Signed only when selected."""
        storage = info.context.services.storage
        return await storage.url(self.storage_key, public=False)


@strawberry.type(
    name="GalleryImageEdge",
    description="One gallery image of a page, with its cursor and, in a search, its score.",
)
class GalleryImageEdge(Edge[GalleryImage]):
    score: float | None = strawberry.field(
        default=None,
        description="Relevance in a search, as OutputEdge.score; null without one.",
    )


@strawberry.type(
    name="GalleryImageConnection",
    description="A page of gallery images: newest first, or ranked when searching.",
)
class GalleryImageConnection(Connection[GalleryImage]):
    # Narrower edges than the generic's: each may carry a score.
    edges: list[GalleryImageEdge] = strawberry.field(  # type: ignore[assignment]
        description="The items on this page."
    )
