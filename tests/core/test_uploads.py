"""Uploads: checked by decoding, stored under the user's prefix, visible to the owner only."""

import io
import struct
import uuid
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from core.db import Database
from core.enums import Tier
from core.errors import ErrorCode, ServiceError
from core.models import Upload, User
from core.settings import Settings
from core.storage import LocalStorage, Storage
from core.uploads import (
    MAX_UPLOAD_BYTES,
    MAX_UPLOAD_PIXELS,
    UPSCALE_MAX_PIXELS,
    CheckedImage,
    check_image,
    get_upload,
    save_upload,
)
from darkroom.services import open_storage


def image_bytes(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, "teal" if mode == "RGB" else 0).save(buffer, fmt)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims a size; the pixel data is a few bytes."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def refusal(data: bytes) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        check_image(data)
    assert caught.value.field == "file"
    return caught.value


# --- check_image ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("PNG", "image/png"), ("JPEG", "image/jpeg"), ("WEBP", "image/webp")],
)
def test_png_jpeg_and_webp_are_accepted_with_their_size(fmt: str, content_type: str):
    data = image_bytes(fmt)
    assert check_image(data) == CheckedImage(
        format=fmt, width=64, height=48, size_bytes=len(data), content_type=content_type
    )


def test_the_format_comes_from_the_content():
    # a JPEG is a JPEG whatever it is called; there is no name to go on at all
    assert check_image(image_bytes("JPEG", mode="L")).format == "JPEG"
    assert check_image(image_bytes("PNG", mode="RGBA")).format == "PNG"


@pytest.mark.parametrize("fmt", ["GIF", "BMP", "TIFF"])
def test_other_image_formats_are_refused_naming_the_allowed_ones(fmt: str):
    error = refusal(image_bytes(fmt))
    assert error.code is ErrorCode.INVALID_IMAGE
    assert "PNG, JPEG or WebP" in error.message


@pytest.mark.parametrize(
    "data",
    [
        b"this is not an image at all",
        b"\x89PNG\r\n\x1a\n",
        image_bytes("PNG")[:60],
        image_bytes("JPEG")[:300],
        image_bytes("WEBP")[:-10],
    ],
    ids=["text", "png-signature-only", "truncated-png", "truncated-jpeg", "cut-webp"],
)
def test_garbage_and_truncated_files_are_refused(data: bytes):
    error = refusal(data)
    assert error.code is ErrorCode.INVALID_IMAGE
    assert "PNG, JPEG or WebP" in error.message


def test_a_png_with_a_corrupt_chunk_is_refused():
    data = bytearray(image_bytes("PNG", size=(32, 32)))
    data[40] ^= 0xFF  # inside IDAT: its CRC no longer matches
    assert refusal(bytes(data)).code is ErrorCode.INVALID_IMAGE


def test_an_empty_file_is_refused():
    error = refusal(b"")
    assert error.code is ErrorCode.INVALID_IMAGE
    assert "empty" in error.message


def test_a_file_over_10_mb_is_refused_with_the_limit_and_its_size():
    error = refusal(image_bytes("PNG") + b"\x00" * MAX_UPLOAD_BYTES)
    assert error.code is ErrorCode.IMAGE_TOO_LARGE
    assert f"{MAX_UPLOAD_BYTES:,}" in error.message
    assert f"{MAX_UPLOAD_BYTES + len(image_bytes('PNG')):,}" in error.message


def test_a_small_file_with_too_many_pixels_is_refused_before_decoding():
    # given a 24 KB PNG of 5000x5000 pixels (25 MP, over our 16.7 MP limit)
    data = image_bytes("PNG", size=(5000, 5000), mode="L")
    assert len(data) < 100_000
    # then it is refused with the limit and its size
    error = refusal(data)
    assert error.code is ErrorCode.IMAGE_TOO_LARGE
    assert f"{MAX_UPLOAD_PIXELS:,}" in error.message
    assert "5000x5000" in error.message


