"""Make finished outputs searchable: embed their prompts off the request path,
in batches, as jobs end (within a second or two of the end).

An output whose vector is lost here (the worker stopped first, the database was
away too long) is found again by `darkroom search reindex`, which embeds every
output that has none.
"""

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from core.db import Database, retry_database
from core.models import Output
from core.search.index import Unindexed, store_vectors

log = logging.getLogger(__name__)
BATCH = 64
# How long the first prompt of a batch waits for others to join it.
LINGER_SECONDS = 0.05
DATABASE_PATIENCE_SECONDS = 30


class Embedder(Protocol):
    """Prompt vectors (engine.embedding.torch_model.TorchEmbedder)."""

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray: ...


class SearchIndexer:
    """Embeds the prompts of stored outputs and writes their vectors."""

    def __init__(self, db: Database, load: Callable[[], Embedder]) -> None:
        self.db = db
        # Loaded with the first batch, which comes after a job has run: torch's
        # threads are set by then (the engine's first task sets them).
        self.load = load
        self.embedder: Embedder | None = None
        self._waiting: asyncio.Queue[Unindexed] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def index(self, outputs: Sequence[Output]) -> None:
        """Queue these committed outputs for embedding; returns at once."""
        for output in outputs:
            if output.prompt:
                self._waiting.put_nowait(Unindexed(id=output.id, prompt=output.prompt))

    async def start(self) -> None:
        """Start embedding in the background."""
        self._task = asyncio.create_task(self._run(), name="search indexer")

    async def stop(self, *, patience: float = 10) -> None:
        """Embed what is queued (up to `patience` seconds), then stop."""
        if self._task is None:
            return
        try:
            await asyncio.wait_for(self._waiting.join(), timeout=patience)
        except TimeoutError:
            log.warning(
                "search indexer stopped with %d prompts left; "
                "`darkroom search reindex` embeds them",
                self._waiting.qsize(),
            )
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self._task = None

    async def _run(self) -> None:
        while True:
            batch = [await self._waiting.get()]
            loop = asyncio.get_running_loop()
            until = loop.time() + LINGER_SECONDS
            while len(batch) < BATCH and (left := until - loop.time()) > 0:
                try:
                    batch.append(await asyncio.wait_for(self._waiting.get(), left))
                except TimeoutError:
                    break
            try:
                await self._write(batch)
            except Exception:
                log.exception(
                    "could not index %d outputs; reindex finds them", len(batch)
                )
            finally:
                for _ in batch:
                    self._waiting.task_done()

    async def _write(self, batch: list[Unindexed]) -> None:
        prompts = [item.prompt for item in batch]
        if self.embedder is None:
            self.embedder = await asyncio.to_thread(self.load)
        vectors = await asyncio.to_thread(self.embedder.embed, prompts)

        async def write() -> None:
            async with self.db.session() as session:
                await store_vectors(session, list(zip(batch, vectors, strict=True)))

        await retry_database(
            write, what="search vectors", patience=DATABASE_PATIENCE_SECONDS
        )
