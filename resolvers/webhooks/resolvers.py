"""Webhook resolvers: register, list, delete and rotate endpoints; page deliveries."""

import uuid
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.types import Info

from core.errors import ErrorCode, ServiceError
from core.webhooks.deliveries import list_deliveries
from core.webhooks.endpoints import (
    create_endpoint,
    delete_endpoint,
    list_endpoints,
    rotate_secret,
)
from core.webhooks.job_hooks import hook_secret, rotate_hook_secret
from resolvers.context import Context
from resolvers.errors import refusals_in_graphql_terms, user_errors
from resolvers.webhooks.types import (
    WebhookDelivery,
    WebhookDeliveryWhere,
    WebhookEndpoint,
    WebhookEndpointCreateInput,
    WebhookEndpointCreatePayload,
    WebhookEndpointDeletePayload,
    WebhookEndpointRotateSecretPayload,
    WebhookSigningSecretRotatePayload,
)
from schema.arguments import After, Before, First, Last, arg
from schema.ids import row_id
from schema.paging import Connection, connection, selects

EndpointId = Annotated[
    relay.GlobalID, strawberry.argument(description="The endpoint's id.")
]


def _filter_id(
    value: relay.GlobalID | None, type_name: str, field: str
) -> uuid.UUID | None:
    """A filter's id: one of another type is bad input; a foreign one matches nothing."""
    if value is None:
        return None
    code = ErrorCode.BAD_USER_INPUT
    return row_id(value, type_name, field=f"where.{field}", code=code)


async def resolve_webhook_endpoints(info: Info[Context, Any]) -> list[WebhookEndpoint]:
    """The caller's endpoints, newest first."""
    async with info.context.db.session() as session:
        rows = await list_endpoints(session, user_id=info.context.user_caller.user.id)
    return [WebhookEndpoint.from_row(r) for r in rows]


async def resolve_webhook_endpoint_create(
    info: Info[Context, Any],
    input: Annotated[WebhookEndpointCreateInput, arg("The endpoint.")],
) -> WebhookEndpointCreatePayload:
    """Register an endpoint; its secret is in the payload this once."""
    ctx = info.context
    try:
        async with ctx.db.session() as session:
            row, secret = await create_endpoint(
                session,
                user_id=ctx.user_caller.user.id,
                url=input.url,
                events=input.events,
                allow_private=ctx.settings.webhook_allow_private,
                max_active=ctx.settings.max_webhook_endpoints,
            )
    except ServiceError as err:
        errors = user_errors(err, info)
        return WebhookEndpointCreatePayload(
            webhook_endpoint=None, secret=None, user_errors=errors
        )
    return WebhookEndpointCreatePayload(
        webhook_endpoint=WebhookEndpoint.from_row(row), secret=secret, user_errors=[]
    )


async def resolve_webhook_endpoint_delete(
    info: Info[Context, Any], id: EndpointId
) -> WebhookEndpointDeletePayload:
    """Delete one of the caller's endpoints; its pending deliveries fail."""
    ctx = info.context
    try:
        endpoint_id = row_id(id, "WebhookEndpoint")
        async with ctx.db.session() as session:
            row = await delete_endpoint(
                session, user_id=ctx.user_caller.user.id, endpoint_id=endpoint_id
            )
    except ServiceError as err:
        errors = user_errors(err, info)
        return WebhookEndpointDeletePayload(webhook_endpoint=None, user_errors=errors)
    return WebhookEndpointDeletePayload(
        webhook_endpoint=WebhookEndpoint.from_row(row), user_errors=[]
    )


async def resolve_webhook_endpoint_rotate_secret(
    info: Info[Context, Any], id: EndpointId
) -> WebhookEndpointRotateSecretPayload:
    """Give one of the caller's endpoints a new secret, shown this once."""
    ctx = info.context
    try:
        endpoint_id = row_id(id, "WebhookEndpoint")
        async with ctx.db.session() as session:
            row, secret = await rotate_secret(
                session, user_id=ctx.user_caller.user.id, endpoint_id=endpoint_id
            )
    except ServiceError as err:
        errors = user_errors(err, info)
        return WebhookEndpointRotateSecretPayload(
            webhook_endpoint=None, secret=None, user_errors=errors
        )
    return WebhookEndpointRotateSecretPayload(
        webhook_endpoint=WebhookEndpoint.from_row(row), secret=secret, user_errors=[]
    )


@refusals_in_graphql_terms
async def resolve_webhook_deliveries(
    info: Info[Context, Any],
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
    where: Annotated[
        WebhookDeliveryWhere | None, arg("Which deliveries; default all.")
    ] = None,
) -> Connection[WebhookDelivery]:
    """The caller's deliveries, newest first; counted only when totalCount is asked for."""
    where = where or WebhookDeliveryWhere()
    async with info.context.db.session() as session:
        page = await list_deliveries(
            session,
            user_id=info.context.user_caller.user.id,
            endpoint_id=_filter_id(where.endpoint_id, "WebhookEndpoint", "endpoint_id"),
            job_id=_filter_id(where.job_id, "Job", "job_id"),
            status=None if where.status is None else list(where.status),
            first=first,
            after=after,
            last=last,
            before=before,
            with_total=selects(info, "totalCount"),
        )
    return connection(page, WebhookDelivery.from_row)


async def resolve_webhook_signing_secret(info: Info[Context, Any]) -> str:
    """The secret signing the caller's per-job webhooks, made on first use."""
    async with info.context.db.session() as session:
        row = await hook_secret(session, user_id=info.context.user_caller.user.id)
    return row.secret


async def resolve_webhook_signing_secret_rotate(
    info: Info[Context, Any],
) -> WebhookSigningSecretRotatePayload:
    """Replace the per-job signing secret; the old one signs too for 24 hours."""
    async with info.context.db.session() as session:
        row = await rotate_hook_secret(
            session, user_id=info.context.user_caller.user.id
        )
    return WebhookSigningSecretRotatePayload(
        secret=row.secret,
        previous_secret_expires_at=row.previous_secret_until,
        user_errors=[],
    )
