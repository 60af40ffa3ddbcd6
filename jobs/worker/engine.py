"""The engine adapter: one thread runs every engine call, models load on first use.

Torch and diffusers are imported inside the engine thread, on first use, so a
process imports them only when it runs jobs, and an in-process server can warm
them up in the background.
"""

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from PIL import Image

from engine.catalog import Catalog
from jobs.worker.execution import JobRun

if TYPE_CHECKING:
    from engine.generate import GenerationResult
    from engine.pipelines import PipelineCache
    from engine.requests import ResolvedRequest
    from engine.upscale import UpscalerCache, UpscaleResult

T = TypeVar("T")


class Engine:
    """The engine on one thread: GPU work is serialised, models load on first use."""

    def __init__(
        self, catalog: Catalog, *, cache_dir: Path, device: str | None = None
    ) -> None:
        self.catalog, self.cache_dir, self.device = catalog, cache_dir, device
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="engine")
        self._pipes: PipelineCache | None = None
        self._upscalers: UpscalerCache | None = None

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on the engine thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(fn, *args))

    def _device(self) -> str:
        from engine.pipelines import pick_device

        if self.device is None:
            self.device = pick_device()
        return self.device

    def generate(self, request: "ResolvedRequest", run: JobRun) -> "GenerationResult":
        """Engine thread: generate with the job's step hook and stop flag."""
        from engine.generate import generate

        return generate(self._pipeline_cache(), request, run.on_step, run.should_stop)

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
