"""Per-request DataLoaders, kept in Context.loaders and made on first use."""

import uuid
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from core.history.queries import upscales_of
from core.models import Output
from resolvers.context import Context
from resolvers.queries import caller_of

UpscaleLoader = DataLoader[uuid.UUID, Output | None]


def upscale_by_output_id_loader(info: Info[Context, Any]) -> UpscaleLoader:
    """The caller's upscale of each output, batched: one query per page, not per row."""
    loaders = info.context.loaders
    if "upscale_by_output_id" not in loaders:
        ctx, user_id = info.context, caller_of(info).user.id

        async def load(ids: list[uuid.UUID]) -> list[Output | None]:
            async with ctx.db.session() as session:
                found = await upscales_of(session, user_id=user_id, output_ids=ids)
            return [found.get(i) for i in ids]

        loaders["upscale_by_output_id"] = DataLoader(load_fn=load)
    loader: UpscaleLoader = loaders["upscale_by_output_id"]
    return loader
