"""History resolvers: the caller's outputs, filtered and paged, and their conversion."""

import dataclasses
import uuid
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info
from strawberry.types.nodes import FragmentSpread, InlineFragment, SelectedField

from core.errors import ErrorCode, ServiceError
from core.history import filters
from core.history.queries import OutputOrder, list_outputs
from core.models import Output as OutputRow
from resolvers.catalog import scheduler_of
from resolvers.context import Context
from resolvers.jobs import load_job
from resolvers.loaders import upscale_by_output_id_loader
from resolvers.paging import page_info
from resolvers.queries import caller_of
from schema import history as h
from schema.history import Generation, ModelRef, Output, OutputConnection

# Each GraphQL filter input and the core filter it becomes (same field names).
_CORE_FILTERS: dict[type, type] = {
    h.IntFilter: filters.IntFilter,
    h.FloatFilter: filters.FloatFilter,
    h.DateTimeFilter: filters.DateTimeFilter,
    h.IdFilter: filters.StrFilter,
    h.GalleryStatusFilter: filters.EnumFilter,
    h.JobSourceFilter: filters.EnumFilter,
    h.AspectRatioFilter: filters.EnumFilter,
    h.BooleanFilter: filters.BoolFilter,
    h.PromptFilter: filters.TextFilter,
    h.OutputWhere: filters.OutputWhere,
}


def core_where(value: Any) -> Any:
    """Turn a GraphQL OutputWhere (or any part of it) into core's filter dataclasses."""
    if isinstance(value, list):
        return [core_where(item) for item in value]
    target = _CORE_FILTERS.get(type(value))
    if target is None:
        return value
    fields = {
        f.name: core_where(getattr(value, f.name)) for f in dataclasses.fields(target)
    }
    if target is filters.OutputWhere and fields["job_id"] is not None:
        fields["job_id"] = parse_uuid(fields["job_id"], "where.job_id")
    return target(**fields)


def parse_uuid(value: str, field: str) -> uuid.UUID:
    """A UUID argument, or BAD_USER_INPUT naming the field."""
    try:
        return uuid.UUID(value)
    except ValueError:
        raise ServiceError(
            ErrorCode.BAD_USER_INPUT, f"{field} must be a UUID; got {value!r}", field
        ) from None


def selects(info: Info[Context, Any], name: str) -> bool:
    """True when the current field's selection asks for `name`, fragments included."""

    def found(selections: list[Any]) -> bool:
        for selection in selections:
            if isinstance(selection, SelectedField) and selection.name == name:
                return True
            if isinstance(selection, FragmentSpread | InlineFragment) and found(
                selection.selections
            ):
                return True
        return False

    return any(found(field.selections) for field in info.selected_fields)


def _model_ref(info: Info[Context, Any], model_id: str) -> ModelRef:
    catalog = info.context.services.catalog
    entry = catalog.models.get(model_id) or catalog.upscalers.get(model_id)
    return ModelRef(
        id=strawberry.ID(model_id),
        name=entry.name if entry else model_id,
        in_catalog=entry is not None,
    )


async def to_output(info: Info[Context, Any], row: OutputRow) -> Output:
    """The GraphQL view of an output row; its upscale loads lazily, batched."""
    url = await info.context.services.storage.url(row.storage_key, public=row.is_public)
    loader = upscale_by_output_id_loader(info)

    async def load_upscale() -> Output | None:
        upscale = await loader.load(row.id)
        return None if upscale is None else await to_output(info, upscale)

    return Output(
        output_id=str(row.id),
        image_url=url,
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
            model=_model_ref(info, row.model_id),
            scheduler=scheduler_of(row.scheduler_id) if row.scheduler_id else None,
            inference_steps=row.inference_steps,
            guidance_scale=row.guidance_scale,
            prompt_strength=row.prompt_strength,
        ),
        job_id=strawberry.ID(str(row.job_id)),
        load_upscale=load_upscale,
        load_job=lambda: load_job(info, row.job_id),
    )


def _arg(description: str) -> Any:
    return strawberry.argument(description=description)


async def resolve_outputs(
    info: Info[Context, Any],
    first: Annotated[
        int | None, _arg("Read forwards this many, 1 to 100 (default 50).")
    ] = None,
    after: Annotated[str | None, _arg("Start after this cursor (with first).")] = None,
    last: Annotated[int | None, _arg("Read backwards this many, 1 to 100.")] = None,
    before: Annotated[str | None, _arg("End before this cursor (with last).")] = None,
    where: Annotated[
        h.OutputWhere | None, _arg("Conditions; absent means every output.")
    ] = None,
    order_by: Annotated[
        list[h.OutputOrderBy] | None,
        _arg("Sort terms in order (default createdAt DESC); a cursor fits one order."),
    ] = None,
) -> OutputConnection:
    """Page through the caller's outputs; count them only when totalCount is asked for."""
    order = [OutputOrder(o.field, o.direction) for o in order_by or []]
    async with info.context.db.session() as session:
        page = await list_outputs(
            session,
            user_id=caller_of(info).user.id,
            where=core_where(where),
            order=order,
            first=first,
            after=after,
            last=last,
            before=before,
            with_total=selects(info, "totalCount"),
        )
    edges = [
        relay.Edge(cursor=cursor, node=await to_output(info, row))
        for cursor, row in page.items
    ]
    return OutputConnection(
        edges=edges,
        page_info=page_info(
            edges,
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
        ),
        count=page.total_count,
    )
