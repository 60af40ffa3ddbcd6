"""GraphQL types of webhooks: endpoints, deliveries, and the mutations' shapes."""

from datetime import datetime

import strawberry
from strawberry import relay

from core import models
from core.webhooks.endpoints import parse_events
from core.webhooks.signing import message_id
from schema.enums import WebhookDeliveryStatus, WebhookEvent
from schema.errors import UserError
from schema.ids import global_id


@strawberry.type(
    description=(
        "A URL your jobs' events are POSTed to, signed per Standard Webhooks. Its "
        "secret is shown only by webhookEndpointCreate and webhookEndpointRotateSecret."
    )
)
class WebhookEndpoint(relay.Node):
    endpoint_id: relay.NodeID[str]
    url: str = strawberry.field(
        description="Where events are POSTed: https (http only where the server allows private addresses)."
    )
    events: list[WebhookEvent] = strawberry.field(description="The events sent to it.")
    is_active: bool = strawberry.field(
        description="False once deleted; nothing is sent to it from then on."
    )
    created_at: datetime = strawberry.field(
        description="When it was registered; it gets events from then on."
    )

    @classmethod
    def from_row(cls, row: models.WebhookEndpoint) -> "WebhookEndpoint":
        """Convert an endpoint row (never its secret)."""
        return cls(
            endpoint_id=str(row.id),
            url=row.url,
            events=parse_events(row.events),
            is_active=row.is_active,
            created_at=row.created_at,
        )


@strawberry.type(
    description="One job event sent, or to be sent, to one endpoint or to the job's own webhook."
)
class WebhookDelivery(relay.Node):
    delivery_id: relay.NodeID[str]
    message_id: str = strawberry.field(
        description="The webhook-id header: the same on every attempt, so receivers can drop repeats."
    )
    endpoint_id: relay.GlobalID | None = strawberry.field(
        description="The endpoint's id; null for the job's own webhook (given at submission)."
    )
    job_id: relay.GlobalID = strawberry.field(description="The job's id.")
    event: WebhookEvent = strawberry.field(description="What happened to the job.")
    status: WebhookDeliveryStatus = strawberry.field(
        description="Delivered, given up, or still to be (re)tried."
    )
    attempts: int = strawberry.field(description="Attempts made so far.")
    max_attempts: int = strawberry.field(
        description="Attempts it may take: 6 by default for a job's end, 1 for other events."
    )
    response_code: int | None = strawberry.field(
        description="HTTP status of the last answer; null when none came (refused, unreachable, timed out)."
    )
    last_error: str | None = strawberry.field(
        description="Why the last attempt failed, in a short sentence; null after a success."
    )
    next_attempt_at: datetime | None = strawberry.field(
        description="When the next attempt is due while PENDING; null once settled."
    )
    last_attempt_at: datetime | None = strawberry.field(
        description="When the last attempt started; null before the first."
    )
    created_at: datetime = strawberry.field(description="When the event happened.")
    payload: str = strawberry.field(
        description="The JSON body, exactly as sent and signed: {type, timestamp, data}."
    )

    @classmethod
    def from_row(cls, row: models.WebhookDelivery) -> "WebhookDelivery":
        """Convert a delivery row."""
        return cls(
            delivery_id=str(row.id),
            message_id=message_id(row.id),
            endpoint_id=None
            if row.endpoint_id is None
            else global_id("WebhookEndpoint", row.endpoint_id),
            job_id=global_id("Job", row.job_id),
            event=row.event,
            status=row.status,
            attempts=row.attempts,
            max_attempts=row.max_attempts,
            response_code=row.response_code,
            last_error=row.last_error,
            next_attempt_at=row.next_attempt_at,
            last_attempt_at=row.last_attempt_at,
            created_at=row.created_at,
            payload=row.payload,
        )


@strawberry.input(description="A new webhook endpoint.")
class WebhookEndpointCreateInput:
    url: str = strawberry.field(
        description=(
            "https URL, at most 2000 characters, without credentials; it may not name "
            "a loopback, private, link-local or metadata address (checked again at "
            "every send, after resolving)."
        )
    )
    events: list[WebhookEvent] | None = strawberry.field(
        default=None, description="The events to send; default all of them. Not empty."
    )


@strawberry.input(
    description="Which webhook deliveries to list; every given field must hold."
)
class WebhookDeliveryWhere:
    endpoint_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only deliveries to this endpoint (deleted ones too)."
    )
    job_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Only deliveries about this job."
    )
    status: list[WebhookDeliveryStatus] | None = strawberry.field(
        default=None,
        description="Only deliveries in one of these states; [] matches none.",
    )


@strawberry.type(description="Result of webhookEndpointCreate.")
class WebhookEndpointCreatePayload:
    webhook_endpoint: WebhookEndpoint | None = strawberry.field(
        description="The new endpoint; null on failure."
    )
    secret: str | None = strawberry.field(
        description="The signing secret (whsec_...): shown this once, store it now. Null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was created."
    )


@strawberry.type(description="Result of webhookEndpointDelete.")
class WebhookEndpointDeletePayload:
    webhook_endpoint: WebhookEndpoint | None = strawberry.field(
        description="The deleted endpoint (isActive false); null on failure."
    )
    user_errors: list[UserError] = strawberry.field(
        description="Why nothing was deleted."
    )


@strawberry.type(description="Result of webhookEndpointRotateSecret.")
class WebhookEndpointRotateSecretPayload:
    webhook_endpoint: WebhookEndpoint | None = strawberry.field(
        description="The endpoint; null on failure."
    )
    secret: str | None = strawberry.field(
        description="The new signing secret: shown this once; the old one stops signing now. Null on failure."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing changed.")


@strawberry.type(description="Result of webhookSigningSecretRotate.")
class WebhookSigningSecretRotatePayload:
    secret: str | None = strawberry.field(
        description="The new per-job signing secret; null on failure."
    )
    previous_secret_expires_at: datetime | None = strawberry.field(
        description="Until when the replaced secret also signs (24 hours); null on failure."
    )
    user_errors: list[UserError] = strawberry.field(description="Why nothing changed.")
