"""One attempt of one webhook delivery, and the sweep that resends lost ones.

The arq task and the in-process runner both call `attempt_delivery` with the
delivery id and the attempt's number; the claim makes a repeat a no-op.
"""

import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Database
from core.enums import WebhookDeliveryStatus
from core.metrics import WEBHOOK_DELIVERIES
from core.models import WebhookDelivery, WebhookEndpoint, utcnow
from core.settings import Settings
from core.webhooks.deliveries import (
    claim_attempt,
    due_deliveries,
    retry_delay,
    settle_attempt,
)
from core.webhooks.endpoints import previous_secret
from core.webhooks.job_hooks import hook_secret, hook_url
from core.webhooks.sender import Attempt, post_signed
from core.webhooks.signing import message_id, signed_headers
from jobs.queue import DeliveryQueue
from jobs.services import Jobs
from jobs.webhooks.hook import announce_missed_ends
from jobs.webhooks.job_hook import announce_missed_hook_ends

log = logging.getLogger(__name__)

# Past the attempt's own timeout, a claimed attempt that never settled is
# presumed lost with its sender, and the sweeper makes it again.
LEASE_MARGIN_SECONDS = 30
# The `result` label of darkroom_webhook_deliveries_total for each settled status.
_RESULTS = {
    WebhookDeliveryStatus.DELIVERED: "delivered",
    WebhookDeliveryStatus.PENDING: "retrying",
    WebhookDeliveryStatus.FAILED: "failed",
}


async def attempt_delivery(
    db: Database,
    settings: Settings,
    queue: DeliveryQueue,
    *,
    delivery_id: uuid.UUID,
    attempt: int,
) -> None:
    """Make attempt `attempt` of a delivery if it is still to be made; settle it,
    and queue the next one when a terminal event's attempt failed."""
    lease = timedelta(seconds=settings.webhook_timeout_seconds + LEASE_MARGIN_SECONDS)
    async with db.session() as session:
        claimed = await claim_attempt(
            session, delivery_id=delivery_id, attempt=attempt, lease=lease
        )
        if claimed is None:
            return  # made already, or settled (delivered, failed, endpoint deleted)
        delivery, endpoint = claimed
        target = await _target(session, delivery, endpoint)
    outcome = await _post(settings, delivery, target)
    retry = (
        not outcome.delivered
        and outcome.retryable
        and delivery.attempts < delivery.max_attempts
    )
    next_at = None
    if retry:
        base = settings.webhook_retry_base_seconds
        next_at = utcnow() + retry_delay(delivery.attempts, base=base)
    if outcome.delivered:
        status = WebhookDeliveryStatus.DELIVERED
    else:
        status = (
            WebhookDeliveryStatus.PENDING if retry else WebhookDeliveryStatus.FAILED
        )
    async with db.session() as session:
        settled = await settle_attempt(
            session,
            delivery=delivery,
            status=status,
            response_code=outcome.response_code,
            error=outcome.error,
            next_attempt_at=next_at,
        )
    WEBHOOK_DELIVERIES.labels(result=_RESULTS[status]).inc()
    if settled and next_at is not None:
        try:
            await queue.enqueue(delivery.id, attempt=delivery.attempts, at=next_at)
        except Exception as err:
            log.warning("webhook %s: retry left to the sweeper (%r)", delivery.id, err)


@dataclass(frozen=True)
class _Target:
    """Where a delivery goes and what signs it: its endpoint, or the job's own
    webhook under the account's per-job secret."""

    url: str | None  # None: nowhere any more (the endpoint was deleted)
    secret: str
    previous: str | None


async def _target(
    session: AsyncSession, delivery: WebhookDelivery, endpoint: WebhookEndpoint | None
) -> _Target:
    now = utcnow()
    if endpoint is not None:
        url = endpoint.url if endpoint.is_active else None
        return _Target(url, endpoint.secret, previous_secret(endpoint, now=now))
    url = await hook_url(session, job_id=delivery.job_id)
    secret = await hook_secret(session, user_id=delivery.user_id)
    return _Target(url, secret.secret, previous_secret(secret, now=now))


async def _post(
    settings: Settings, delivery: WebhookDelivery, target: _Target
) -> Attempt:
    if target.url is None:
        return Attempt(False, error="the endpoint was deleted", retryable=False)
    msg_id = message_id(delivery.id)
    headers = signed_headers(
        target.secret, msg_id=msg_id, body=delivery.payload, previous=target.previous
    )
    return await post_signed(
        target.url,
        delivery.payload,
        headers,
        timeout=settings.webhook_timeout_seconds,
        allow_private=settings.webhook_allow_private,
    )


async def sweep_webhooks(jobs: Jobs) -> int:
    """The webhook part of the sweep: queue every delivery left due, then record
    (and queue) the ends never recorded; returns how many of both.

    In that order, so a late end's delivery, queued as it is recorded, is not
    queued again at once (and counted twice, or not at all once a sender in this
    process has taken it).
    """
    if jobs.deliveries is None:
        return 0
    resent = await resend_due(jobs.db, jobs.deliveries)
    late = await announce_missed_ends(jobs) + await announce_missed_hook_ends(jobs)
    return resent + late


async def resend_due(db: Database, queue: DeliveryQueue) -> int:
    """Queue every pending delivery whose time has come: never queued (the queue
    was away), or claimed by a sender that died. Queued ones are not doubled."""
    async with db.session() as session:
        due = await due_deliveries(session)
    now = utcnow()
    for delivery_id, attempt in due:
        await queue.enqueue(delivery_id, attempt=attempt, at=now)
    return len(due)
