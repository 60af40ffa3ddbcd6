"""File storage in an S3-compatible bucket (AWS, MinIO, R2, ...)."""

import asyncio
from typing import Any
from urllib.parse import quote

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from core.storage import check_key


class S3Storage:
    """Objects in an S3-compatible bucket under a key prefix.

    Private URLs are presigned GETs valid for `ttl_seconds`. Public URLs are plain
    object URLs (path-style `{endpoint}/{bucket}/{key}` with a custom endpoint, else
    virtual-hosted AWS). We never set ACLs: public objects must be made readable by a
    bucket policy on the public prefix, or those URLs answer 403.
    """

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str,
        endpoint_url: str,
        region: str,
        access_key_id: str,
        secret_access_key: str,
        ttl_seconds: int,
    ) -> None:
        if not bucket:
            raise ValueError("bucket must not be empty")
        if ttl_seconds < 1:
            raise ValueError(f"ttl_seconds must be at least 1; got {ttl_seconds}")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.endpoint_url = endpoint_url.rstrip("/")
        self.region = region
        self.ttl_seconds = ttl_seconds
        config = Config(
            signature_version="s3v4",
            s3={"addressing_style": "path" if endpoint_url else "auto"},
            connect_timeout=5,
            read_timeout=60,
            retries={"max_attempts": 3, "mode": "standard"},
        )
        # A client of our own session: boto3's default session is not thread-safe,
        # while a client is, and every call below runs in a worker thread.
        session = boto3.session.Session()
        self._client: Any = session.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region,
            # Empty means "use the default chain" (env, profile, instance role).
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=config,
        )

    def object_key(self, key: str) -> str:
        """The full object key in the bucket."""
        return self.prefix + check_key(key)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        """Upload the object with its content type."""
        await asyncio.to_thread(
            self._client.put_object,
            Bucket=self.bucket,
            Key=self.object_key(key),
            Body=data,
            ContentType=content_type,
        )

    async def get(self, key: str) -> bytes:
        """Download the object; KeyError if it is missing."""
        return await asyncio.to_thread(self._get, self.object_key(key))

    async def delete(self, key: str) -> None:
        """Delete the object (S3 answers success for a missing one)."""
        await asyncio.to_thread(
            self._client.delete_object, Bucket=self.bucket, Key=self.object_key(key)
        )

    async def exists(self, key: str) -> bool:
        """True if the object is there."""
        return await asyncio.to_thread(self._exists, self.object_key(key))

    async def url(self, key: str, *, public: bool) -> str:
        """A plain object URL when public, else a presigned GET."""
        full_key = self.object_key(key)
        if public:
            path = quote(full_key, safe="/")
            if self.endpoint_url:
                return f"{self.endpoint_url}/{self.bucket}/{path}"
            return f"https://{self.bucket}.s3.{self.region}.amazonaws.com/{path}"
        # Presigning is local, but resolving credentials may touch the network.
        url: str = await asyncio.to_thread(
            self._client.generate_presigned_url,
            "get_object",
            Params={"Bucket": self.bucket, "Key": full_key},
            ExpiresIn=self.ttl_seconds,
        )
        return url

    def _get(self, full_key: str) -> bytes:
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=full_key)
        except ClientError as err:
            if _is_missing(err):
                raise KeyError(full_key) from None
            raise
        body = response["Body"]
        try:
            data: bytes = body.read()
        finally:
            body.close()
        return data

    def _exists(self, full_key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=full_key)
        except ClientError as err:
            if _is_missing(err):
                return False
            raise
        return True


def _is_missing(err: ClientError) -> bool:
    code = str(err.response.get("Error", {}).get("Code", ""))
    return code in {"404", "NoSuchKey", "NotFound"}
