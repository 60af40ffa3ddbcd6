"""Request validation: catalog defaults, and each rule reports field and code."""

import dataclasses
from pathlib import Path

import pytest
from PIL import Image

from engine.catalog import Catalog, builtin_catalog
from engine.requests import (
    MAX_SEED,
    GenerationRequest,
    InvalidRequest,
    InvalidRequests,
    resolve_request,
)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return builtin_catalog(Path("/nonexistent"))


def request(**changes) -> GenerationRequest:
    values = {"model_id": "darkroom-tiny", "prompt": "a photo", **changes}
    return GenerationRequest(**values)


def problems_of(catalog: Catalog, req: GenerationRequest) -> list[InvalidRequest]:
    with pytest.raises(InvalidRequests) as err:
        resolve_request(catalog, req)
    assert isinstance(err.value, ValueError)
    return err.value.problems


def test_defaults_come_from_the_model_entry(catalog) -> None:
    # given a request naming only model and prompt
    # when it is resolved
    resolved = resolve_request(catalog, request(prompt="  a   cat \n on a mat "))
    # then the model's defaults fill the rest and the prompt is normalised
    assert resolved.prompt == "a cat on a mat"
    assert (resolved.width, resolved.height, resolved.inference_steps) == (256, 256, 20)
    assert (resolved.guidance_scale, resolved.scheduler_id) == (7.0, "K_EULER")
    assert 0 <= resolved.seed < MAX_SEED
    assert resolved.prompt_strength is None
    assert resolved.total_steps == 20


def test_given_values_are_used_as_sent(catalog) -> None:
    # given explicit values within bounds
    req = request(
        width=64,
        height=128,
        inference_steps=3,
        guidance_scale=1,
        scheduler_id="DDIM",
        seed=5,
    )
    # when resolved
    resolved = resolve_request(catalog, dataclasses.replace(req, num_outputs=3))
    # then nothing is changed and each output has its own seed
    assert (resolved.width, resolved.height, resolved.inference_steps) == (64, 128, 3)
    assert (resolved.guidance_scale, resolved.scheduler_id) == (1.0, "DDIM")
    assert resolved.seeds == [5, 6, 7]


def test_img2img_takes_the_init_image_size_and_counts_strength_steps(catalog) -> None:
    # given an init image of a valid size and strength 0.3 over 10 steps
    image = Image.new("L", (96, 64))
    # when resolved
    resolved = resolve_request(
        catalog, request(init_image=image, inference_steps=10, prompt_strength=0.3)
    )
    # then the output size is the image's and only 3 steps run
    assert (resolved.width, resolved.height) == (96, 64)
    assert resolved.init_image is not None
    assert resolved.init_image.mode == "RGB"
    assert resolved.total_steps == 3
    # and strength defaults to 0.5
    default = resolve_request(catalog, request(init_image=image, inference_steps=10))
    assert default.prompt_strength == 0.5
    assert default.total_steps == 5


