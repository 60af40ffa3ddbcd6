"""Output history over GraphQL: filters, keyset pages, counts, links, nesting."""

from urllib.parse import parse_qs, urlsplit

from strawberry import relay

from core.enums import Scope
from core.storage import LocalStorage, open_storage
from tests.conftest import Api
from tests.resolvers.history_rows import seed_outputs, user_id_of

OUTPUTS = """query($first: Int, $after: String, $last: Int, $before: String,
               $where: OutputWhere, $orderBy: [OutputOrderBy!]) {
  outputs(first: $first, after: $after, last: $last, before: $before,
          where: $where, orderBy: $orderBy) {
    edges { cursor node { id width } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}"""


def gid(output_id: object) -> str:
    return relay.to_base64("Output", str(output_id))


def test_outputs_page_forwards_through_a_filter_with_a_total_on_every_page(
    api: Api,
) -> None:
    # given five outputs, three of them at least 512 wide, and one of someone else's
    token = api.account("alice@example.com")
    alice = user_id_of(api, "alice@example.com")
    widths = [256, 512, 768, 1024, 256]
    ids = [seed_outputs(api, alice, 1, width=w)[0] for w in widths]
    api.account("bob@example.com")
    seed_outputs(api, user_id_of(api, "bob@example.com"), 3, width=1024)
    where = {"width": {"_gte": 512}}
    # when alice reads two at a time, newest first
    first = api.data(OUTPUTS, {"first": 2, "where": where}, token=token)["outputs"]
    after = first["pageInfo"]["endCursor"]
    second = api.data(
        OUTPUTS, {"first": 2, "after": after, "where": where}, token=token
    )["outputs"]
    # then she sees her three wide outputs once each, in order, counted on each page
    wide = [gid(ids[i]) for i in (3, 2, 1)]  # all made at T0; the id breaks ties
    got = [e["node"]["id"] for e in first["edges"] + second["edges"]]
    assert sorted(got) == sorted(wide)
    assert len(set(got)) == 3
    assert first["pageInfo"]["hasNextPage"] is True
    assert first["pageInfo"]["hasPreviousPage"] is False
    assert second["pageInfo"]["hasNextPage"] is False
    assert second["pageInfo"]["hasPreviousPage"] is True
    assert first["totalCount"] == second["totalCount"] == 3


def test_outputs_sort_by_width_and_page_backwards(api: Api) -> None:
    # given four outputs of different widths
    token = api.account("alice@example.com")
    alice = user_id_of(api, "alice@example.com")
    for w in (512, 256, 1024, 768):
        seed_outputs(api, alice, 1, width=w)
    order = [{"field": "WIDTH", "direction": "ASC"}]
    # when the last two by ascending width are read, then the two before them
    tail = api.data(OUTPUTS, {"last": 2, "orderBy": order}, token=token)["outputs"]
    before = tail["pageInfo"]["startCursor"]
    head = api.data(
        OUTPUTS, {"last": 2, "before": before, "orderBy": order}, token=token
    )["outputs"]
    # then each page reads in ascending order and they join up
    assert [e["node"]["width"] for e in tail["edges"]] == [768, 1024]
    assert [e["node"]["width"] for e in head["edges"]] == [256, 512]
    assert tail["pageInfo"]["hasPreviousPage"] is True
    assert head["pageInfo"]["hasPreviousPage"] is False
    assert head["pageInfo"]["hasNextPage"] is True


def test_outputs_combine_or_not_and_prompt_filters(api: Api) -> None:
    # given outputs with prompts "a lighthouse number 0..3" and one favorite
    token = api.account("alice@example.com")
    alice = user_id_of(api, "alice@example.com")
    ids = seed_outputs(api, alice, 4)
    seed_outputs(api, alice, 1, prompt="A red BARN", is_favorite=True)
    where = {
        "_or": [
            {"prompt": {"_ilike": "%number 1"}},
            {"isFavorite": {"_eq": True}},
        ],
        "_not": {"prompt": {"_ilike": "%barn%"}},
    }
    # when she filters with _or and _not
    data = api.data(OUTPUTS, {"where": where}, token=token)["outputs"]
    # then only the matching lighthouse remains
    assert [e["node"]["id"] for e in data["edges"]] == [gid(ids[1])]
    assert data["totalCount"] == 1


