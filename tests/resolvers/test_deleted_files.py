"""Deleting outputs removes their files, and their old links answer 404."""

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from core.db import Database
from core.settings import Settings
from darkroom.services import open_storage
from tests.conftest import Api, _empty_tables

CREATE = """mutation($input: GenerationCreateInput!) {
  generationCreate(input: $input, wait: 60) {
    job { status outputs { id imageUrl } } userErrors { code }
  }
}"""
UPSCALE = """mutation($id: ID!) {
  upscaleCreate(input: {outputId: $id}, wait: 60) {
    job { status outputs { id imageUrl } } userErrors { code }
  }
}"""
DELETE = """mutation($ids: [ID!]!) {
  outputsDelete(ids: $ids) { deletedIds userErrors { code } }
}"""
KEYS = "{ outputs { edges { node { id } } } }"
SMALL = {"prompt": "a lighthouse", "width": 64, "height": 64, "inferenceSteps": 2}


def generated(api: Api, token: str, **fields: Any) -> dict[str, Any]:
    """One finished output of a new job: its id and link."""
    variables = {"input": {**SMALL, "numOutputs": 1, **fields}}
    job = api.data(CREATE, variables, token=token)["generationCreate"]["job"]
    assert job["status"] == "SUCCEEDED"
    output: dict[str, Any] = job["outputs"][0]
    return output


def upscaled(api: Api, token: str, output_id: str) -> dict[str, Any]:
    job = api.data(UPSCALE, {"id": output_id}, token=token)["upscaleCreate"]["job"]
    assert job["status"] == "SUCCEEDED"
    output: dict[str, Any] = job["outputs"][0]
    return output


def local_get(api: Api, url: str) -> int:
    return api.client.get(url.removeprefix(api.settings.public_base_url)).status_code


def key_of(url: str) -> str:
    return url.split("/files/", 1)[-1].split("?")[0]


def delete(api: Api, token: str, *ids: str) -> None:
    payload = api.data(DELETE, {"ids": list(ids)}, token=token)["outputsDelete"]
    assert payload["userErrors"] == []


def test_deleting_an_output_removes_its_and_its_upscales_files(api: Api) -> None:
    # given an output and its upscale, both reachable by their signed links
    token = api.account("ann@example.com", credits=10)
    original = generated(api, token)
    upscale = upscaled(api, token, original["id"])
    links = [original["imageUrl"], upscale["imageUrl"]]
    assert [local_get(api, url) for url in links] == [200, 200]
    # when the original is deleted
    delete(api, token, original["id"])
    # then both files are gone from storage and both links answer 404
    storage = open_storage(api.settings)
    assert [asyncio.run(storage.exists(key_of(url))) for url in links] == [False] * 2
    assert [local_get(api, url) for url in links] == [404, 404]
    assert api.data(KEYS, token=token)["outputs"]["edges"] == []


def test_a_deleted_outputs_file_left_behind_is_still_not_served(api: Api) -> None:
    # given a deleted public output whose file is back on disk (say removal failed)
    token = api.account("bo@example.com", credits=10)
    output = generated(api, token, isPublic=True)
    key = key_of(output["imageUrl"])
    storage = open_storage(api.settings)
    data = asyncio.run(storage.get(key))
    delete(api, token, output["id"])
    asyncio.run(storage.put(key, data, "image/png"))
    # when its old link, and a freshly signed one, are followed
    signed = asyncio.run(storage.url(key, public=False))
    # then the row decides: 404 with or without a signature
    assert local_get(api, output["imageUrl"]) == 404
    assert local_get(api, signed) == 404


@pytest.fixture(params=["sqlite", "postgresql"])
def s3_api(request: pytest.FixtureRequest, s3_settings: Settings) -> Iterator[Api]:
    """The app with its files in a moto S3 bucket, on an empty database."""
    from darkroom.services import build_app

    url = request.getfixturevalue(f"{request.param}_database_url")

    async def empty() -> None:
        database = Database(url)
        await _empty_tables(database)
        await database.dispose()

    asyncio.run(empty())
    settings = s3_settings.model_copy(update={"database_url": url})
    with TestClient(build_app(settings)) as client:
        yield Api(client, settings)


def test_deleting_an_output_removes_its_s3_object_and_its_presigned_link_fails(
    s3_api: Api,
) -> None:
    # given an output stored in S3, downloadable through its presigned link
    api = s3_api
    token = api.account("cy@example.com", credits=10)
    output = generated(api, token)
    assert httpx.get(output["imageUrl"]).status_code == 200
    # when it is deleted
    delete(api, token, output["id"])
    # then the object is gone and the old link answers 404
    storage = open_storage(api.settings)
    key = f"outputs/{output['imageUrl'].split('/outputs/')[1].split('?')[0]}"
    assert asyncio.run(storage.exists(key)) is False
    assert httpx.get(output["imageUrl"]).status_code == 404
