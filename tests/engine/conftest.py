"""Engine fixtures: the tiny in-code model, built once and loaded back from disk."""

import dataclasses
import os

# Before diffusers or huggingface_hub are imported: the suite must never reach
# the hub, and a missing file must fail at once rather than try a download.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"

from pathlib import Path  # after the offline switches
from types import MappingProxyType

import pytest
import torch

from engine.catalog import Catalog, Family, GenerationModel, builtin_catalog

# 64 px tensors gain nothing from intra-op threads, and on a busy 2-core box
# OpenMP spin-waiting made each tiny call 40x slower (5 s instead of 0.11 s).
torch.set_num_threads(1)

SIZE = 64  # smallest size the tiny VAE's x8 factor and the UNet both accept


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Leave `gpu` tests out unless `-m` names them: build machines have no CUDA."""
    if "gpu" in config.getoption("markexpr", ""):
        return
    gpu = [item for item in items if item.get_closest_marker("gpu")]
    if gpu:
        config.hook.pytest_deselected(items=gpu)
        items[:] = [item for item in items if not item.get_closest_marker("gpu")]


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder shared by the session; the tiny models are saved into it."""
    return tmp_path_factory.mktemp("engine-data")


@pytest.fixture(scope="session")
def catalog(data_dir: Path) -> Catalog:
    """The built-in catalog plus a tiny SDXL model, both built on first load."""
    builtin = builtin_catalog(data_dir)
    # float32 on CPU, not the bf16 default, so that runs can be compared with
    # the in-memory model and with each other at 1e-5.
    fp32 = MappingProxyType({"cpu": "float32"})
    tiny = dataclasses.replace(builtin.default_model(), dtypes=fp32)
    tiny_xl = GenerationModel(
        id="darkroom-tiny-xl",
        name="Darkroom tiny XL (random noise)",
        description="SDXL-shaped random-weight test model; outputs noise.",
        source=str(data_dir / "models" / "darkroom-tiny-xl"),
        family=Family.SDXL,
        builder="tiny-sdxl",
        dtypes=fp32,
        default_width=SIZE,
        default_height=SIZE,
        default_steps=3,
        schedulers=tiny.schedulers,
        min_width=SIZE,
        min_height=SIZE,
        max_width=1024,
        max_height=1024,
    )
    models = {tiny.id: tiny, tiny_xl.id: tiny_xl}
    return Catalog(models=MappingProxyType(models), upscalers=builtin.upscalers)


@pytest.fixture(scope="session")
def weights_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where converted upscaler weights are cached, shared by the session."""
    return tmp_path_factory.mktemp("upscalers")


@pytest.fixture(scope="session")
def upscalers(catalog: Catalog, weights_cache: Path):
    """The built-in upscalers on the CPU, each converted and loaded once."""
    from engine.upscale import UpscalerCache

    return UpscalerCache("cpu", cache_dir=weights_cache, catalog=catalog)


@pytest.fixture(scope="session")
def pipes():
    """One CPU pipeline cache for the session: models load through from_pretrained."""
    from engine.pipelines import PipelineCache

    return PipelineCache("cpu", max_loaded=2)


@pytest.fixture(scope="session")
def tiny_pipe():
    """The tiny SD-1.5 pipeline built in memory, never saved."""
    from engine.devmodel import build_tiny_sd15

    pipe = build_tiny_sd15(seed=0)
    pipe.set_progress_bar_config(disable=True)
    return pipe
