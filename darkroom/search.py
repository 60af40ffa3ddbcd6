"""Search's start-up: which model, whether this deployment can search, and the
embedders each kind of process uses (torch in workers, ONNX in the API)."""

import asyncio
import functools
import logging
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from core.db import Database
from core.search.candidates import limit_memory
from core.search.index import (
    SearchUnavailable,
    adopt_model,
    can_search,
    count_unindexed,
    open_index,
    store_vectors,
    unindexed_outputs,
)
from core.settings import Settings
from engine.embedding.folder import (
    ModelFolder,
    ModelUnavailable,
    bundled_model_folder,
    read_model_folder,
)

if TYPE_CHECKING:
    from api.query_vectors import CachedQueryVectors
    from engine.embedding.torch_model import TorchEmbedder

log = logging.getLogger("darkroom.search")


def model_folder(settings: Settings) -> ModelFolder:
    """The configured model, or the bundled one unpacked into data_dir/models."""
    path = settings.search_model or bundled_model_folder(settings.data_dir / "models")
    return read_model_folder(path)


async def open_search(
    settings: Settings, db: Database, *, can_export: bool
) -> ModelFolder | None:
    """The model search runs with, checked against the index; None when off.

    "auto" turns search off, with a warning, where it cannot run (no model, or
    PostgreSQL without pgvector); "on" refuses to start there. A model other than
    the index's is refused either way: `darkroom search reindex` rebuilds it.
    `can_export` says this process has torch, to export the model to ONNX for
    the API's query embedder when the folder lacks it (or holds a stale one).
    """
    if settings.search == "off":
        return None
    limit_memory(settings.search_cache_mb * 2**20)
    try:
        folder = model_folder(settings)
        if not await can_search(db):
            raise SearchUnavailable(
                "search on PostgreSQL needs the pgvector extension, which this"
                " server lacks; install it or set DARKROOM_SEARCH=off"
            )
        try:
            query_vectors(folder)  # loads the export, refusing a missing or stale one
        except ModelUnavailable:
            if not can_export:
                raise
            export_model(folder)
            query_vectors(folder)
    except (ModelUnavailable, SearchUnavailable) as err:
        if settings.search == "on":
            raise SearchUnavailable(str(err)) from err
        log.warning("search is off: %s", err)
        return None
    try:
        await open_index(db, model_id=folder.model_id, dimension=folder.dimension)
    except (sa.exc.OperationalError, sa.exc.ProgrammingError) as err:
        # A database migrate has not reached (no search_index table yet).
        if settings.search == "on":
            raise SearchUnavailable(
                "the database has no search tables; run `darkroom migrate`"
            ) from err
        log.warning("search is off: the database has no search tables yet")
        return None
    return folder


def export_model(folder: ModelFolder) -> Path:
    """Export the model to ONNX beside its weights (torch, once per folder).

    In a child process: torch loaded here, before the engine's thread has set its
    thread count, would leave OpenMP's idle threads spinning for good.
    """
    log.info("exporting %s to ONNX for the API's search (once)", folder.path)
    script = (
        "import sys; from pathlib import Path;"
        " from engine.embedding.folder import read_model_folder;"
        " from engine.embedding.torch_model import export_onnx;"
        " export_onnx(read_model_folder(Path(sys.argv[1])))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(folder.path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ModelUnavailable(f"exporting {folder.path} to ONNX failed: {last}")
    return folder.onnx_path


@functools.cache
def torch_embedder(folder: ModelFolder) -> "TorchEmbedder":
    """The worker's prompt embedder, loaded once per process and model."""
    from engine.embedding.torch_model import TorchEmbedder

    return TorchEmbedder(folder)


@functools.cache
def query_vectors(folder: ModelFolder) -> "CachedQueryVectors":
    """The API's query embedder, loaded once per process and model."""
    from api.query_vectors import CachedQueryVectors
    from engine.embedding.onnx_runtime import OnnxEmbedder

    return CachedQueryVectors(OnnxEmbedder(folder))


REINDEX_BATCH = 256


async def reindex(
    settings: Settings,
    db: Database,
    *,
    started: Callable[[int, bool], None],
    advanced: Callable[[int], None],
) -> int:
    """Embed every output that has no vector, in batches, each committed.

    A model other than the index's empties the index first; otherwise this
    resumes where an earlier run stopped. `started(total, rebuilt)` is called
    once, `advanced(n)` after each batch. Returns how many were embedded.
    """
    folder = model_folder(settings)
    if not await can_search(db):
        raise SearchUnavailable(
            "search on PostgreSQL needs the pgvector extension, which this server"
            " lacks; install it first"
        )
    try:
        query_vectors(folder)
    except ModelUnavailable:  # no export, or one of other weights
        export_model(folder)
    rebuilt = await adopt_model(
        db, model_id=folder.model_id, dimension=folder.dimension
    )
    async with db.reading() as session:
        total = await count_unindexed(session)
    started(total, rebuilt)
    embedder = torch_embedder(folder)
    done, after = 0, None
    while True:
        async with db.reading() as session:
            batch = await unindexed_outputs(session, after=after, limit=REINDEX_BATCH)
        if not batch:
            return done
        vectors = await asyncio.to_thread(
            embedder.embed, [item.prompt for item in batch]
        )
        async with db.session() as session:
            await store_vectors(session, list(zip(batch, vectors, strict=True)))
        done += len(batch)
        after = batch[-1].id
        advanced(len(batch))