@pytest.mark.parametrize(
    ("changes", "field", "code", "message"),
    [
        ({"prompt": " \n "}, "prompt", "REQUIRED", "prompt must not be empty"),
        (
            {"prompt": "x" * 501},
            "prompt",
            "PROMPT_TOO_LONG",
            "at most 500 characters; got 501",
        ),
        (
            {"negative_prompt": "y" * 600},
            "negative_prompt",
            "PROMPT_TOO_LONG",
            "got 600",
        ),
        (
            {"width": 1001},
            "width",
            "INVALID_SIZE",
            "width must be a multiple of 8 in 64..1024; got 1001",
        ),
        ({"height": 32}, "height", "INVALID_SIZE", "in 64..1024; got 32"),
        ({"width": 2048}, "width", "INVALID_SIZE", "got 2048"),
        (
            {"inference_steps": 0},
            "inference_steps",
            "OUT_OF_RANGE",
            "steps must be in 1..50; got 0",
        ),
        ({"inference_steps": 51}, "inference_steps", "OUT_OF_RANGE", "got 51"),
        (
            {"width": 1024, "height": 1024, "inference_steps": 31},
            "inference_steps",
            "OUT_OF_RANGE",
            "width*height*inference_steps must be at most 31457280",
        ),
        (
            {"guidance_scale": 0.5},
            "guidance_scale",
            "OUT_OF_RANGE",
            "guidance_scale must be in 1..20; got 0.5",
        ),
        ({"guidance_scale": 21.0}, "guidance_scale", "OUT_OF_RANGE", "got 21.0"),
        ({"guidance_scale": float("nan")}, "guidance_scale", "OUT_OF_RANGE", "got nan"),
        (
            {"scheduler_id": "K_LMS"},
            "scheduler_id",
            "UNKNOWN_SCHEDULER",
            "K_EULER, K_EULER_ANCESTRAL",
        ),
        ({"scheduler_id": "EULER"}, "scheduler_id", "UNKNOWN_SCHEDULER", "got 'EULER'"),
        (
            {"num_outputs": 0},
            "num_outputs",
            "OUT_OF_RANGE",
            "num_outputs must be in 1..4; got 0",
        ),
        ({"num_outputs": 5}, "num_outputs", "OUT_OF_RANGE", "got 5"),
        ({"seed": -1}, "seed", "OUT_OF_RANGE", "got -1"),
        (
            {"seed": MAX_SEED, "num_outputs": 2},
            "seed",
            "OUT_OF_RANGE",
            "seed must be in 0..2147483646",
        ),
        (
            {"prompt_strength": 0.5},
            "prompt_strength",
            "OUT_OF_RANGE",
            "only with an init image",
        ),
        (
            {"init_image": Image.new("RGB", (64, 64)), "prompt_strength": 0.0},
            "prompt_strength",
            "OUT_OF_RANGE",
            "strength must be in (0, 1]; got 0.0",
        ),
        (
            {"init_image": Image.new("RGB", (64, 64)), "prompt_strength": 1.5},
            "prompt_strength",
            "OUT_OF_RANGE",
            "got 1.5",
        ),
        (
            {
                "init_image": Image.new("RGB", (64, 64)),
                "inference_steps": 4,
                "prompt_strength": 0.2,
            },
            "prompt_strength",
            "OUT_OF_RANGE",
            "int(inference_steps*prompt_strength) must be at least 1 step; got int(4*0.2) = 0",
        ),
        (
            {"init_image": Image.new("RGB", (100, 64))},
            "width",
            "INVALID_SIZE",
            "init_image width; pass width explicitly. width must be a multiple of 8",
        ),
        (
            {"init_image": Image.new("RGB", (0, 0))},
            "init_image",
            "INVALID_IMAGE",
            "init_image must not be empty",
        ),
        ({"model_id": "sdxl"}, "model_id", "UNKNOWN_MODEL", "known: darkroom-tiny"),
        ({"preview_every": -1}, "preview_every", "OUT_OF_RANGE", "got -1"),
    ],
)
def test_each_rule_reports_field_code_and_value(
    catalog, changes, field, code, message
) -> None:
    # given a request breaking one rule
    req = request(**changes)
    # when it is resolved
    problems = problems_of(catalog, req)
    # then exactly that problem is reported with its field, code and message
    assert [(p.field, p.code) for p in problems] == [(field, code)]
    assert message in problems[0].message


def test_all_problems_are_reported_at_once(catalog) -> None:
    # given a request with four problems
    req = request(prompt="", width=1001, inference_steps=0, scheduler_id="NOPE")
    # when it is resolved
    problems = problems_of(catalog, req)
    # then every one is listed, in field order
    assert [p.field for p in problems] == [
        "prompt",
        "width",
        "inference_steps",
        "scheduler_id",
    ]


def test_an_explicit_size_overrides_the_init_image_size(catalog) -> None:
    # given an init image whose size is off-grid and an explicit valid size
    image = Image.new("RGB", (100, 70))
    # when resolved with width and height
    resolved = resolve_request(catalog, request(init_image=image, width=64, height=64))
    # then the requested size is the output size
    assert (resolved.width, resolved.height) == (64, 64)
