"""Catalog: the built-in entries, TOML parsing and every rejection rule."""

import subprocess
import sys
from pathlib import Path

import pytest

from engine.catalog import (
    SCHEDULERS,
    CatalogError,
    Family,
    UnknownModel,
    builtin_catalog,
    load_catalog,
)

REPO = Path(__file__).resolve().parents[2]

MODEL = """
[[models]]
id = "m1"
name = "M1"
description = "test"
source = "org/repo"
family = "SD15"
is_default = true
"""
UPSCALER = """
[[upscalers]]
id = "u1"
name = "U1"
description = "test"
is_default = true
architecture = "compact"
backend = "torch"
weights = "REALESRGAN_ANIMAVIDEOV3_UP4X"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "catalog.toml"
    path.write_text(text)
    return path


def test_catalog_and_requests_import_without_torch() -> None:
    # given a fresh interpreter
    code = (
        "import sys, engine.catalog, engine.requests;"
        "assert 'torch' not in sys.modules, 'torch imported';"
        "assert 'diffusers' not in sys.modules and 'transformers' not in sys.modules"
    )
    # when it imports the catalog and request modules
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True
    )
    # then neither torch, diffusers nor transformers was loaded
    assert done.returncode == 0, done.stderr


def test_builtin_catalog_offers_the_tiny_model_and_both_upscalers(tmp_path) -> None:
    # given a data folder
    # when the built-in catalog is made
    catalog = builtin_catalog(tmp_path)
    # then the tiny noise model is the default, stored under the data folder
    tiny = catalog.default_model()
    assert tiny.id == "darkroom-tiny"
    assert tiny.family is Family.SD15
    assert tiny.source == str(tmp_path / "models" / "darkroom-tiny")
    assert tiny.builder == "tiny-sd15"
    assert "noise" in tiny.description
    assert (tiny.min_width, tiny.max_width, tiny.default_width) == (64, 1024, 256)
    assert tiny.default_scheduler in tiny.schedulers
    assert set(tiny.schedulers) <= set(SCHEDULERS)
    assert catalog.default_upscaler().id == "realesr-animevideov3-x4"
    assert catalog.upscaler("realesrgan-x4plus").backend == "torch"


def test_unknown_model_lists_the_known_ids(tmp_path) -> None:
    # given the built-in catalog
    catalog = load_catalog(None, data_dir=tmp_path)
    # when an unknown id is looked up
    with pytest.raises(UnknownModel) as err:
        catalog.model("sdxl")
    # then the error is a ValueError naming the known ids
    assert isinstance(err.value, ValueError)
    assert "darkroom-tiny" in str(err.value)
    with pytest.raises(UnknownModel, match="realesrgan-x4plus"):
        catalog.upscaler("nope")


def test_example_catalog_parses(tmp_path) -> None:
    # given the example file shipped next to the catalog module
    example = REPO / "engine" / "catalog.example.toml"
    # when it is loaded
    catalog = load_catalog(example, data_dir=tmp_path)
    # then the tiny model resolves into the data folder and both upscalers exist
    tiny = catalog.default_model()
    assert tiny.source == f"{tmp_path}/models/darkroom-tiny"
    assert tiny.dtypes["cpu"] == "bfloat16"
    assert list(catalog.upscalers) == ["realesr-animevideov3-x4", "realesrgan-x4plus"]
    assert catalog.upscaler("realesrgan-x4plus").tile == 256


def test_a_minimal_file_fills_defaults_and_keeps_hub_ids(tmp_path) -> None:
    # given a file with one hub model and no upscalers
    path = write(tmp_path, MODEL)
    # when it is loaded
    catalog = load_catalog(path, data_dir=tmp_path)
    # then defaults apply, the hub id is untouched and built-in upscalers are used
    model = catalog.model("m1")
    assert model.source == "org/repo"
    assert (model.default_width, model.default_steps) == (512, 25)
    assert model.dtypes["cuda"] == "float16"
    assert catalog.default_upscaler().id == "realesr-animevideov3-x4"


def test_relative_source_resolves_against_the_file_folder(tmp_path) -> None:
    # given a diffusers folder next to the catalog file
    (tmp_path / "weights" / "mine").mkdir(parents=True)
    path = write(tmp_path, MODEL.replace('"org/repo"', '"weights/mine"'))
    # when the catalog is loaded
    model = load_catalog(path, data_dir=tmp_path / "data").model("m1")
    # then the source is that folder's absolute path
    assert model.source == str(tmp_path / "weights" / "mine")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[models]\n", "cannot read catalog"),
        (MODEL + "\nextra = 1\n", "models[0] (m1): unknown key(s) extra"),
        ("colour = 1\n" + MODEL, "unknown top-level key(s) colour"),
        ("", "needs at least one [[models]] table"),
        (MODEL.replace('name = "M1"\n', ""), "missing required key 'name'"),
        (MODEL + "default_steps = 2.5\n", "default_steps must be an integer; got 2.5"),
        (MODEL + "default_width = true\n", "default_width must be an integer"),
        (MODEL.replace('"SD15"', '"SD3"'), "family must be one of SD15, SD2, SDXL"),
        (MODEL + 'dtypes = { cpu = "int8" }\n', "dtypes must be a table of device"),
        (MODEL + 'schedulers = ["EULER"]\n', "schedulers must be a non-empty list"),
        (
            MODEL + 'schedulers = ["DDIM"]\n',
            "default_scheduler must be one of DDIM; got 'K_EULER'",
        ),
        (MODEL + "default_width = 100\n", "default_width must be a multiple of 8 in"),
        (MODEL + "default_height = 2048\n", "default_height must be a multiple of 8"),
        (MODEL + "default_steps = 60\n", "default_steps must be in 1..50; got 60"),
        (MODEL + "default_guidance = 25\n", "default_guidance must be in 1..20"),
        (
            MODEL + "min_steps = 10\nmax_steps = 5\n",
            "min_steps must be in 1..max_steps",
        ),
        (MODEL + "max_pixel_steps = 1000\n", "max_pixel_steps must be at least"),
        (MODEL + 'builder = "huge"\n', "builder must be one of tiny-sd15, tiny-sdxl"),
        (
            MODEL + MODEL.replace("is_default = true", ""),
            "models id 'm1' appears twice",
        ),
        (
            MODEL.replace("is_default = true", ""),
            "exactly one of models needs is_default",
        ),
        (
            MODEL + MODEL.replace('"m1"', '"m2"'),
            "exactly one of models needs is_default = true; got 2 (m1, m2)",
        ),
        (
            MODEL + UPSCALER.replace('"compact"', '"swin"'),
            'architecture must be "compact"',
        ),
        (
            MODEL + UPSCALER.replace('"torch"', '"onnx"'),
            'backend must be "torch" or "ncnn"',
        ),
        (MODEL + UPSCALER + "scale = 8\n", "scale must be 2, 3 or 4; got 8"),
        (
            MODEL + UPSCALER.replace("is_default = true", "is_default = false"),
            "upscalers",
        ),
        (
            MODEL + UPSCALER.replace('weights = "REALESRGAN_ANIMAVIDEOV3_UP4X"\n', ""),
            "key 'weights'",
        ),
    ],
)
def test_a_bad_catalog_file_names_file_entry_and_key(tmp_path, text, message) -> None:
    # given a catalog file breaking one rule
    path = write(tmp_path, text)
    # when it is loaded
    with pytest.raises(CatalogError) as err:
        load_catalog(path, data_dir=tmp_path)
    # then the error names the file and the rule
    assert str(path) in str(err.value)
    assert message in str(err.value)
