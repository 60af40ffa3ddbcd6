"""One consistent public surface: typed codes, global ids everywhere, one Output
type, one pager, nullable inputs with their defaults."""

import base64
from typing import Any

from graphql import GraphQLEnumType, GraphQLNonNull, get_named_type
from PIL import Image

from api.schema import schema
from tests.conftest import Api
from tests.resolvers.test_jobs_api import SMALL, create, follow
from tests.resolvers.test_jobs_api import upload as upload_image

SDL = schema._schema


def decoded(global_id: str) -> tuple[str, str]:
    """(type name, key) inside a global id."""
    type_name, _, key = base64.b64decode(global_id).decode().partition(":")
    return type_name, key


def field_type(type_name: str, field: str) -> Any:
    return SDL.type_map[type_name].fields[field].type  # type: ignore[union-attr]


def test_codes_and_update_types_are_enums_in_the_sdl() -> None:
    # each is a non-null enum: code generators get closed sets, not strings
    for type_name, field, enum in [
        ("UserError", "code", "ErrorCode"),
        ("JobError", "code", "JobErrorCode"),
        ("JobUpdate", "type", "JobUpdateType"),
    ]:
        kind = field_type(type_name, field)
        assert isinstance(kind, GraphQLNonNull), (type_name, field)
        named = get_named_type(kind)
        assert isinstance(named, GraphQLEnumType)
        assert named.name == enum


def test_inputs_with_defaults_are_nullable_so_clients_may_leave_them_out() -> None:
    fields = SDL.type_map["GenerationCreateInput"].fields  # type: ignore[union-attr]
    for name, default in [
        ("numOutputs", 2),
        ("negativePrompt", ""),
        ("previewEvery", 0),
    ]:
        assert not isinstance(fields[name].type, GraphQLNonNull), name
        assert fields[name].default_value == default, name


def test_null_takes_the_default_and_the_job_reports_its_request_by_the_same_names(
    api: Api,
) -> None:
    # given a token
    token = api.account("names@example.com", credits=10)
    # when numOutputs and negativePrompt are sent as null
    job = api.data(
        """mutation($input: GenerationCreateInput!) { generationCreate(input: $input) {
          job { numOutputs negativePrompt inferenceSteps guidanceScale schedulerId
                promptStrength previewEvery modelId width height prompt isPublic }
          userErrors { code } } }""",
        {"input": {**SMALL, "numOutputs": None, "negativePrompt": None}},
        token=token,
    )["generationCreate"]["job"]
    # then they took their defaults, and the job speaks the input's names
    assert job == {
        "numOutputs": 2,
        "negativePrompt": "",
        "inferenceSteps": 3,
        "guidanceScale": 7.0,
        "schedulerId": "K_EULER",
        "promptStrength": None,
        "previewEvery": 0,
        "modelId": "darkroom-tiny",
        "width": 64,
        "height": 64,
        "prompt": "a lighthouse at dusk",
        "isPublic": False,
    }


def test_every_id_handed_out_is_a_global_id_of_its_type(api: Api) -> None:
    # given a finished job, an upload made into an image-to-image job, and usage
    token = api.account("ids@example.com", credits=20)
    job = create(api, token, wait=60, numOutputs=1)["job"]
    output = job["outputs"][0]
    body = api.data(
        """{ outputs(first: 1) { edges { node { id jobId job { id } } } }
             usage(first: 1) { edges { node { jobId tokenId job { id } } } }
             models { id modelId } }""",
        token=token,
    )
    node = body["outputs"]["edges"][0]["node"]
    usage = body["usage"]["edges"][0]["node"]
    # then each id names its own type, and the raw keys are never exposed as ids
    assert decoded(job["id"])[0] == "Job"
    assert decoded(output["id"])[0] == "Output"
    assert node["jobId"] == node["job"]["id"] == job["id"]
    assert usage["jobId"] == usage["job"]["id"] == job["id"]
    assert decoded(usage["tokenId"])[0] == "ApiToken"
    assert decoded(body["models"][0]["id"]) == ("Model", body["models"][0]["modelId"])


