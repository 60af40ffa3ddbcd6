"""The services every job function takes: built once per process, passed in."""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from core.db import Database
from core.models import Output
from core.settings import Settings
from core.storage import Storage
from engine.catalog import Catalog
from jobs.events import EventBus
from jobs.queue import DeliveryQueue, JobQueue


class OutputIndexer(Protocol):
    """Makes stored outputs searchable (jobs/worker/indexing.py)."""

    def index(self, outputs: Sequence[Output]) -> None:
        """Queue committed outputs for embedding; returns at once."""
        ...

    async def stop(self) -> None:
        """Embed what is queued, then stop."""
        ...


@dataclass
class Jobs:
    """Everything the job functions need, built once by the composition root
    (darkroom/services.py) in each process."""

    db: Database
    settings: Settings
    catalog: Catalog
    queue: JobQueue
    events: EventBus
    storage: Storage
    # None sends no webhooks (tests of other things build Jobs without it).
    deliveries: DeliveryQueue | None = None
    # None where search is off, and in processes that run no jobs.
    indexer: OutputIndexer | None = None
