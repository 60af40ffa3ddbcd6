"""Root fields of the webhooks domain, merged into the schema's roots by api/schema.py."""

import strawberry

from resolvers.permissions import (
    CanManage,
    CanRead,
    needs,
)
from resolvers.webhooks import resolvers as webhooks
from resolvers.webhooks.types import (
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointCreatePayload,
    WebhookEndpointDeletePayload,
    WebhookEndpointRotateSecretPayload,
    WebhookSigningSecretRotatePayload,
)
from schema.paging import Connection


@strawberry.type(name="WebhooksQuery")
class Query:
    webhook_endpoints: list[WebhookEndpoint] = strawberry.field(
        resolver=webhooks.resolve_webhook_endpoints,
        description="Your webhook endpoints, newest first; never their secrets. Needs MANAGE.",
        permission_classes=needs(CanManage),
    )
    webhook_deliveries: Connection[WebhookDelivery] = strawberry.field(
        resolver=webhooks.resolve_webhook_deliveries,
        description=(
            "Your webhook deliveries, newest first, with status, attempts and the last "
            "response code; `first` 1 to 100 (default 50). Needs READ."
        ),
        permission_classes=needs(CanRead),
    )
    webhook_signing_secret: str = strawberry.field(
        resolver=webhooks.resolve_webhook_signing_secret,
        description=(
            "The secret (whsec_...) signing the webhooks jobs are submitted with "
            "(`webhook` on generationCreate and upscaleCreate), per Standard "
            "Webhooks; made on first use. Needs MANAGE."
        ),
        permission_classes=needs(CanManage),
    )


@strawberry.type(name="WebhooksMutation")
class Mutation:
    webhook_endpoint_create: WebhookEndpointCreatePayload = strawberry.mutation(
        resolver=webhooks.resolve_webhook_endpoint_create,
        description=(
            "Register a URL for your jobs' events. The signing secret is in the payload "
            "this once. At most 10 endpoints per account by default. Needs MANAGE."
        ),
        permission_classes=needs(CanManage),
    )
    webhook_endpoint_delete: WebhookEndpointDeletePayload = strawberry.mutation(
        resolver=webhooks.resolve_webhook_endpoint_delete,
        description=(
            "Stop sending to an endpoint; its deliveries stay listed and pending ones "
            "fail. Needs MANAGE."
        ),
        permission_classes=needs(CanManage),
    )
    webhook_endpoint_rotate_secret: WebhookEndpointRotateSecretPayload = (
        strawberry.mutation(
            resolver=webhooks.resolve_webhook_endpoint_rotate_secret,
            description=(
                "Replace an endpoint's signing secret; the new one is in the payload "
                "this once and signs every attempt from now on, beside the old one "
                "for 24 hours so receivers can switch over. Needs MANAGE."
            ),
            permission_classes=needs(CanManage),
        )
    )
    webhook_signing_secret_rotate: WebhookSigningSecretRotatePayload = (
        strawberry.mutation(
            resolver=webhooks.resolve_webhook_signing_secret_rotate,
            description=(
                "Replace the per-job webhooks' signing secret; the new one signs every "
                "attempt from now on, beside the old one for 24 hours so receivers "
                "can switch over. Needs MANAGE."
            ),
            permission_classes=needs(CanManage),
        )
    )
