"""Output mutations: favorite, visibility, gallery submission and delete, all or nothing."""

import uuid
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.errors import ServiceError
from core.outputs import (
    delete_outputs,
    remove_files,
    submit_outputs_to_gallery,
    update_outputs,
)
from resolvers.context import Context
from resolvers.errors import user_errors
from resolvers.outputs.payloads import (
    OutputsDeletePayload,
    OutputsSubmitToGalleryPayload,
    OutputsUpdateInput,
    OutputsUpdatePayload,
)
from resolvers.outputs.types import Output
from schema.ids import global_id, row_id

Ids = Annotated[
    list[relay.GlobalID],
    strawberry.argument(description="Output ids, 1 to 100; repeats count once."),
]


def _uuids(ids: list[relay.GlobalID]) -> list[uuid.UUID]:
    # A malformed id is as unknown as a foreign one: NOT_FOUND, naming none.
    return [row_id(i, "Output", field="ids") for i in ids]


async def resolve_outputs_update(
    info: Info[Context, Any],
    ids: Ids,
    input: Annotated[
        OutputsUpdateInput, strawberry.argument(description="What to change.")
    ],
) -> OutputsUpdatePayload:
    """Set favorite and/or visibility on the caller's outputs."""
    ctx, caller = info.context, info.context.user_caller
    try:
        async with ctx.db.session() as session:
            rows = await update_outputs(
                session,
                user_id=caller.user.id,
                ids=_uuids(ids),
                is_favorite=input.is_favorite,
                is_public=input.is_public,
                free_outputs_public=ctx.settings.free_outputs_public,
                user_is_free=not caller.user.tier.is_paid,
            )
    except ServiceError as err:
        return OutputsUpdatePayload(outputs=None, user_errors=user_errors(err, info))
    return OutputsUpdatePayload(
        outputs=[Output.from_row(row) for row in rows], user_errors=[]
    )


async def resolve_outputs_submit_to_gallery(
    info: Info[Context, Any], ids: Ids
) -> OutputsSubmitToGalleryPayload:
    """Submit the caller's outputs to the public gallery."""
    ctx = info.context
    try:
        async with ctx.db.session() as session:
            rows = await submit_outputs_to_gallery(
                session, user_id=ctx.user_caller.user.id, ids=_uuids(ids)
            )
    except ServiceError as err:
        errors = user_errors(err, info)
        return OutputsSubmitToGalleryPayload(outputs=None, user_errors=errors)
    outputs = [Output.from_row(row) for row in rows]
    return OutputsSubmitToGalleryPayload(outputs=outputs, user_errors=[])


async def resolve_outputs_delete(
    info: Info[Context, Any], ids: Ids
) -> OutputsDeletePayload:
    """Delete the caller's outputs and their upscales, files included."""
    ctx = info.context
    try:
        async with ctx.db.session() as session:
            deleted = await delete_outputs(
                session, user_id=ctx.user_caller.user.id, ids=_uuids(ids)
            )
    except ServiceError as err:
        return OutputsDeletePayload(
            deleted_ids=None, user_errors=user_errors(err, info)
        )
    # Only once committed: a delete that rolled back keeps its files.
    await remove_files(ctx.services.storage, keys=deleted.storage_keys)
    gids = [global_id("Output", i) for i in deleted.ids]
    return OutputsDeletePayload(deleted_ids=gids, user_errors=[])
