"""Storage on a local folder and on moto's real S3 server over HTTP."""

import json
import os
import stat
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import boto3
import httpx
import pytest

from core.s3 import S3Storage
from core.settings import Settings
from core.storage import SIGNING_KEY_FILE, LocalStorage, check_key, load_signing_key
from darkroom.services import open_storage

KEY = "outputs/1234/0.png"
PNG = b"\x89PNG\r\n\x1a\n pretend pixels"


def http_get(url: str) -> httpx.Response:
    # trust_env=False: a proxy from the environment must not sit between us and moto.
    with httpx.Client(trust_env=False, timeout=10) as client:
        return client.get(url)


# --- LocalStorage -----------------------------------------------------------------


@pytest.fixture
def local(tmp_path: Path) -> LocalStorage:
    return LocalStorage(
        tmp_path / "files",
        base_url="http://api.test/",
        signing_key=b"k" * 32,
        ttl_seconds=600,
    )


def signed_parts(url: str) -> tuple[str, str, str]:
    """(key, expires, signature) as the /files route would read them."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    key = parts.path.removeprefix("/files/")
    return key, query["expires"][0], query["signature"][0]


async def test_a_local_file_can_be_put_read_checked_and_deleted(local: LocalStorage):
    # given a stored file
    await local.put(KEY, PNG, "image/png")
    # then it reads back, exists, and keeps its content type
    assert await local.get(KEY) == PNG
    assert await local.exists(KEY)
    assert await local.content_type(KEY) == "image/png"
    assert local.path_for(KEY).read_bytes() == PNG
    # when it is deleted, twice
    await local.delete(KEY)
    await local.delete(KEY)
    # then it is gone
    assert not await local.exists(KEY)
    with pytest.raises(KeyError):
        await local.get(KEY)


async def test_writing_a_local_key_twice_keeps_the_last_and_leaves_no_temp_files(
    local: LocalStorage,
):
    await local.put(KEY, b"first", "image/png")
    await local.put(KEY, PNG, "image/webp")
    assert await local.get(KEY) == PNG
    assert await local.content_type(KEY) == "image/webp"
    names = sorted(p.name for p in local.path_for(KEY).parent.iterdir())
    assert names == [".0.png.content-type", "0.png"]


async def test_a_missing_local_file_is_a_key_error_and_does_not_exist(
    local: LocalStorage,
):
    assert not await local.exists("nothing/here.png")
    with pytest.raises(KeyError):
        await local.get("nothing/here.png")


@pytest.mark.parametrize(
    "key",
    [
        "",
        "../escape.png",
        "outputs/../../escape.png",
        "/etc/passwd",
        "outputs\\..\\escape.png",
        "outputs//0.png",
        "outputs/./0.png",
        ".hidden",
        "outputs/0.png/",
        "nul\x00.png",
    ],
)
async def test_unsafe_keys_are_refused_by_every_operation(
    local: LocalStorage, key: str
):
    with pytest.raises(ValueError, match="key"):
        local.path_for(key)
    with pytest.raises(ValueError, match="key"):
        await local.put(key, PNG, "image/png")
    with pytest.raises(ValueError, match="key"):
        await local.url(key, public=False)
    assert not local.verify(key, str(int(time.time()) + 60), "0" * 64)
    assert not (local.root.parent / "escape.png").exists()


async def test_a_public_local_url_is_plain(local: LocalStorage):
    assert await local.url(KEY, public=True) == f"http://api.test/files/{KEY}"


async def test_a_private_local_url_verifies_until_it_expires(local: LocalStorage):
    # given a signed URL made now, valid for 600 s
    url = await local.url(KEY, public=False)
    key, expires, signature = signed_parts(url)
    # then it verifies now and just before expiry, but not at or after it
    assert key == KEY
    assert local.verify(key, expires, signature)
    assert local.verify(key, expires, signature, now=int(expires) - 1)
    assert not local.verify(key, expires, signature, now=int(expires))
    assert not local.verify(key, expires, signature, now=time.time() + 3600)


async def test_a_tampered_or_borrowed_local_signature_is_refused(local: LocalStorage):
    key, expires, signature = signed_parts(await local.url(KEY, public=False))
    flipped = ("1" if signature[0] == "0" else "0") + signature[1:]
    assert not local.verify(key, expires, flipped)
    assert not local.verify(key, str(int(expires) + 3600), signature)
    assert not local.verify("outputs/1234/1.png", expires, signature)
    assert not local.verify(key, None, signature)
    assert not local.verify(key, expires, None)
    assert not local.verify(key, "-1", signature)
    assert not local.verify(key, "9" * 5000, signature)
    assert not local.verify(key, "\u00b2", signature)
    other = LocalStorage(local.root, base_url="http://api.test", signing_key=b"x" * 32)
    assert not other.verify(key, expires, signature)


async def test_a_key_with_spaces_is_quoted_in_the_url_and_verifies_decoded(
    local: LocalStorage,
):
    url = await local.url("uploads/a b/c.png", public=False)
    assert "/files/uploads/a%20b/c.png?" in url
    _, expires, signature = signed_parts(url)
    assert local.verify("uploads/a b/c.png", expires, signature)


def test_check_key_returns_a_safe_key_unchanged():
    assert check_key("uploads/u1/x.webp") == "uploads/u1/x.webp"


# --- the signing key and open_storage ------------------------------------------------


def test_the_signing_key_is_created_once_private_and_reused(tmp_path: Path):
    first = load_signing_key(tmp_path / "data")
    second = load_signing_key(tmp_path / "data")
    path = tmp_path / "data" / SIGNING_KEY_FILE
    assert first == second
    assert len(first) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [SIGNING_KEY_FILE]


def test_a_truncated_signing_key_is_refused_with_how_to_fix(tmp_path: Path):
    (tmp_path / SIGNING_KEY_FILE).write_bytes(b"short")
    with pytest.raises(ValueError, match="Delete it"):
        load_signing_key(tmp_path)


async def test_open_storage_defaults_to_a_local_folder_under_the_data_dir(
    settings: Settings,
):
    # given default settings
    storage = open_storage(settings)
    # then files land in data_dir/files and URLs point at the public base URL
    assert isinstance(storage, LocalStorage)
    await storage.put(KEY, PNG, "image/png")
    assert (settings.data_dir / "files" / KEY).read_bytes() == PNG
    url = await storage.url(KEY, public=False)
    assert url.startswith(f"{settings.public_base_url}/files/{KEY}?expires=")
    # and a second opening signs with the same persisted key
    again = open_storage(settings)
    assert isinstance(again, LocalStorage)
    assert again.verify(*signed_parts(url))


def test_open_storage_uses_a_given_signing_key_without_writing_one(
    settings: Settings,
):
    storage = open_storage(settings, signing_key=b"s" * 32)
    assert isinstance(storage, LocalStorage)
    assert not (settings.data_dir / SIGNING_KEY_FILE).exists()


def test_open_storage_picks_s3_for_an_s3_url(s3_settings: Settings):
    storage = open_storage(s3_settings)
    assert isinstance(storage, S3Storage)
    assert storage.prefix == "darkroom/"
    assert storage.bucket == s3_settings.storage_url.removeprefix("s3://").split("/")[0]


# --- S3Storage on moto's server ------------------------------------------------------


@pytest.fixture
def s3(s3_settings: Settings) -> S3Storage:
    storage = open_storage(s3_settings)
    assert isinstance(storage, S3Storage)
    return storage


def raw_client(storage: S3Storage):
    """A separate client, to look at the bucket without going through S3Storage."""
    return boto3.session.Session().client(
        "s3",
        endpoint_url=storage.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


async def test_an_s3_object_can_be_put_read_checked_and_deleted(s3: S3Storage):
    # given a stored object
    await s3.put(KEY, PNG, "image/png")
    # then it is under the prefix with its content type, reads back and exists
    head = raw_client(s3).head_object(Bucket=s3.bucket, Key=f"darkroom/{KEY}")
    assert head["ContentType"] == "image/png"
    assert await s3.get(KEY) == PNG
    assert await s3.exists(KEY)
    # when it is deleted, twice
    await s3.delete(KEY)
    await s3.delete(KEY)
    # then it is gone
    assert not await s3.exists(KEY)
    with pytest.raises(KeyError):
        await s3.get(KEY)


async def test_writing_an_s3_key_twice_keeps_the_last(s3: S3Storage):
    await s3.put(KEY, b"first", "image/png")
    await s3.put(KEY, PNG, "image/png")
    assert await s3.get(KEY) == PNG


async def test_a_private_s3_url_downloads_the_object(s3: S3Storage):
    # given a private object
    await s3.put(KEY, PNG, "image/png")
    # when its presigned URL is fetched over plain HTTP
    url = await s3.url(KEY, public=False)
    response = http_get(url)
    # then it answers with the bytes and the content type
    assert response.status_code == 200, response.text
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == [str(s3.ttl_seconds)]


async def test_a_private_s3_url_stops_working_when_tampered(s3: S3Storage):
    # given a presigned URL for one object and a second, unsigned-readable nothing
    await s3.put(KEY, PNG, "image/png")
    url = await s3.url(KEY, public=False)
    # then without its signature the object is refused
    assert http_get(url.split("?")[0]).status_code == 403
    # and pointing the signature at a missing key finds nothing
    assert http_get(url.replace("/0.png?", "/9.png?")).status_code == 404


async def test_a_public_s3_url_is_the_plain_path_style_object_url(s3: S3Storage):
    url = await s3.url("uploads/a b/0.png", public=True)
    assert url == f"{s3.endpoint_url}/{s3.bucket}/darkroom/uploads/a%20b/0.png"


async def test_a_public_s3_url_works_once_a_bucket_policy_allows_reads(s3: S3Storage):
    # given an object we stored without any ACL
    await s3.put(KEY, PNG, "image/png")
    url = await s3.url(KEY, public=True)
    assert http_get(url).status_code == 403
    # when the operator allows public reads under the prefix, as documented
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{s3.bucket}/darkroom/*",
            }
        ],
    }
    raw_client(s3).put_bucket_policy(Bucket=s3.bucket, Policy=json.dumps(policy))
    # then the plain URL downloads it
    response = http_get(url)
    assert response.status_code == 200
    assert response.content == PNG


async def test_a_public_url_without_an_endpoint_is_virtual_hosted_aws():
    storage = S3Storage(
        bucket="photos",
        prefix="/darkroom/",
        endpoint_url="",
        region="eu-west-1",
        access_key_id="AKIAEXAMPLE",
        secret_access_key="secret",
        ttl_seconds=60,
    )
    url = await storage.url(KEY, public=True)
    assert url == f"https://photos.s3.eu-west-1.amazonaws.com/darkroom/{KEY}"


async def test_s3_refuses_the_same_unsafe_keys_as_local(s3: S3Storage):
    with pytest.raises(ValueError, match="key"):
        await s3.put("../escape.png", PNG, "image/png")
    with pytest.raises(ValueError, match="key"):
        await s3.url("/abs.png", public=True)
