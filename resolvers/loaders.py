"""Per-request DataLoaders, kept in Context.loaders and made on first use."""

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.types import Info

from core.history.queries import upscales_of
from core.models import Output
from core.usage import usage_summary
from resolvers.context import Context
from schema.usage import UsageSummary

UpscaleLoader = DataLoader[uuid.UUID, Output | None]
SummaryLoader = Callable[[datetime | None], Awaitable[list[UsageSummary]]]


def upscale_by_output_id_loader(info: Info[Context, Any]) -> UpscaleLoader:
    """The caller's upscale of each output, batched: one query per page, not per row."""
    loaders = info.context.loaders
    if "upscale_by_output_id" not in loaders:
        ctx, caller = info.context, info.context.caller
        assert caller is not None, "guarded by IsAuthenticated"
        user_id = caller.user.id

        async def load(ids: list[uuid.UUID]) -> list[Output | None]:
            async with ctx.db.session() as session:
                found = await upscales_of(session, user_id=user_id, output_ids=ids)
            return [found.get(i) for i in ids]

        loaders["upscale_by_output_id"] = DataLoader(load_fn=load)
    loader: UpscaleLoader = loaders["upscale_by_output_id"]
    return loader


def summary_loader(ctx: Context, user_id: uuid.UUID) -> SummaryLoader:
    """Totals per source and kind, read only if Me.usageSummary is selected."""

    async def load(since: datetime | None) -> list[UsageSummary]:
        async with ctx.db.session() as session:
            totals = await usage_summary(session, user_id=user_id, since=since)
        return [
            UsageSummary(
                source=t.source,
                kind=t.kind,
                jobs=t.jobs,
                charged=t.charged,
                refunded=t.refunded,
                net=t.net,
            )
            for t in totals
        ]

    return load
