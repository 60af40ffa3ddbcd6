"""Relay `node(id)`: one lookup per node type, each limited to the caller's own
objects, but for gallery images, which are anyone's to read."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.errors import ErrorCode, ServiceError
from core.gallery import get_gallery_images
from core.history.queries import get_outputs
from core.tokens import get_token
from core.uploads import get_upload
from core.webhooks.deliveries import get_delivery
from core.webhooks.endpoints import get_endpoint
from jobs.reads import get_job
from resolvers.accounts.types import ApiToken
from resolvers.catalog.types import Model
from resolvers.context import Context
from resolvers.errors import refusals_in_graphql_terms
from resolvers.gallery.types import IMAGE_TYPE, GalleryImage
from resolvers.jobs.types import Job, UploadedImage
from resolvers.outputs.types import Output
from resolvers.permissions import NodeCanRead, NodeIsAuthenticated
from resolvers.webhooks.types import WebhookDelivery, WebhookEndpoint
from schema.ids import row_id

NodeLookup = Callable[[Info[Context, Any], relay.GlobalID], Awaitable[relay.Node]]


def _not_found(type_name: str) -> ServiceError:
    return ServiceError(ErrorCode.NOT_FOUND, f"no such {type_name}", "id")


async def _output(info: Info[Context, Any], gid: relay.GlobalID) -> relay.Node:
    output_id = row_id(gid, "Output")
    async with info.context.db.reading() as session:
        found = await get_outputs(
            session, user_id=info.context.user_caller.user.id, ids=[output_id]
        )
    if output_id not in found:
        raise _not_found("Output")
    return Output.from_row(found[output_id])


async def _gallery_image(info: Info[Context, Any], gid: relay.GlobalID) -> relay.Node:
    # Anyone's, token or not; a private, unapproved or deleted output is as
    # unknown as a made-up id, so ids cannot be probed.
    image_id = row_id(gid, IMAGE_TYPE)
    async with info.context.db.reading() as session:
        found = await get_gallery_images(session, ids=[image_id])
    if image_id not in found:
        raise _not_found(IMAGE_TYPE)
    return GalleryImage.from_row(found[image_id])


async def _api_token(info: Info[Context, Any], gid: relay.GlobalID) -> relay.Node:
    async with info.context.db.reading() as session:
        token = await get_token(
            session,
            user_id=info.context.user_caller.user.id,
            token_id=row_id(gid, "ApiToken"),
        )
    return ApiToken.from_row(token)


async def _model(info: Info[Context, Any], gid: relay.GlobalID) -> relay.Node:
    model = info.context.services.catalog.models.get(gid.node_id)
    if model is None:
        raise _not_found("Model")
    return Model.of(model)


async def _job(info: Info[Context, Any], gid: relay.GlobalID) -> relay.Node:
    row = await get_job(
        info.context.jobs,
        user_id=info.context.user_caller.user.id,
        job_id=row_id(gid, "Job"),
    )
    return Job.from_row(row)


async def _upload(info: Info[Context, Any], gid: relay.GlobalID) -> relay.Node:
    upload_id = row_id(gid, "UploadedImage")
    async with info.context.db.reading() as session:
        try:
            upload = await get_upload(
                session, user_id=info.context.user_caller.user.id, upload_id=upload_id
            )
        except ServiceError:
            raise _not_found("UploadedImage") from None
    return UploadedImage.from_row(upload)


async def _webhook_endpoint(
    info: Info[Context, Any], gid: relay.GlobalID
) -> relay.Node:
    async with info.context.db.reading() as session:
        endpoint = await get_endpoint(
            session,
            user_id=info.context.user_caller.user.id,
            endpoint_id=row_id(gid, "WebhookEndpoint"),
        )
    return WebhookEndpoint.from_row(endpoint)


async def _webhook_delivery(
    info: Info[Context, Any], gid: relay.GlobalID
) -> relay.Node:
    async with info.context.db.reading() as session:
        delivery = await get_delivery(
            session,
            user_id=info.context.user_caller.user.id,
            delivery_id=row_id(gid, "WebhookDelivery"),
        )
    return WebhookDelivery.from_row(delivery)


# Every Node type and how to look one up; a new Node type adds its entry here.
NODE_LOOKUPS: dict[str, NodeLookup] = {
    "Output": _output,
    "ApiToken": _api_token,
    "Model": _model,
    "Job": _job,
    "UploadedImage": _upload,
    "WebhookEndpoint": _webhook_endpoint,
    "WebhookDelivery": _webhook_delivery,
    IMAGE_TYPE: _gallery_image,
}


@refusals_in_graphql_terms
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
    return await lookup(info, id)


@strawberry.type(name="NodesQuery")
class Query:
    node: relay.Node = strawberry.field(
        resolver=resolve_node,
        description=(
            "Any of your objects by global id (Output, Job, ApiToken, Model); another "
            "account's id is NOT_FOUND. Needs READ, but for a GalleryImage, which "
            "anyone may look up (NOT_FOUND once it leaves the gallery)."
        ),
        permission_classes=[NodeIsAuthenticated, NodeCanRead],
    )
