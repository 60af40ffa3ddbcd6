"""The console's Content-Security-Policy lets images come from where storage
serves them: the API itself on local storage, the S3 endpoint's origin on S3."""

from collections.abc import Callable

import pytest

from core.settings import Settings
from tests.conftest import Api


def img_src(api: Api) -> str:
    policy = api.client.get("/console/").headers["Content-Security-Policy"]
    return next(p for p in policy.split("; ") if p.startswith("img-src "))


def test_on_local_storage_images_come_only_from_the_api_itself(
    make_api: Callable[..., Api],
) -> None:
    # given the app on local storage
    api = make_api()
    # when the console's shell is served
    # then images may come from the page's own origin, data: and blob: only
    assert img_src(api) == "img-src 'self' data: blob:"


def test_on_s3_storage_images_may_come_from_the_endpoints_origin(
    make_api: Callable[..., Api], s3_settings: Settings, s3_server: str
) -> None:
    # given the app storing images in a bucket on an S3-protocol server
    api = make_api(
        storage_url=s3_settings.storage_url,
        s3_endpoint_url=s3_server,
        s3_access_key_id=s3_settings.s3_access_key_id,
        s3_secret_access_key=s3_settings.s3_secret_access_key,
    )
    # when the console's shell is served
    # then its presigned and public image URLs' origin is allowed too
    assert img_src(api) == f"img-src 'self' data: blob: {s3_server}"


def test_the_allowed_image_origin_never_carries_a_path_or_query() -> None:
    # given S3 endpoints with a path, a query, credentials, or none at all (AWS)
    endpoint = Settings(
        storage_url="s3://pics/out",
        s3_endpoint_url="https://user:pw@MinIO.example.com:9000/base/?a=1;b",
    )
    aws = Settings(storage_url="s3://pics.site/out", s3_region="eu-west-1")
    # when their image origins are computed
    # then each is scheme://host[:port] only
    assert endpoint.storage_image_origins == ("https://minio.example.com:9000",)
    assert aws.storage_image_origins == (
        "https://pics.site.s3.amazonaws.com",
        "https://pics.site.s3.eu-west-1.amazonaws.com",
        "https://s3.eu-west-1.amazonaws.com",
    )


def test_an_endpoint_that_is_no_http_origin_is_refused_at_start() -> None:
    # given endpoints no browser could load an image from, or that would inject
    # another directive into the policy
    for bad in ("ftp://files.example.com", "https://a.example.com;script-src *", "x"):
        # when settings are read, then they are refused naming the value
        with pytest.raises(ValueError, match="http"):
            Settings(s3_endpoint_url=bad)
