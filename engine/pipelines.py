"""Load diffusers pipelines from catalog entries and keep the recent ones."""

import gc
import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import torch
from diffusers.pipelines.auto_pipeline import AutoPipelineForImage2Image
from diffusers.pipelines.pipeline_utils import DiffusionPipeline
from diffusers.utils import logging as diffusers_logging
from transformers.utils import logging as transformers_logging

from engine.building import MODULE_BUILDING
from engine.catalog import GenerationModel
from engine.devmodel import ensure_tiny_model
from engine.schedulers import make_scheduler

DTYPES: Mapping[str, torch.dtype] = MappingProxyType(
    {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}
)
_HUB_ID = re.compile(r"[\w.-]+/[\w.-]+")


class ModelLoadError(RuntimeError):
    """A model whose source cannot be found or loaded; names model and source."""


def pick_device(prefer: str | None = None) -> str:
    """Return `prefer` if usable, else the best device present: cuda, mps, then cpu."""
    if prefer is not None:
        kind = prefer.split(":")[0]
        usable = {
            "cuda": torch.cuda.is_available(),
            "mps": torch.backends.mps.is_available(),
            "cpu": True,
        }
        if not usable.get(kind, False):
            raise ValueError(
                f"device must be an available cuda, mps or cpu; got {prefer!r}"
            )
        return prefer
    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


@dataclass
class LoadedPipeline:
    """A loaded model: its text-to-image pipeline and, on demand, image-to-image."""

    model: GenerationModel
    device: str
    dtype: torch.dtype
    text2img: DiffusionPipeline
    nbytes: int  # weights and buffers held on the device
    base_scheduler: Any = field(init=False)
    _img2img: DiffusionPipeline | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.base_scheduler = self.text2img.scheduler

    def img2img(self) -> DiffusionPipeline:
        """Return the image-to-image pipeline, sharing this model's components."""
        if self._img2img is None:
            # from_pipe reuses the loaded modules: no second load, no more memory.
            # diffusers leaves from_pipe and set_progress_bar_config unannotated.
            auto: Any = AutoPipelineForImage2Image
            pipe: DiffusionPipeline = auto.from_pipe(self.text2img)
            pipe.set_progress_bar_config(disable=True)  # type: ignore[no-untyped-call]
            self._img2img = pipe
        return self._img2img

    @contextmanager
    def scheduler(self, pipe: DiffusionPipeline, scheduler_id: str) -> Iterator[None]:
        """Run a block with a fresh scheduler of the given id, then restore the base."""
        config = self.base_scheduler.config
        pipe.scheduler = make_scheduler(scheduler_id, config)
        try:
            yield
        finally:
            # Multistep schedulers keep state between steps; never let one
            # request's scheduler, or its state, reach the next request.
            pipe.scheduler = self.base_scheduler


class PipelineCache:
    """Loaded pipelines for one device, least recently used evicted first."""

    def __init__(
        self, device: str, *, max_loaded: int = 2, max_cuda_bytes: int | None = None
    ) -> None:
        if max_loaded < 1:
            raise ValueError(f"max_loaded must be at least 1; got {max_loaded}")
        self.device, self.max_loaded, self.max_cuda_bytes = (
            device,
            max_loaded,
            max_cuda_bytes,
        )
        self._loaded: OrderedDict[str, LoadedPipeline] = OrderedDict()

    def get(self, model: GenerationModel) -> LoadedPipeline:
        """Return the model's pipelines, loading them (and evicting others) if needed."""
        loaded = self._loaded.get(model.id)
        if loaded is not None and loaded.model == model:
            self._loaded.move_to_end(model.id)
            return loaded
        self._drop(model.id)
        while len(self._loaded) >= self.max_loaded:  # free memory before loading
            self._drop(next(iter(self._loaded)))
        loaded = load_pipeline(model, self.device)
        self._loaded[model.id] = loaded
        if self.max_cuda_bytes is not None and self.device.startswith("cuda"):
            while len(self._loaded) > 1 and self.loaded_bytes() > self.max_cuda_bytes:
                self._drop(next(iter(self._loaded)))
        return loaded

    def preload(self, models: Iterable[GenerationModel]) -> None:
        """Load models now, so that a bad source fails at startup, not at a job."""
        for model in models:
            self.get(model)

    def loaded_ids(self) -> list[str]:
        """Return the ids of loaded models, least recently used first."""
        return list(self._loaded)

    def loaded_bytes(self) -> int:
        """Return the bytes of weights held by all loaded models."""
        return sum(loaded.nbytes for loaded in self._loaded.values())

    def _drop(self, model_id: str) -> None:
        if self._loaded.pop(model_id, None) is None:
            return
        gc.collect()
        if self.device.startswith("cuda"):
            torch.cuda.empty_cache()


def load_pipeline(model: GenerationModel, device: str) -> LoadedPipeline:
    """Load a model's text-to-image pipeline on a device in the model's dtype.

    Args:
        model: The catalog entry; `source` is a diffusers folder or a hub repo id.
        device: "cuda", "mps", "cpu" or an indexed device such as "cuda:1".

    Returns:
        The pipeline on the device with its progress bar off.
    """
    # Their loading and saving bars would interleave with the service's logs.
    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # unannotated
    with MODULE_BUILDING:
        return _load(model, device)


def _load(model: GenerationModel, device: str) -> LoadedPipeline:
    dtype = DTYPES[model.dtypes.get(device.split(":")[0], "float32")]
    path = Path(model.source)
    if model.builder is not None and not (path / "model_index.json").exists():
        ensure_tiny_model(path, model.builder)
    options: dict[str, Any]
    if path.is_dir():
        if not (path / "model_index.json").is_file():
            raise ModelLoadError(
                f"model {model.id}: {path} is not a diffusers folder (no model_index.json)"
            )
        options = {"local_files_only": True}
    elif not path.is_absolute() and _HUB_ID.fullmatch(model.source):
        options = {"revision": model.revision}
    else:
        raise ModelLoadError(
            f"model {model.id}: source {model.source!r} is neither an existing"
            " folder nor a hub repo id (owner/name)"
        )
    try:
        pipe: DiffusionPipeline = DiffusionPipeline.from_pretrained(
            model.source, dtype=dtype, **options
        )
    except (OSError, ValueError) as err:
        where = "folder" if path.is_dir() else "hub repo (not cached, or offline)"
        raise ModelLoadError(
            f"model {model.id}: cannot load {where} {model.source!r}: {err}"
        ) from err
    pipe.to(device)
    pipe.set_progress_bar_config(disable=True)  # type: ignore[no-untyped-call]  # unannotated
    nbytes = sum(
        t.numel() * t.element_size()
        for part in pipe.components.values()
        if isinstance(part, torch.nn.Module)
        for t in (*part.parameters(), *part.buffers())
    )
    return LoadedPipeline(
        model=model, device=device, dtype=dtype, text2img=pipe, nbytes=nbytes
    )
