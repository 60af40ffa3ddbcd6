"""Output files: formats, quality and metadata that round-trips."""

import io
from pathlib import Path

import pytest
from PIL import Image

from engine.catalog import builtin_catalog
from engine.outputs import encode_image, generation_metadata, read_metadata
from engine.requests import GenerationRequest, resolve_request
from engine.version import ENGINE_VERSION

KEYS = {
    "prompt",
    "negative_prompt",
    "seed",
    "inference_steps",
    "guidance_scale",
    "scheduler_id",
    "model_id",
    "width",
    "height",
    "engine_version",
}


@pytest.fixture(scope="module")
def metadata() -> dict[str, str]:
    catalog = builtin_catalog(Path("/nonexistent"))
    request = GenerationRequest(
        "darkroom-tiny", "un café « noir » 🌃", negative_prompt="blur", seed=41
    )
    return generation_metadata(resolve_request(catalog, request), seed=42)


def test_generation_metadata_names_every_setting(metadata) -> None:
    # given the metadata of image 1 of a request with seed 41
    # then it has each documented key, as strings, with the image's own seed
    assert set(metadata) == KEYS
    assert metadata["seed"] == "42"
    assert metadata["model_id"] == "darkroom-tiny"
    assert metadata["guidance_scale"] == "7"
    assert metadata["engine_version"] == ENGINE_VERSION


@pytest.mark.parametrize("fmt", ["PNG", "WEBP", "JPEG"])
def test_metadata_round_trips_in_every_format(metadata, fmt) -> None:
    # given an RGB image
    image = Image.new("RGB", (32, 24), (10, 120, 240))
    # when it is encoded with metadata and read back
    data = encode_image(image, format=fmt, metadata=metadata)
    # then the format, size and every key survive, non-ASCII text included
    with Image.open(io.BytesIO(data)) as decoded:
        assert decoded.format == fmt
        assert decoded.size == (32, 24)
    assert read_metadata(data) == metadata


def test_lower_quality_gives_smaller_lossy_files(metadata) -> None:
    # given a detailed image
    image = Image.effect_mandelbrot((128, 128), (-2, -1.5, 1, 1.5), 100).convert("RGB")
    # when it is encoded at two qualities
    for fmt in ("WEBP", "JPEG"):
        high = encode_image(image, format=fmt, quality=95, metadata=metadata)
        low = encode_image(image, format=fmt, quality=20, metadata=metadata)
        # then the lower quality is smaller
        assert len(low) < len(high)


def test_a_file_without_metadata_reads_as_empty() -> None:
    # given files written without metadata
    for fmt in ("PNG", "JPEG"):
        buffer = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buffer, format=fmt)
        # when their metadata is read
        # then it is empty
        assert read_metadata(buffer.getvalue()) == {}


def test_bad_format_or_quality_is_refused() -> None:
    # given an image
    image = Image.new("RGB", (8, 8))
    # when asked for an unknown format or quality 0
    # then a ValueError names the rule
    with pytest.raises(ValueError, match="PNG, WEBP or JPEG"):
        encode_image(image, format="GIF", metadata={})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"quality must be in 1\.\.100; got 0"):
        encode_image(image, format="JPEG", quality=0, metadata={})