@pytest.mark.parametrize(
    "side", [10_000, 20_000], ids=["pillow-warns", "pillow-refuses"]
)
def test_a_pixel_bomb_past_pillows_own_limits_is_refused(side: int):
    # 100 MP trips Pillow's warning and 400 MP its error, both inside open()
    error = refusal(png_header_only(side, side))
    assert error.code is ErrorCode.IMAGE_TOO_LARGE
    assert f"{MAX_UPLOAD_PIXELS:,}" in error.message


def test_an_image_at_the_pixel_limit_is_accepted():
    checked = check_image(image_bytes("PNG", size=(4096, 4096), mode="L"))
    assert checked.width * checked.height == MAX_UPLOAD_PIXELS


def test_the_upscale_limit_is_one_megapixel():
    assert UPSCALE_MAX_PIXELS == 1024 * 1024


# --- save_upload and get_upload --------------------------------------


async def new_user(db: Database) -> uuid.UUID:
    async with db.session() as session:
        user = User(email=f"{uuid.uuid4().hex}@example.com", tier=Tier.FREE)
        session.add(user)
    return user.id


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "files", base_url="http://t", signing_key=b"k" * 32)


async def test_an_upload_is_stored_under_the_user_and_recorded(
    db: Database, storage: Storage
):
    # given alice and a WebP image
    alice = await new_user(db)
    data = image_bytes("WEBP", size=(80, 40))
    # when she uploads it
    async with db.session() as session:
        upload = await save_upload(session, storage, user_id=alice, data=data)
    # then the row describes it and the file is under her prefix
    assert upload.storage_key == f"uploads/{alice}/{upload.id}.webp"
    assert (upload.format, upload.width, upload.height) == ("WEBP", 80, 40)
    assert upload.size_bytes == len(data)
    assert await storage.get(upload.storage_key) == data
    # and she can look it up, by id or by its string form, and read it back
    async with db.session() as session:
        found = await get_upload(session, user_id=alice, upload_id=upload.id)
        by_text = await get_upload(session, user_id=alice, upload_id=str(upload.id))
    assert found.id == by_text.id == upload.id
    assert found.created_at.tzinfo is not None
    assert await storage.get(found.storage_key) == data


async def test_a_refused_upload_stores_nothing(db: Database, storage: LocalStorage):
    alice = await new_user(db)
    async with db.session() as session:
        with pytest.raises(ServiceError) as caught:
            await save_upload(session, storage, user_id=alice, data=b"GIF89a nope")
        count = await session.scalar(sa.select(sa.func.count()).select_from(Upload))
    assert caught.value.code is ErrorCode.INVALID_IMAGE
    assert count == 0
    assert not storage.root.exists()


@pytest.mark.parametrize(
    "upload_id",
    ["someone-elses", uuid.uuid4(), "not-a-uuid", ""],
    ids=["foreign", "unknown", "malformed", "empty"],
)
async def test_a_foreign_unknown_or_malformed_id_is_not_found(
    db: Database, storage: Storage, upload_id: uuid.UUID | str
):
    # given bob's upload
    alice, bob = await new_user(db), await new_user(db)
    async with db.session() as session:
        bobs = await save_upload(session, storage, user_id=bob, data=image_bytes("PNG"))
    wanted = bobs.id if upload_id == "someone-elses" else upload_id
    # when alice asks for it (or for nothing real)
    async with db.session() as session:
        with pytest.raises(ServiceError) as caught:
            await get_upload(session, user_id=alice, upload_id=wanted)
    # then it is NOT_FOUND on image_id, the same answer for every case
    assert caught.value.code is ErrorCode.NOT_FOUND
    assert caught.value.field == "image_id"


async def test_an_upload_round_trips_through_s3(db: Database, s3_settings: Settings):
    # given S3 storage on the moto server
    storage = open_storage(s3_settings)
    alice = await new_user(db)
    data = image_bytes("JPEG")
    # when alice uploads a JPEG
    async with db.session() as session:
        upload = await save_upload(session, storage, user_id=alice, data=data)
    # then it is stored with a .jpg key and reads back
    assert upload.storage_key.endswith(".jpg")
    assert await storage.get(upload.storage_key) == data
    assert await storage.exists(upload.storage_key)
