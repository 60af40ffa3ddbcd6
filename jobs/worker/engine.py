"""The engine adapter: one thread runs every engine call, models load on first use.

Torch and diffusers are imported inside the engine thread, on first use, so a
process imports them only when it runs jobs, and an in-process server can warm
them up in the background.
"""

import asyncio
import functools
import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PIL import Image

from core import tracing
from engine.catalog import Catalog
from jobs.worker.execution import JobRun

if TYPE_CHECKING:
    from engine.generate import BatchOutcome
    from engine.pipelines import PipelineCache
    from engine.requests import ResolvedRequest
    from engine.upscale import UpscalerCache, UpscaleResult

T = TypeVar("T")
log = logging.getLogger(__name__)


class Engine:
    """The engine on one thread: GPU work is serialised, models load on first use."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        cache_dir: Path,
        device: str | None = None,
        threads: int | None = None,
    ) -> None:
        """Start the engine thread; with `threads`, its first task sets torch's CPU
        threads, which must come before anything imports torch (a process that
        runs jobs passes it; tests and benchmarks that share a process leave it)."""
        self.catalog, self.cache_dir, self.device = catalog, cache_dir, device
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine")
        self._pipes: PipelineCache | None = None
        self._upscalers: UpscalerCache | None = None
        if threads is not None:
            # The thread takes tasks in order, so every engine call comes after.
            self.executor.submit(_configure_threads, threads)

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on the engine thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args))

    def _device(self) -> str:
        from engine.pipelines import pick_device

        if self.device is None:
            self.device = pick_device()
        return self.device

    def generate_batch(
        self,
        requests: Sequence["ResolvedRequest"],
        runs: Sequence[JobRun],
        max_images: int,
    ) -> list["BatchOutcome"]:
        """Engine thread: generate each job's request, compatible ones in one call,
        each with its own step hook and stop flag."""
        from engine.generate import generate_batch

        return generate_batch(
            self._pipeline_cache(),
            requests,
            [run.on_step for run in runs],
            [run.should_stop for run in runs],
            max_batch_images=max_images,
            on_phases=[run.on_phase for run in runs] if tracing.enabled() else None,
        )

    def upscale(
        self, image: Image.Image, model_id: str, run: JobRun
    ) -> "UpscaleResult":
        """Engine thread: upscale with the job's step hook and stop flag."""
        from engine.upscale import upscale

        return upscale(
            self._upscaler_cache(), image, model_id, run.on_step, run.should_stop
        )

    def preload(self) -> None:
        """Engine thread: load the default model and upscaler now, so that a bad
        source shows at start-up rather than in the first user's job."""
        self._pipeline_cache().preload([self.catalog.default_model()])
        self._upscaler_cache().get(self.catalog.default_upscaler().id)

    def _pipeline_cache(self) -> "PipelineCache":
        from engine.pipelines import PipelineCache

        if self._pipes is None:
            self._pipes = PipelineCache(self._device(), max_loaded=2)
        return self._pipes

    def _upscaler_cache(self) -> "UpscalerCache":
        from engine.upscale import UpscalerCache

        if self._upscalers is None:
            self._upscalers = UpscalerCache(
                self._device(), cache_dir=self.cache_dir, catalog=self.catalog
            )
        return self._upscalers

    def close(self) -> None:
        """Let the thread finish its current call; drop queued ones."""
        self.executor.shutdown(wait=False, cancel_futures=True)


def _configure_threads(threads: int) -> None:
    """Engine thread: set torch's threads; say so when the wait policy came too late."""
    from engine.threads import configure_threads

    # A policy already in the environment (an operator's export, or a benchmark
    # that configured itself first) was read when torch loaded.
    asked = os.environ.get("OMP_WAIT_POLICY", "").upper() == "PASSIVE"
    if configure_threads(threads) or asked:
        log.info("engine: %d torch thread(s), passive OpenMP wait", threads)
    else:
        log.warning(
            "engine: %d torch thread(s), but torch was loaded before they were"
            " set: idle OpenMP threads spin (OMP_WAIT_POLICY=PASSIVE did not"
            " take effect)",
            threads,
        )
