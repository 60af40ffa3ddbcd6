"""Output history over GraphQL: filters, keyset pages, counts, links, nesting."""

from urllib.parse import parse_qs, urlsplit

from strawberry import relay

from core.enums import Scope
from core.storage import LocalStorage
from darkroom.services import open_storage
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
        assert body.get("data") is None, variables
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
      generation { prompt negativePrompt modelId schedulerId model { modelId name inCatalog }
                   scheduler { schedulerId name } inferenceSteps guidanceScale promptStrength }
      upscale { width isUpscaled generation { model { name } scheduler { schedulerId } } upscale { id } }
    } } } }"""
    # when the outputs are read with their generation and upscale
    edges = api.data(query, token=token)["outputs"]["edges"]
    nodes = {e["node"]["id"]: e["node"] for e in edges}
    # then the settings come from the row and the names from the catalog
    node = nodes[gid(made)]
    assert node["generation"] == {
        "prompt": "a lighthouse number 0",
        "negativePrompt": "",
        "modelId": "darkroom-tiny",
        "schedulerId": "K_EULER",
        "model": {
            "modelId": "darkroom-tiny",
            "name": "Darkroom tiny (random noise)",
            "inCatalog": True,
        },
        "scheduler": {"schedulerId": "K_EULER", "name": "Euler"},
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
        "modelId": "retired-model",
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


UPDATE = """mutation($ids: [ID!]!, $input: OutputsUpdateInput!) {
  outputsUpdate(ids: $ids, input: $input) {
    outputs { id isFavorite isPublic galleryStatus imageUrl }
    userErrors { field code message }
  }
}"""
SUBMIT = """mutation($ids: [ID!]!) { outputsSubmitToGallery(ids: $ids) {
  outputs { id isPublic galleryStatus } userErrors { field code message } } }"""
DELETE = """mutation($ids: [ID!]!) { outputsDelete(ids: $ids) {
  deletedIds userErrors { field code message } } }"""
FLAGS = "{ outputs { edges { node { id isFavorite isPublic galleryStatus } } } }"


def flags(api: Api, token: str) -> dict[str, dict[str, object]]:
    edges = api.data(FLAGS, token=token)["outputs"]["edges"]
    return {e["node"]["id"]: e["node"] for e in edges}


def test_favorites_need_only_read_and_visibility_needs_manage(api: Api) -> None:
    # given a read-only token and two private outputs
    token = api.account("alice@example.com", scopes=[Scope.READ])
    ids = [gid(i) for i in seed_outputs(api, user_id_of(api, "alice@example.com"), 2)]
    # when it favorites them
    payload = api.data(UPDATE, {"ids": ids, "input": {"isFavorite": True}}, token=token)
    # then both are favorites and nothing else changed
    changed = payload["outputsUpdate"]
    assert changed["userErrors"] == []
    assert [o["isFavorite"] for o in changed["outputs"]] == [True, True]
    assert [o["id"] for o in changed["outputs"]] == ids
    # and making them public is refused for lack of MANAGE, changing nothing
    body = api.post(UPDATE, {"ids": ids, "input": {"isPublic": True}}, token=token)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert "MANAGE" in body["errors"][0]["message"]
    assert all(not o["isPublic"] for o in flags(api, token).values())


def test_making_outputs_public_submits_them_and_signs_links_no_more(api: Api) -> None:
    # given a managing token and a private output
    token = api.account("alice@example.com")
    [one] = [gid(i) for i in seed_outputs(api, user_id_of(api, "alice@example.com"), 1)]
    # when it is made public, then private again
    public = api.data(UPDATE, {"ids": [one], "input": {"isPublic": True}}, token=token)
    private = api.data(
        UPDATE, {"ids": [one], "input": {"isPublic": False}}, token=token
    )
    # then it was submitted with a plain link, and withdrawn with a signed one
    [shown] = public["outputsUpdate"]["outputs"]
    assert (shown["isPublic"], shown["galleryStatus"]) == (True, "SUBMITTED")
    assert "signature=" not in shown["imageUrl"]
    [hidden] = private["outputsUpdate"]["outputs"]
    assert (hidden["isPublic"], hidden["galleryStatus"]) == (False, "NOT_SUBMITTED")
    assert "signature=" in hidden["imageUrl"]


def test_a_free_account_cannot_make_outputs_private(api: Api) -> None:
    # given a free account with a public output
    from core.enums import Tier

    token = api.account("free@example.com", tier=Tier.FREE)
    user = user_id_of(api, "free@example.com")
    [one] = [gid(i) for i in seed_outputs(api, user, 1, is_public=True)]
    # when it tries to hide it
    payload = api.data(
        UPDATE, {"ids": [one], "input": {"isPublic": False}}, token=token
    )
    # then a FORBIDDEN userError says why and the output stays public
    result = payload["outputsUpdate"]
    assert result["outputs"] is None
    assert result["userErrors"][0]["code"] == "FORBIDDEN"
    assert result["userErrors"][0]["field"] == ["input", "isPublic"]
    assert flags(api, token)[one]["isPublic"] is True


def test_a_foreign_id_fails_the_whole_batch_and_changes_nothing(api: Api) -> None:
    # given alice's output and bob's output
    alice = api.account("alice@example.com")
    bob = api.account("bob@example.com")
    [mine] = [
        gid(i) for i in seed_outputs(api, user_id_of(api, "alice@example.com"), 1)
    ]
    [his] = [gid(i) for i in seed_outputs(api, user_id_of(api, "bob@example.com"), 1)]
    for mutation, variables in [
        (UPDATE, {"input": {"isFavorite": True}}),
        (SUBMIT, {}),
        (DELETE, {}),
    ]:
        # when alice names both in one batch
        payload = api.data(mutation, {**variables, "ids": [mine, his]}, token=alice)
        # then NOT_FOUND comes back as a userError without saying which id
        [result] = payload.values()
        assert result["userErrors"][0]["code"] == "NOT_FOUND"
        assert result["userErrors"][0]["field"] == ["ids"]
    # and neither output changed
    assert flags(api, alice)[mine] == {
        "id": mine,
        "isFavorite": False,
        "isPublic": False,
        "galleryStatus": "NOT_SUBMITTED",
    }
    assert flags(api, bob)[his]["isFavorite"] is False
    # and a malformed id is just as unknown
    payload = api.data(SUBMIT, {"ids": [relay.to_base64("Output", "x")]}, token=alice)
    assert payload["outputsSubmitToGallery"]["userErrors"][0]["code"] == "NOT_FOUND"


def test_submitting_to_the_gallery_makes_outputs_public(api: Api) -> None:
    # given two private outputs
    token = api.account("alice@example.com")
    ids = [gid(i) for i in seed_outputs(api, user_id_of(api, "alice@example.com"), 2)]
    # when they are submitted
    payload = api.data(SUBMIT, {"ids": ids}, token=token)["outputsSubmitToGallery"]
    # then both are public and submitted
    assert payload["userErrors"] == []
    assert {(o["isPublic"], o["galleryStatus"]) for o in payload["outputs"]} == {
        (True, "SUBMITTED")
    }


def test_deleted_outputs_and_their_upscales_vanish_from_history(api: Api) -> None:
    # given an upscaled output and another one
    token = api.account("alice@example.com")
    user = user_id_of(api, "alice@example.com")
    [gone] = seed_outputs(api, user, 1, upscaled=True)
    [kept] = seed_outputs(api, user, 1)
    # when the upscaled one is deleted
    payload = api.data(DELETE, {"ids": [gid(gone)]}, token=token)["outputsDelete"]
    # then its id comes back and only the other output is listed, counted and found
    assert payload == {"deletedIds": [gid(gone)], "userErrors": []}
    data = api.data("{ outputs { totalCount edges { node { id } } } }", token=token)
    assert data["outputs"]["totalCount"] == 1
    assert [e["node"]["id"] for e in data["outputs"]["edges"]] == [gid(kept)]
    body = api.post(NODE, {"id": gid(gone)}, token=token)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


def test_deleting_and_submitting_need_manage(api: Api) -> None:
    # given a token with READ and GENERATE but not MANAGE
    token = api.account("alice@example.com", scopes=[Scope.READ, Scope.GENERATE])
    ids = [gid(i) for i in seed_outputs(api, user_id_of(api, "alice@example.com"), 1)]
    for mutation in (DELETE, SUBMIT):
        # when it deletes or submits
        body = api.post(mutation, {"ids": ids}, token=token)
        # then it is forbidden and the output is untouched
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert flags(api, token)[ids[0]]["isPublic"] is False


NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on Output { width }
  ... on ApiToken { name }
  ... on Model { modelId }
} }"""


