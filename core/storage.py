"""File storage behind one protocol, and its local-folder implementation.

The S3 implementation is in core/s3.py, so that code which only needs the
protocol never imports boto3; the composition root picks one.
"""

import asyncio
import contextlib
import hashlib
import hmac
import mimetypes
import os
import secrets
import time
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlencode

SIGNING_KEY_FILE = "signing.key"
SIGNING_KEY_BYTES = 32
# Sidecar files and temporary files start with a dot; keys may not, so neither can clash.
_CONTENT_TYPE_SUFFIX = ".content-type"
_DEFAULT_CONTENT_TYPE = "application/octet-stream"


class Storage(Protocol):
    """Where images live; keys are relative paths such as `outputs/{job_id}/0.png`."""

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Store `data` under `key`, replacing any earlier object (so retries are harmless)."""
        ...

    async def get(self, key: str) -> bytes:
        """Return the object's bytes; KeyError if there is none."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; a missing one is not an error."""
        ...

    async def exists(self, key: str) -> bool:
        """True if an object is stored under `key`."""
        ...

    async def url(self, key: str, *, public: bool) -> str:
        """A plain URL when `public`, else a time-limited signed one."""
        ...


def check_key(key: str) -> str:
    """Return `key` if it is a safe relative path, else raise ValueError.

    Both backends refuse the same keys, so code that works on one works on the other.
    """
    if not key or key.startswith("/") or "\\" in key or "\x00" in key:
        raise ValueError(f"storage key must be a relative path with '/': {key!r}")
    for part in key.split("/"):
        if not part or part.startswith("."):
            raise ValueError(
                f"storage key parts may not be empty or start with '.': {key!r}"
            )
    return key


class LocalStorage:
    """Files under a folder; the API serves them at `{base_url}/files/{key}`.

    Private URLs carry `expires` (Unix seconds) and an HMAC-SHA256 `signature` over
    the key and expiry; the `/files` route checks them with `verify`. Public URLs are
    unsigned: the route decides from its own records whether a key may be served so.
    """

    def __init__(
        self,
        root: Path,
        *,
        base_url: str,
        signing_key: bytes,
        ttl_seconds: int = 3600,
    ) -> None:
        if not signing_key:
            raise ValueError("signing_key must not be empty")
        if ttl_seconds < 1:
            raise ValueError(f"ttl_seconds must be at least 1; got {ttl_seconds}")
        self.root = root
        self.base_url = base_url.rstrip("/")
        self._signing_key = signing_key
        self.ttl_seconds = ttl_seconds

    def path_for(self, key: str) -> Path:
        """The file that holds `key`; ValueError for traversal or malformed keys."""
        path = self.root / check_key(key)
        # Belt and braces: check_key already refuses '..', so this should never fire.
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise ValueError(f"storage key escapes the storage folder: {key!r}")
        return path

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Write the file atomically, with its content type alongside."""
        path = self.path_for(key)
        await asyncio.to_thread(self._write, path, data, content_type)

    async def get(self, key: str) -> bytes:
        """Read the file; KeyError if it is missing."""
        path = self.path_for(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise KeyError(key) from None

    async def delete(self, key: str) -> None:
        """Remove the file and its content type; missing is fine."""
        path = self.path_for(key)
        await asyncio.to_thread(self._remove, path)

    async def exists(self, key: str) -> bool:
        """True if the file is there."""
        return await asyncio.to_thread(self.path_for(key).is_file)

    async def content_type(self, key: str) -> str:
        """The content type given to `put`, guessed from the name if it was lost."""
        path = self.path_for(key)
        return await asyncio.to_thread(self._read_content_type, path)

    async def url(self, key: str, *, public: bool) -> str:
        """`{base_url}/files/{key}`, signed with an expiry unless public."""
        base = f"{self.base_url}/files/{quote(check_key(key), safe='/')}"
        if public:
            return base
        expires = str(int(time.time()) + self.ttl_seconds)
        query = urlencode({"expires": expires, "signature": self._sign(key, expires)})
        return f"{base}?{query}"

    def verify(
        self,
        key: str,
        expires: str | None,
        signature: str | None,
        *,
        now: float | None = None,
    ) -> bool:
        """True if the signature matches `key` and `expires` and has not expired."""
        # ASCII digits, and few of them: int() refuses other digits and huge strings.
        if not signature or not expires or len(expires) > 15:
            return False
        if not (expires.isascii() and expires.isdigit()):
            return False
        try:
            check_key(key)
        except ValueError:
            return False
        if int(expires) <= (time.time() if now is None else now):
            return False
        return hmac.compare_digest(self._sign(key, expires), signature)

    def _sign(self, key: str, expires: str) -> str:
        # The newline cannot occur in a digit string, so (key, expires) pairs never collide.
        message = f"{key}\n{expires}".encode()
        return hmac.new(self._signing_key, message, hashlib.sha256).hexdigest()

    @staticmethod
    def _write(path: Path, data: bytes, content_type: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Type first, then data: a reader never sees new data with a missing type.
        _atomic_write(_sidecar(path), content_type.encode())
        _atomic_write(path, data)

    @staticmethod
    def _remove(path: Path) -> None:
        path.unlink(missing_ok=True)
        _sidecar(path).unlink(missing_ok=True)

    @staticmethod
    def _read_content_type(path: Path) -> str:
        try:
            return _sidecar(path).read_text().strip() or _DEFAULT_CONTENT_TYPE
        except FileNotFoundError:
            return mimetypes.guess_type(path.name)[0] or _DEFAULT_CONTENT_TYPE


def _sidecar(path: Path) -> Path:
    return path.with_name(f".{path.name}{_CONTENT_TYPE_SUFFIX}")


def _atomic_write(path: Path, data: bytes) -> None:
    """Write via a temporary file and rename, so readers see old or new, never half."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    try:
        with tmp.open("xb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_signing_key(data_dir: Path) -> bytes:
    """Read `data_dir/signing.key`, creating it (random, mode 0600) the first time."""
    path = data_dir / SIGNING_KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(SIGNING_KEY_BYTES))
                f.flush()
                os.fsync(f.fileno())
            # link() refuses to replace an existing file: if another process won
            # the race, everyone ends up with its key, never a half-written one.
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    key = path.read_bytes()
    if len(key) < SIGNING_KEY_BYTES:
        raise ValueError(
            f"{path} holds {len(key)} bytes; expected {SIGNING_KEY_BYTES}."
            " Delete it to make a new key (outstanding signed URLs stop working)."
        )
    return key