def test_a_bad_cursor_or_page_size_is_a_coded_top_level_error(api: Api) -> None:
    # given an account with an output
    token = api.account("alice@example.com")
    seed_outputs(api, user_id_of(api, "alice@example.com"), 1)
    cases = [
        ({"first": 2, "after": "not-a-cursor"}, "BAD_USER_INPUT"),
        ({"first": 0}, "OUT_OF_RANGE"),
        ({"last": -1}, "OUT_OF_RANGE"),
        ({"first": 1, "last": 1}, "BAD_USER_INPUT"),
        ({"where": {"jobId": "nope"}}, "BAD_USER_INPUT"),
        ({"where": {"width": {"_in": list(range(101))}}}, "BAD_USER_INPUT"),
    ]
    for variables, code in cases:
        # when the request is malformed
        body = api.post(OUTPUTS, variables, token=token)
        # then it is refused with a code, never a 500 or a silent clamp
        assert body["data"] is None, variables
        assert body["errors"][0]["extensions"]["code"] == code, variables
    # and a page over 100 is out of range even when the query is cheap
    cheap = "query($first: Int) { outputs(first: $first) { totalCount } }"
    body = api.post(cheap, {"first": 101}, token=token)
    assert body["errors"][0]["extensions"]["code"] == "OUT_OF_RANGE"


def test_a_cursor_from_another_order_is_refused(api: Api) -> None:
    # given a cursor read in the default order
    token = api.account("alice@example.com")
    seed_outputs(api, user_id_of(api, "alice@example.com"), 3)
    cursor = api.data(OUTPUTS, {"first": 1}, token=token)["outputs"]["pageInfo"][
        "endCursor"
    ]
    # when it is used with another order
    body = api.post(
        OUTPUTS,
        {"first": 1, "after": cursor, "orderBy": [{"field": "WIDTH"}]},
        token=token,
    )
    # then it is refused as bad input
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "orderBy" in body["errors"][0]["message"]


def test_private_images_get_signed_links_and_public_ones_plain_links(
    api: Api,
) -> None:
    # given a private and a public output
    token = api.account("alice@example.com")
    alice = user_id_of(api, "alice@example.com")
    [private] = seed_outputs(api, alice, 1)
    [public] = seed_outputs(api, alice, 1, is_public=True)
    # when their links are read
    query = "{ outputs { edges { node { id imageUrl isPublic } } } }"
    edges = api.data(query, token=token)["outputs"]["edges"]
    urls = {e["node"]["id"]: e["node"]["imageUrl"] for e in edges}
    # then the private link carries a valid signature and the public one none
    storage = open_storage(api.settings)
    assert isinstance(storage, LocalStorage)
    signed = urlsplit(urls[gid(private)])
    params = parse_qs(signed.query)
    key = signed.path.removeprefix("/files/")
    assert storage.verify(key, params["expires"][0], params["signature"][0])
    assert not storage.verify(key, params["expires"][0], "0" * 64)
    assert "?" not in urls[gid(public)]
    assert urls[gid(public)].endswith(".png")


def test_an_output_shows_how_it_was_made_and_its_upscale(api: Api) -> None:
    # given an upscaled output, and one whose model left the catalog
    token = api.account("alice@example.com")
    alice = user_id_of(api, "alice@example.com")
    [made] = seed_outputs(api, alice, 1, upscaled=True)
    [orphan] = seed_outputs(api, alice, 1, model_id="retired-model", width=320)
    query = """{ outputs(first: 10, where: {isUpscaled: {_eq: false}}) { edges { node {
      id jobId seed format isFavorite galleryStatus isUpscaled createdAt
      generation { prompt negativePrompt model { id name inCatalog }
                   scheduler { id name } inferenceSteps guidanceScale promptStrength }
      upscale { width isUpscaled generation { model { name } scheduler { id } } upscale { id } }
    } } } }"""
    # when the outputs are read with their generation and upscale
    edges = api.data(query, token=token)["outputs"]["edges"]
    nodes = {e["node"]["id"]: e["node"] for e in edges}
    # then the settings come from the row and the names from the catalog
    node = nodes[gid(made)]
    assert node["generation"] == {
        "prompt": "a lighthouse number 0",
        "negativePrompt": "",
        "model": {
            "id": "darkroom-tiny",
            "name": "Darkroom tiny (random noise)",
            "inCatalog": True,
        },
        "scheduler": {"id": "K_EULER", "name": "Euler"},
        "inferenceSteps": 20,
        "guidanceScale": 7.0,
        "promptStrength": None,
    }
    assert node["upscale"] == {
        "width": 1024,
        "isUpscaled": True,
        "generation": {
            "model": {"name": "Real-ESRGAN AnimeVideo v3 x4"},
            "scheduler": None,
        },
        "upscale": None,
    }
    assert node["galleryStatus"] == "NOT_SUBMITTED"
    # and a model no longer offered still shows its id as its name
    assert nodes[gid(orphan)]["generation"]["model"] == {
        "id": "retired-model",
        "name": "retired-model",
        "inCatalog": False,
    }
    assert nodes[gid(orphan)]["upscale"] is None


def test_outputs_need_the_read_scope(api: Api) -> None:
    # given a token that may only generate
    token = api.account("alice@example.com", scopes=[Scope.GENERATE])
    # when it lists outputs
    body = api.post(OUTPUTS, token=token)
    # then it is forbidden
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
