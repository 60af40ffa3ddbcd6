"""Uploaded input images: checking by decoding, storing, and per-user lookup."""

import asyncio
import io
import logging
import uuid
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ErrorCode, ServiceError
from core.models import Upload
from core.storage import Storage

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
# Decompression-bomb guard for every upload: refused before the pixels are decoded.
MAX_UPLOAD_PIXELS = 4096 * 4096
# The largest upscale input; the upscale submission checks it, with the same constant.
UPSCALE_MAX_PIXELS = 1_048_576
ALLOWED_FORMATS = frozenset({"PNG", "JPEG", "WEBP"})

_ALLOWED_TEXT = "PNG, JPEG or WebP"
_CONTENT_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
_EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}
# Pillow reports a JPEG carrying a multi-picture index (most phone photos) as MPO.
_FORMAT_ALIASES = {"MPO": "JPEG"}


@dataclass(frozen=True)
class CheckedImage:
    """What decoding an upload found."""

    format: str
    width: int
    height: int
    size_bytes: int
    content_type: str

    @property
    def pixels(self) -> int:
        """Width times height."""
        return self.width * self.height

    @property
    def extension(self) -> str:
        """The file extension for this format, without the dot."""
        return _EXTENSIONS[self.format]


def check_image(data: bytes) -> CheckedImage:
    """Decode `data` fully and return its format and size, or refuse it.

    The format comes from the content, never a file name. Raises ServiceError on the
    `file` field: IMAGE_TOO_LARGE over the byte or pixel limit, INVALID_IMAGE for an
    empty, corrupt, truncated or unsupported file.
    """
    size = len(data)
    if size == 0:
        raise ServiceError(ErrorCode.INVALID_IMAGE, "file is empty", "file")
    if size > MAX_UPLOAD_BYTES:
        raise ServiceError(
            ErrorCode.IMAGE_TOO_LARGE,
            f"file must be at most {MAX_UPLOAD_BYTES:,} bytes (10 MB); got {size:,}",
            "file",
        )
    fmt, width, height = _decode(data)
    if fmt not in ALLOWED_FORMATS:  # unreachable while _decode is limited; a guard
        raise ServiceError(
            ErrorCode.INVALID_IMAGE,
            f"file must be a {_ALLOWED_TEXT} image; got {fmt or 'unknown'}",
            "file",
        )
    return CheckedImage(
        format=fmt,
        width=width,
        height=height,
        size_bytes=size,
        content_type=_CONTENT_TYPES[fmt],
    )


def _decode(data: bytes) -> tuple[str, int, int]:
    """Format, width and height of a fully decoded image, or the refusal."""
    # Only our three decoders ever see the bytes: less parser surface for hostile files.
    formats = sorted(ALLOWED_FORMATS)
    try:
        with Image.open(io.BytesIO(data), formats=formats) as image:
            fmt = _FORMAT_ALIASES.get(image.format or "", image.format or "")
            width, height = image.size
            _check_pixels(width, height)
            image.verify()
        # verify() leaves the image unusable, and checks little beyond PNG chunk
        # CRCs; decoding every pixel is what catches truncated or corrupt data.
        with Image.open(io.BytesIO(data), formats=formats) as image:
            image.load()
    except ServiceError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard (a warning, or an error past twice its limit, both
        # far above ours) fires inside open(), before we can read the size.
        raise ServiceError(
            ErrorCode.IMAGE_TOO_LARGE,
            f"image must have at most {MAX_UPLOAD_PIXELS:,} pixels; this one has"
            " far more",
            "file",
        ) from None
    except UnidentifiedImageError:
        raise ServiceError(
            ErrorCode.INVALID_IMAGE,
            f"file is not a {_ALLOWED_TEXT} image",
            "file",
        ) from None
    except Exception as err:  # Pillow's decoders raise many types on corrupt input
        # Pillow's wording is a decoder's internals; the log keeps it.
        log.info("upload refused as unreadable: %r", err)
        raise ServiceError(
            ErrorCode.INVALID_IMAGE,
            f"file is not a readable {_ALLOWED_TEXT} image (truncated or corrupt)",
            "file",
        ) from None
    return fmt, width, height


def _check_pixels(width: int, height: int) -> None:
    if width < 1 or height < 1:
        raise ServiceError(
            ErrorCode.INVALID_IMAGE, f"image has no pixels ({width}x{height})", "file"
        )
    if width * height > MAX_UPLOAD_PIXELS:
        raise ServiceError(
            ErrorCode.IMAGE_TOO_LARGE,
            f"image must have at most {MAX_UPLOAD_PIXELS:,} pixels;"
            f" got {width}x{height} = {width * height:,}",
            "file",
        )


def upload_key(user_id: uuid.UUID, upload_id: uuid.UUID, extension: str) -> str:
    """The storage key of an upload."""
    return f"uploads/{user_id}/{upload_id}.{extension}"


async def save_upload(
    session: AsyncSession, storage: Storage, *, user_id: uuid.UUID, data: bytes
) -> Upload:
    """Check an image, store it under the user's prefix and record it."""
    # Decoding up to 16 megapixels takes a while; keep the event loop free.
    checked = await asyncio.to_thread(check_image, data)
    upload_id = uuid.uuid4()
    key = upload_key(user_id, upload_id, checked.extension)
    # File first: if the insert then fails we leave an orphan file, never a row
    # pointing at nothing.
    await storage.put(key, data, checked.content_type)
    upload = Upload(
        id=upload_id,
        user_id=user_id,
        storage_key=key,
        format=checked.format,
        width=checked.width,
        height=checked.height,
        size_bytes=checked.size_bytes,
    )
    session.add(upload)
    await session.flush()
    return upload


async def get_upload(
    session: AsyncSession, *, user_id: uuid.UUID, upload_id: uuid.UUID | str
) -> Upload:
    """The caller's upload; NOT_FOUND on `image_id` for unknown and foreign ids alike."""
    not_found = ServiceError(
        ErrorCode.NOT_FOUND, f"no upload with id {upload_id}", "image_id"
    )
    if isinstance(upload_id, str):
        try:
            upload_id = uuid.UUID(upload_id)
        except ValueError:
            raise not_found from None
    upload = await session.get(Upload, upload_id)
    if upload is None or upload.user_id != user_id:
        raise not_found
    return upload