def test_node_finds_your_own_objects_by_global_id(api: Api) -> None:
    # given alice's output and token, and the catalog model
    from tests.resolvers.history_rows import token_of

    token = api.account("alice@example.com")
    [output] = seed_outputs(api, user_id_of(api, "alice@example.com"), 1, width=320)
    api_token = token_of(api, "alice@example.com")
    cases = [
        (gid(output), {"__typename": "Output", "width": 320}),
        (
            relay.to_base64("ApiToken", str(api_token.id)),
            {"__typename": "ApiToken", "name": api_token.name},
        ),
        (
            relay.to_base64("Model", "darkroom-tiny"),
            {"__typename": "Model", "modelId": "darkroom-tiny"},
        ),
    ]
    for global_id, expected in cases:
        # when she looks each up
        node = api.data(NODE, {"id": global_id}, token=token)["node"]
        # then she gets it back under the same id
        assert node == {**expected, "id": global_id}


def test_node_never_shows_another_accounts_objects(api: Api) -> None:
    # given bob's output and token, and an id of no known type
    from tests.resolvers.history_rows import token_of

    alice = api.account("alice@example.com")
    api.account("bob@example.com")
    [his] = seed_outputs(api, user_id_of(api, "bob@example.com"), 1)
    his_token = token_of(api, "bob@example.com")
    for global_id in [
        gid(his),
        relay.to_base64("ApiToken", str(his_token.id)),
        relay.to_base64("Job", str(his_token.id)),
        relay.to_base64("Model", "no-such-model"),
        relay.to_base64("Output", "not-a-uuid"),
        relay.to_base64("User", str(his_token.user_id)),
    ]:
        # when alice looks it up
        body = api.post(NODE, {"id": global_id}, token=alice)
        # then it is NOT_FOUND with no data
        assert body["data"] is None, global_id
        assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND", global_id
