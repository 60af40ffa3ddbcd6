"""Every Prometheus metric Darkroom exports, defined once in the process registry.

Dashboards rely on these names. No label takes unbounded values: operation
types, HTTP status codes, job kinds and statuses, lanes, event types, webhook
results and catalog model ids only; never an account, job, token or prompt.
"""

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Mapping

from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import event
from sqlalchemy.orm import Session

# A `_created` series per counter and histogram doubles the page for nothing a
# dashboard of ours reads; Prometheus tells resets from the values themselves.
disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus-client leaves it unannotated

# Seconds: GraphQL operations are milliseconds; job runs and waits are seconds to
# minutes (the job timeout is ten minutes by default).
_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
_SLOW = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800)

HTTP_REQUESTS = Counter(
    "darkroom_http_requests",
    "GraphQL HTTP requests by operation type (none when no operation was read) "
    "and HTTP status.",
    ["operation_type", "status"],
)
GRAPHQL_OPERATION_SECONDS = Histogram(
    "darkroom_graphql_operation_seconds",
    "Time spent on one GraphQL operation, parse to result (a subscription: its life).",
    ["operation_type"],
    buckets=_FAST,
)
JOBS_SUBMITTED = Counter(
    "darkroom_jobs_submitted", "Jobs accepted and charged, by kind.", ["kind"]
)
JOBS_FINISHED = Counter(
    "darkroom_jobs_finished",
    "Jobs that reached a terminal status, by kind and status.",
    ["kind", "status"],
)
JOB_QUEUE_WAIT_SECONDS = Histogram(
    "darkroom_job_queue_wait_seconds",
    "Time a job waited from submission until a worker started it.",
    buckets=_SLOW,
)
JOB_RUN_SECONDS = Histogram(
    "darkroom_job_run_seconds",
    "Time a job ran on a worker, start to end, by catalog model.",
    ["model"],
    buckets=_SLOW,
)
SUBSCRIPTIONS_ACTIVE = Gauge(
    "darkroom_subscriptions_active",
    "GraphQL subscriptions running on this process's websockets and HTTP streams.",
)
EVENTS_PUBLISHED = Counter(
    "darkroom_events_published", "Job events published, by type.", ["type"]
)
WEBHOOK_DELIVERIES = Counter(
    "darkroom_webhook_deliveries",
    "Webhook delivery attempts, by result: delivered, retrying or failed.",
    ["result"],
)
CREDITS_CHARGED = Counter(
    "darkroom_credits_charged", "Credits debited from accounts, once committed."
)

OTHER_MODEL = "other"  # the model label of a job whose model left the catalog
_PENDING_CREDITS = "darkroom_metrics_credits"  # Session.info key


def model_label(model_id: str, known: Callable[[str], bool]) -> str:
    """The model label: the catalog id, or `other` for an id the catalog lacks."""
    return model_id if known(model_id) else OTHER_MODEL


def count_credits_on_commit(session: Session, amount: int) -> None:
    """Add `amount` to the credits-charged counter once `session` commits; a
    rollback forgets it, so a refused submission is never counted."""
    session.info[_PENDING_CREDITS] = session.info.get(_PENDING_CREDITS, 0) + amount


@event.listens_for(Session, "after_commit")
def _count_committed_credits(session: Session) -> None:
    amount = session.info.pop(_PENDING_CREDITS, 0)
    if amount:
        CREDITS_CHARGED.inc(amount)


@event.listens_for(Session, "after_rollback")
def _forget_credits(session: Session) -> None:
    session.info.pop(_PENDING_CREDITS, None)


Depths = Callable[[], Awaitable[Mapping[str, int]]]


class QueueDepth(Collector):
    """`darkroom_queue_depth{lane}`, counted when scraped.

    Prometheus collects in whatever thread serves the scrape; the count runs on
    the event loop that owns the database connections, and a scrape waits at
    most `timeout` seconds for it (the gauge is left out if it takes longer).
    """

    def __init__(
        self, depths: Depths, loop: asyncio.AbstractEventLoop, *, timeout: float = 5
    ) -> None:
        self.depths, self.loop, self.timeout = depths, loop, timeout

    def collect(self) -> Iterator[Metric]:
        """Count queued jobs per lane (never from the loop's own thread)."""
        future = asyncio.run_coroutine_threadsafe(self._read(), self.loop)
        try:
            counts = future.result(timeout=self.timeout)
        except Exception:  # a scrape must not fail because the count did
            future.cancel()
            return
        family = GaugeMetricFamily(
            "darkroom_queue_depth", "Jobs waiting to start, by lane.", labels=["lane"]
        )
        for lane, count in sorted(counts.items()):
            family.add_metric([lane], count)
        yield family

    async def _read(self) -> Mapping[str, int]:
        return await self.depths()


class _Everything(Collector):
    """The process registry's metrics, inside another registry."""

    def collect(self) -> Iterator[Metric]:
        yield from REGISTRY.collect()


def exported_registry(*collectors: Collector) -> CollectorRegistry:
    """A registry of the process's metrics plus `collectors` (per app or worker)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Everything())
    for collector in collectors:
        registry.register(collector)
    return registry
