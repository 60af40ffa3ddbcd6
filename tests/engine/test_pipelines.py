"""Loading: the saved tiny models, SDXL, scheduler swaps, errors and eviction."""

import dataclasses

import numpy as np
import pytest
import torch
from diffusers import EulerDiscreteScheduler
from PIL import Image

from engine.catalog import builtin_catalog
from engine.devmodel import build_tiny_sdxl
from engine.generate import generate
from engine.pipelines import ModelLoadError, PipelineCache, pick_device
from engine.requests import GenerationRequest, resolve_request

SIZE = 64


def run(pipe, steps: int = 3, **extra) -> np.ndarray:
    if "image" not in extra:
        extra |= {"width": SIZE, "height": SIZE}
    return pipe(
        "a red house",
        num_inference_steps=steps,
        generator=torch.Generator().manual_seed(3),
        output_type="np",
        **extra,
    ).images


def test_the_saved_model_equals_the_in_memory_one(pipes, catalog, tiny_pipe) -> None:
    # given the tiny model built in memory and the copy saved and loaded back
    loaded = pipes.get(catalog.model("darkroom-tiny"))
    # when both run the same inputs
    expected, actual = run(tiny_pipe), run(loaded.text2img)
    # then the outputs agree
    np.testing.assert_allclose(actual, expected, atol=1e-5)
    assert loaded.dtype is torch.float32


def test_img2img_shares_the_loaded_components(pipes, catalog) -> None:
    # given a loaded model
    loaded = pipes.get(catalog.model("darkroom-tiny"))
    # when its image-to-image pipeline is requested twice
    img2img = loaded.img2img()
    # then it is built once and reuses the same modules
    assert loaded.img2img() is img2img
    assert img2img.unet is loaded.text2img.unet
    assert img2img.vae is loaded.text2img.vae


def test_the_tiny_sdxl_model_survives_save_and_reload(pipes, catalog) -> None:
    # given the SDXL-shaped model in memory and through the loader
    memory = build_tiny_sdxl(seed=0)
    memory.set_progress_bar_config(disable=True)
    loaded = pipes.get(catalog.model("darkroom-tiny-xl"))
    # when both run the same inputs
    # then they agree within float noise
    np.testing.assert_allclose(run(loaded.text2img), run(memory), atol=1e-5)
    assert type(loaded.text2img).__name__ == "StableDiffusionXLPipeline"


def test_sdxl_requests_run_txt2img_and_img2img(pipes, catalog) -> None:
    # given an SDXL request and a progress recorder
    steps = []
    request = GenerationRequest(
        model_id="darkroom-tiny-xl",
        prompt="a dog",
        seed=1,
        inference_steps=2,
        preview_every=1,
    )
    # when it runs, then again from an init image
    txt = generate(
        pipes,
        resolve_request(catalog, request),
        lambda s, t, p: steps.append((s, p.size)),
    )
    image = dataclasses.replace(
        request, init_image=txt.images[0].image, prompt_strength=1.0
    )
    img = generate(pipes, resolve_request(catalog, image))
    # then both give images of the requested size, with previews every step
    assert steps == [(1, (8, 8)), (2, (8, 8))]
    assert txt.images[0].image.size == img.images[0].image.size == (SIZE, SIZE)


def test_every_allowed_scheduler_runs_and_the_base_one_comes_back(
    pipes, catalog
) -> None:
    # given the loaded tiny model and its base scheduler
    model = catalog.model("darkroom-tiny")
    loaded = pipes.get(model)
    base = loaded.text2img.scheduler
    baseline = run(loaded.text2img)
    for scheduler_id in model.schedulers:
        # when a request uses that scheduler
        steps = []
        request = GenerationRequest(
            model.id,
            "a cat",
            width=SIZE,
            height=SIZE,
            inference_steps=3,
            scheduler_id=scheduler_id,
        )
        generate(
            pipes,
            resolve_request(catalog, request),
            lambda s, t, p, log=steps: log.append(s),
        )
        with loaded.scheduler(loaded.text2img, scheduler_id):
            swapped = type(loaded.text2img.scheduler).__name__
            output = run(loaded.text2img)
        # then each step is reported once, the output is finite
        assert steps == [1, 2, 3], scheduler_id
        assert np.isfinite(output).all(), scheduler_id
        assert swapped != "EulerDiscreteScheduler" or scheduler_id == "K_EULER"
        # and the base scheduler is back
        assert loaded.text2img.scheduler is base
    # and an Euler run after all the swaps equals the one before
    assert isinstance(loaded.text2img.scheduler, EulerDiscreteScheduler)
    assert np.array_equal(run(loaded.text2img), baseline)


