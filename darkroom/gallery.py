"""Operator commands for the gallery: `darkroom gallery review`."""

import uuid
from typing import Annotated

import typer
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from core.errors import ErrorCode, ServiceError
from core.gallery import (
    ReviewDecision,
    author_handle,
    list_review_queue,
    pending_ids,
    review_outputs,
)
from core.history.paging import MAX_PAGE_SIZE
from darkroom.console import id_column, in_session, out

gallery_app = typer.Typer(help="Moderate the public gallery.", no_args_is_help=True)


def parse_output_id(value: str) -> uuid.UUID:
    """An output's id from a raw UUID or a GalleryImage/Output global id."""
    try:
        return uuid.UUID(value)
    except ValueError:
        pass
    try:
        gid = relay.GlobalID.from_id(value)
        if gid.type_name in ("GalleryImage", "Output"):
            return uuid.UUID(gid.node_id)
    except ValueError:
        pass
    raise ServiceError(ErrorCode.NOT_FOUND, f"no output {value}")


@gallery_app.command("review")
def gallery_review(
    approve: Annotated[
        list[str] | None, typer.Option(help="Approve this output id (repeatable).")
    ] = None,
    reject: Annotated[
        list[str] | None, typer.Option(help="Reject this output id (repeatable).")
    ] = None,
    approve_all: Annotated[
        bool, typer.Option(help="Approve every pending output (100 at a time).")
    ] = False,
    reject_all: Annotated[
        bool, typer.Option(help="Reject every pending output (100 at a time).")
    ] = False,
) -> None:
    """List outputs awaiting review, or approve and reject them."""
    if approve_all and reject_all:
        raise typer.BadParameter("give --approve-all or --reject-all, not both")

    async def decide(session: AsyncSession) -> list[str]:
        lines = []
        plans = [(ReviewDecision.APPROVE, approve), (ReviewDecision.REJECT, reject)]
        for decision, given in plans:
            if given:
                ids = [parse_output_id(v) for v in given]
                for done in await review_outputs(session, ids=ids, decision=decision):
                    status = done.output.gallery_status.value
                    lines.append(f"{done.output.id}: {done.previous.value} -> {status}")
        bulk = ReviewDecision.APPROVE if approve_all else ReviewDecision.REJECT
        while approve_all or reject_all:
            ids = await pending_ids(session, limit=MAX_PAGE_SIZE)
            if not ids:
                break
            for done in await review_outputs(session, ids=ids, decision=bulk):
                # A private pending one cannot be approved; pending_ids lists none.
                status = done.output.gallery_status.value
                lines.append(f"{done.output.id}: {done.previous.value} -> {status}")
        return lines or ["nothing changed"]

    async def listing(session: AsyncSession) -> Table:
        table = Table(id_column(), "account", "created", "status", "prompt")
        after = None
        while True:
            page = await list_review_queue(session, first=MAX_PAGE_SIZE, after=after)
            for _, output in page.items:
                table.add_row(
                    str(output.id),
                    author_handle(output.user_id),
                    output.created_at.isoformat(timespec="seconds"),
                    output.gallery_status.value,
                    output.prompt,
                )
            if not page.has_next_page or not page.items:
                return table
            after = page.items[-1][0]

    if approve or reject or approve_all or reject_all:
        for line in in_session(decide):
            out.print(line)
    else:
        out.print(in_session(listing))
