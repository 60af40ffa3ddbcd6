"""The services every job function takes: built once per process, passed in."""

from dataclasses import dataclass

from core.db import Database
from core.settings import Settings
from core.storage import Storage
from engine.catalog import Catalog
from jobs.events import EventBus
from jobs.queue import DeliveryQueue, JobQueue


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
