"""Relay `node(id)`: one lookup per node type, each limited to the caller's own objects."""

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.errors import ErrorCode, ServiceError
from core.history.queries import get_outputs
from core.tokens import get_token
from resolvers import jobs
from resolvers.catalog import model_of
from resolvers.context import Context
from resolvers.history import parse_uuid, to_output
from resolvers.queries import caller_of
from schema.types import ApiToken

NodeLookup = Callable[[Info[Context, Any], str], Awaitable[relay.Node]]


def _not_found(type_name: str) -> ServiceError:
    return ServiceError(ErrorCode.NOT_FOUND, f"no such {type_name}", "id")


async def _output(info: Info[Context, Any], node_id: str) -> relay.Node:
    output_id = _uuid(node_id, "Output")
    async with info.context.db.session() as session:
        found = await get_outputs(
            session, user_id=caller_of(info).user.id, ids=[output_id]
        )
    if output_id not in found:
        raise _not_found("Output")
    return await to_output(info, found[output_id])


async def _api_token(info: Info[Context, Any], node_id: str) -> relay.Node:
    token_id = _uuid(node_id, "ApiToken")
    async with info.context.db.session() as session:
        token = await get_token(
            session, user_id=caller_of(info).user.id, token_id=token_id
        )
    return ApiToken.from_row(token)


async def _model(info: Info[Context, Any], node_id: str) -> relay.Node:
    model = info.context.services.catalog.models.get(node_id)
    if model is None:
        raise _not_found("Model")
    return model_of(model)


async def _job(info: Info[Context, Any], node_id: str) -> relay.Node:
    return await jobs.resolve_job(info, relay.GlobalID("Job", node_id))


def _uuid(node_id: str, type_name: str) -> uuid.UUID:
    try:
        return parse_uuid(node_id, "id")
    except ServiceError:
        raise _not_found(type_name) from None


# Every Node type and how to look one up; a new Node type adds its entry here.
NODE_LOOKUPS: dict[str, NodeLookup] = {
    "Output": _output,
    "ApiToken": _api_token,
    "Model": _model,
    "Job": _job,
}


async def resolve_node(
    info: Info[Context, Any],
    id: Annotated[
        relay.GlobalID, strawberry.argument(description="A global id from any type.")
    ],
) -> relay.Node:
    """The caller's object behind a global id; another account's is NOT_FOUND."""
    lookup = NODE_LOOKUPS.get(id.type_name)
    if lookup is None:
        raise _not_found("object")
    return await lookup(info, id.node_id)