def test_heun_and_pndm_img2img_report_exactly_the_strength_steps(
    pipes, catalog
) -> None:
    # given schedulers that run more model calls than steps
    for scheduler_id in ("HEUN", "PNDM", "DPM++_2S"):
        steps = []
        request = GenerationRequest(
            "darkroom-tiny",
            "a cat",
            inference_steps=10,
            prompt_strength=0.3,
            scheduler_id=scheduler_id,
            init_image=Image.new("RGB", (SIZE, SIZE)),
        )
        # when an img2img request runs
        generate(
            pipes,
            resolve_request(catalog, request),
            lambda s, t, p, log=steps: log.append((s, t)),
        )
        # then int(10 * 0.3) = 3 steps are reported
        assert steps == [(1, 3), (2, 3), (3, 3)], scheduler_id


def test_a_missing_folder_fails_at_once_with_a_clear_error(catalog, tmp_path) -> None:
    # given a model whose absolute source folder does not exist
    model = dataclasses.replace(
        catalog.model("darkroom-tiny"), source=str(tmp_path / "gone"), builder=None
    )
    # when it is loaded
    # then the error names the model and the source
    with pytest.raises(ModelLoadError, match=r"darkroom-tiny: source .*gone"):
        PipelineCache("cpu").get(model)


def test_a_folder_without_model_index_is_refused(catalog, tmp_path) -> None:
    # given an empty folder as source
    model = dataclasses.replace(
        catalog.model("darkroom-tiny"), source=str(tmp_path), builder=None
    )
    # when it is loaded
    # then it is refused before diffusers is asked
    with pytest.raises(ModelLoadError, match=r"no model_index\.json"):
        PipelineCache("cpu").get(model)


def test_an_uncached_hub_id_fails_offline_without_waiting(catalog) -> None:
    # given a hub repo id that is not in the cache, with HF_HUB_OFFLINE=1
    model = dataclasses.replace(
        catalog.model("darkroom-tiny"), source="nobody/no-such-model", builder=None
    )
    # when it is loaded
    # then a ModelLoadError says it is a hub repo that could not be loaded
    with pytest.raises(ModelLoadError, match="hub repo"):
        PipelineCache("cpu").get(model)


def test_the_cache_evicts_the_least_recently_used_model(catalog) -> None:
    # given a cache holding one model
    cache = PipelineCache("cpu", max_loaded=1)
    tiny, tiny_xl = catalog.model("darkroom-tiny"), catalog.model("darkroom-tiny-xl")
    first = cache.get(tiny)
    # when the same model is asked again, then another
    assert cache.get(tiny) is first
    cache.get(tiny_xl)
    # then only the newest is kept
    assert cache.loaded_ids() == ["darkroom-tiny-xl"]
    assert cache.loaded_bytes() > 0


def test_pick_device_falls_back_to_cpu_and_refuses_absent_devices() -> None:
    # given a machine without a GPU
    # when a device is picked
    # then it is the CPU, and asking for CUDA is an error
    assert pick_device() == "cpu"
    assert pick_device("cpu") == "cpu"
    with pytest.raises(ValueError, match="cuda"):
        pick_device("cuda")


def test_the_builtin_model_runs_in_bfloat16_on_cpu(data_dir) -> None:
    # given the built-in catalog, whose CPU dtype is the measured-faster bf16
    catalog = builtin_catalog(data_dir)
    cache = PipelineCache("cpu", max_loaded=1)
    previews = []
    request = GenerationRequest(
        "darkroom-tiny",
        "a cat",
        width=SIZE,
        height=SIZE,
        inference_steps=2,
        preview_every=1,
    )
    # when it generates
    result = generate(
        cache, resolve_request(catalog, request), lambda s, t, p: previews.append(p)
    )
    # then the weights are bf16 and the image and previews come out as RGB
    assert cache.get(catalog.default_model()).dtype is torch.bfloat16
    assert result.images[0].image.size == (SIZE, SIZE)
    assert [p.mode for p in previews] == ["RGB", "RGB"]
