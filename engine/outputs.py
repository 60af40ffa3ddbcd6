"""Encode output images with their generation metadata, and read it back.

Metadata keys (all values strings) are the request's own names: prompt,
negative_prompt, seed, inference_steps, guidance_scale, scheduler_id, model_id,
width, height, engine_version, and prompt_strength for image-to-image. PNG stores each key as its own tEXt chunk (iTXt when the text
is not Latin-1), readable by any PNG tool. WebP and JPEG have no text chunks,
so there the same mapping is one JSON object in the EXIF UserComment tag (ASCII
character code; non-ASCII text is JSON-escaped), which survives most viewers
and is easy to parse.
"""

import io
import json
from collections.abc import Mapping
from typing import Literal

from PIL import Image, PngImagePlugin

from engine.requests import ResolvedRequest
from engine.version import ENGINE_VERSION

ImageFormat = Literal["PNG", "WEBP", "JPEG"]
EXIF_IFD = 0x8769
USER_COMMENT = 0x9286
ASCII_CODE = b"ASCII\x00\x00\x00"  # EXIF character-code prefix of UserComment


def generation_metadata(resolved: ResolvedRequest, seed: int) -> dict[str, str]:
    """Return the metadata that reproduces one image of a request."""
    metadata = {
        "prompt": resolved.prompt,
        "negative_prompt": resolved.negative_prompt,
        "seed": str(seed),
        "inference_steps": str(resolved.inference_steps),
        "guidance_scale": f"{resolved.guidance_scale:g}",
        "scheduler_id": resolved.scheduler_id,
        "model_id": resolved.model_id,
        "width": str(resolved.width),
        "height": str(resolved.height),
        "engine_version": ENGINE_VERSION,
    }
    if resolved.prompt_strength is not None:
        metadata["prompt_strength"] = f"{resolved.prompt_strength:g}"
    return metadata


def encode_image(
    image: Image.Image,
    *,
    format: ImageFormat = "PNG",  # noqa: A002 - the name PIL and callers use
    quality: int = 90,
    metadata: Mapping[str, str],
) -> bytes:
    """Encode an image as PNG, WebP or JPEG with its metadata embedded.

    Args:
        image: The image; converted to RGB for JPEG.
        format: "PNG" (lossless, tEXt chunks), "WEBP" or "JPEG" (EXIF JSON).
        quality: 1..100 for WebP and JPEG; ignored for PNG.
        metadata: String keys and values, as from `generation_metadata`.

    Returns:
        The encoded file.
    """
    if not 1 <= quality <= 100:
        raise ValueError(f"quality must be in 1..100; got {quality}")
    buffer = io.BytesIO()
    if format == "PNG":
        info = PngImagePlugin.PngInfo()
        for key, value in metadata.items():
            info.add_text(key, value)
        image.save(buffer, format="PNG", pnginfo=info)
    elif format in ("WEBP", "JPEG"):
        exif = Image.Exif()
        payload = json.dumps(dict(metadata), ensure_ascii=True, sort_keys=True)
        exif.get_ifd(EXIF_IFD)[USER_COMMENT] = ASCII_CODE + payload.encode("ascii")
        rgb = image.convert("RGB") if format == "JPEG" else image
        rgb.save(buffer, format=format, quality=quality, exif=exif)
    else:
        raise ValueError(f"format must be PNG, WEBP or JPEG; got {format!r}")
    return buffer.getvalue()


def read_metadata(data: bytes) -> dict[str, str]:
    """Return the metadata embedded by `encode_image`, or {} if there is none."""
    with Image.open(io.BytesIO(data)) as image:
        if image.format == "PNG":
            text: Mapping[str, str] = getattr(image, "text", {})
            return dict(text)
        comment = image.getexif().get_ifd(EXIF_IFD).get(USER_COMMENT)
    if not isinstance(comment, bytes) or not comment.startswith(ASCII_CODE):
        return {}
    parsed = json.loads(comment[len(ASCII_CODE) :].decode("ascii"))
    return {str(k): str(v) for k, v in parsed.items()}