def test_an_upload_is_a_node_and_its_id_starts_an_image_to_image_job(
    api: Api,
) -> None:
    # given an uploaded image
    token = api.account("upload@example.com", credits=10)
    upload = {"id": upload_image(api, token, Image.new("RGB", (64, 64)))}
    assert decoded(upload["id"])[0] == "UploadedImage"
    # when it is looked up and used as an init image
    found = api.data(
        "query($id: ID!) { node(id: $id) { ... on UploadedImage { id width } } }",
        {"id": upload["id"]},
        token=token,
    )["node"]
    job = create(api, token, initImageId=upload["id"], numOutputs=1)["job"]
    # then the node is the upload and the job names it back by the same id
    assert found == {"id": upload["id"], "width": 64}
    again = api.data(
        "query($id: ID!) { job(id: $id) { initImageId } }",
        {"id": job["id"]},
        token=token,
    )
    assert again["job"]["initImageId"] == upload["id"]


def test_generation_create_takes_the_models_global_id(api: Api) -> None:
    # given the `id` the catalog lists, not the catalog key
    token = api.account("model@example.com", credits=10)
    [model] = api.data("{ models { id } }")["models"]
    # when a generation names its model by it
    payload = create(api, token, modelId=model["id"], numOutputs=1)
    # then it is accepted on that model
    assert payload["userErrors"] == []


def test_outputs_can_be_filtered_by_the_jobs_global_id(api: Api) -> None:
    token = api.account("filter@example.com", credits=10)
    first = create(api, token, wait=60, numOutputs=1)["job"]
    create(api, token, wait=60, numOutputs=1)
    body = api.data(
        """query($job: ID) { outputs(first: 10, where: {jobId: $job}) {
          totalCount edges { node { jobId } } } }""",
        {"job": first["id"]},
        token=token,
    )["outputs"]
    assert body["totalCount"] == 1
    assert body["edges"][0]["node"]["jobId"] == first["id"]


def test_jobs_page_both_ways_with_a_total(api: Api) -> None:
    # given five jobs
    token = api.account("pages@example.com", credits=20)
    ids = [create(api, token, numOutputs=1)["job"]["id"] for _ in range(5)]
    page = """query($first: Int, $after: String, $last: Int, $before: String) {
      jobs(first: $first, after: $after, last: $last, before: $before) {
        totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { node { id } } } }"""
    # when read newest first two at a time, then backwards from the end
    one = api.data(page, {"first": 2}, token=token)["jobs"]
    two = api.data(
        page, {"first": 2, "after": one["pageInfo"]["endCursor"]}, token=token
    )["jobs"]
    back = api.data(
        page, {"last": 2, "before": two["pageInfo"]["startCursor"]}, token=token
    )["jobs"]
    # then the pages join up, newest first, and the total counts all five
    newest = ids[::-1]
    assert [e["node"]["id"] for e in one["edges"]] == newest[:2]
    assert [e["node"]["id"] for e in two["edges"]] == newest[2:4]
    assert [e["node"]["id"] for e in back["edges"]] == newest[:2]
    assert one["totalCount"] == two["totalCount"] == 5
    assert two["pageInfo"]["hasPreviousPage"] is True
    assert back["pageInfo"]["hasPreviousPage"] is False


def test_an_output_update_carries_the_whole_output(api: Api) -> None:
    # given a submitted job
    token = api.account("live@example.com", credits=10)
    job_id = create(api, token, numOutputs=1)["job"]["id"]
    # when its owner follows it selecting much of the output
    events = follow(
        api,
        token,
        job_id,
        query="""subscription($id: ID!) { jobUpdates(jobId: $id) {
          type output { id index imageUrl seed format generation { prompt modelId } } } }""",
    )
    # then the OUTPUT update has the whole output, as stored
    [output] = [e["output"] for e in events if e["type"] == "OUTPUT"]
    assert decoded(output["id"])[0] == "Output"
    assert output["index"] == 0
    assert output["format"] == "PNG"
    assert output["generation"] == {
        "prompt": SMALL["prompt"],
        "modelId": "darkroom-tiny",
    }
    assert output["imageUrl"].startswith(api.settings.public_base_url)
