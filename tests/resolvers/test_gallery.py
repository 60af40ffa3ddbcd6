"""The public gallery: anonymous listing, isolation, paging, filters, node lookups,
the file route, and moderation by ADMIN tokens."""

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from core.enums import DEFAULT_SCOPES, GalleryStatus, Scope, Tier
from core.gallery import author_handle
from core.models import Output
from darkroom.services import open_storage
from tests.conftest import Api
from tests.resolvers.history_rows import T0, seed_outputs, user_id_of

GALLERY = """query($first: Int, $after: String, $last: Int, $before: String,
                  $where: GalleryWhere) {
  gallery(first: $first, after: $after, last: $last, before: $before, where: $where) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage endCursor startCursor }
    edges { cursor node { id width height format seed createdAt url
      author { handle }
      generation { prompt negativePrompt inferenceSteps guidanceScale
        model { modelId } scheduler { schedulerId } } } }
  }
}"""
IDS = "query($where: GalleryWhere) { gallery(where: $where) { edges { node { id } } } }"
NODE = """query($id: ID!) { node(id: $id) { __typename id
  ... on GalleryImage { width author { handle } } } }"""
QUEUE = """query($first: Int, $after: String) { galleryReviewQueue(first: $first, after: $after) {
  totalCount pageInfo { hasNextPage endCursor }
  edges { node { id status isPublic imageUrl author { handle } generation { prompt } } }
} }"""
REVIEW = """mutation($ids: [ID!]!, $decision: GalleryReviewDecision!) {
  galleryReview(input: {ids: $ids, decision: $decision}) {
    submissions { id status } userErrors { field code message }
  }
}"""
ADMIN = (Scope.READ, Scope.MANAGE, Scope.ADMIN)
APPROVED = {"is_public": True, "gallery_status": GalleryStatus.APPROVED}
PNG = b"\x89PNG\r\n\x1a\n" + b"gallery image bytes"


def image_id(output_id: uuid.UUID) -> str:
    return relay.to_base64("GalleryImage", str(output_id))


def output_gid(output_id: uuid.UUID) -> str:
    return relay.to_base64("Output", str(output_id))


def account(api: Api, email: str, **kwargs: Any) -> tuple[str, uuid.UUID]:
    token = api.account(email, **kwargs)
    return token, user_id_of(api, email)


def listed(api: Api, where: dict[str, Any] | None = None) -> list[str]:
    data = api.data(IDS, {"where": where})
    return [edge["node"]["id"] for edge in data["gallery"]["edges"]]


def set_fields(api: Api, output_id: uuid.UUID, **fields: Any) -> None:
    async def work(session: AsyncSession) -> None:
        await session.execute(
            sa.update(Output).where(Output.id == output_id).values(**fields)  # type: ignore[arg-type]  # a column
        )

    api.run(work)


def store_file(api: Api, output_id: uuid.UUID) -> None:
    async def key(session: AsyncSession) -> str:
        output = await session.get(Output, output_id)
        assert output is not None
        return output.storage_key

    storage = open_storage(api.settings)
    asyncio.run(storage.put(api.run(key), PNG, "image/png"))


def test_anyone_lists_approved_public_images_newest_first_without_a_token(
    api: Api,
) -> None:
    # given two approved public images of alice, made a minute apart
    _, alice = account(api, "alice@example.com")
    older, newer = seed_outputs(api, alice, 2, **APPROVED)
    # when someone without a token reads the gallery
    body = api.post(GALLERY)
    # then both are listed, newest first, with what they show
    assert "errors" not in body
    gallery = body["data"]["gallery"]
    assert gallery["totalCount"] == 2
    nodes = [edge["node"] for edge in gallery["edges"]]
    assert [n["id"] for n in nodes] == [image_id(newer), image_id(older)]
    assert nodes[0]["author"] == nodes[1]["author"] == {"handle": author_handle(alice)}
    assert nodes[0]["url"] == (
        f"{api.settings.public_base_url}/gallery/images/{newer}.png"
    )
    assert nodes[0]["format"] == "PNG"
    assert nodes[0]["generation"] == {
        "prompt": "a lighthouse number 1",
        "negativePrompt": "",
        "inferenceSteps": 20,
        "guidanceScale": 7.0,
        "model": {"modelId": "darkroom-tiny"},
        "scheduler": {"schedulerId": "K_EULER"},
    }
    assert "extensions" in body  # priced and limited like every anonymous read
    assert body["extensions"]["cost"]["requestedQueryCost"] > 0


def test_the_gallery_never_shows_private_unapproved_rejected_or_deleted_images(
    api: Api,
) -> None:
    # given one approved public image and every way of not being one
    _, alice = account(api, "alice@example.com")
    [shown] = seed_outputs(api, alice, 1, **APPROVED)
    hidden = [
        *seed_outputs(api, alice, 1, is_public=False, gallery_status="APPROVED"),
        *seed_outputs(api, alice, 1, is_public=True, gallery_status="SUBMITTED"),
        *seed_outputs(
            api, alice, 1, is_public=True, gallery_status="WAITING_FOR_APPROVAL"
        ),
        *seed_outputs(api, alice, 1, is_public=True, gallery_status="REJECTED"),
        *seed_outputs(api, alice, 1, is_public=True, gallery_status="NOT_SUBMITTED"),
        *seed_outputs(api, alice, 1, **APPROVED, deleted_at=T0),
    ]
    # and an approved upscale whose original was deleted
    [original] = seed_outputs(api, alice, 1, upscaled=True, **APPROVED)

    async def upscale_of(session: AsyncSession) -> uuid.UUID:
        stmt = sa.select(Output.id).where(Output.upscaled_from_id == original)  # type: ignore[arg-type]  # a column
        return (await session.scalars(stmt)).one()

    upscale = api.run(upscale_of)
    set_fields(api, original, deleted_at=T0)
    # when the gallery is read
    ids = listed(api)
    # then only the approved public live image is there
    assert ids == [image_id(shown)]
    assert image_id(upscale) not in ids
    assert all(image_id(h) not in ids for h in hidden)


def test_a_gallery_image_exposes_no_private_field(api: Api) -> None:
    # when the GalleryImage type is introspected
    data = api.data('{ __type(name: "GalleryImage") { fields { name } } }')
    names = sorted(f["name"] for f in data["__type"]["fields"])
    # then it has only public fields: no account, token, job, favorite or source
    assert names == [
        "author",
        "createdAt",
        "format",
        "generation",
        "height",
        "id",
        "seed",
        "url",
        "width",
    ]
    author = api.data('{ __type(name: "GalleryAuthor") { fields { name } } }')
    assert [f["name"] for f in author["__type"]["fields"]] == ["handle"]
    where = api.data('{ __type(name: "GalleryWhere") { inputFields { name } } }')
    assert sorted(f["name"] for f in where["__type"]["inputFields"]) == [
        "_and",
        "_not",
        "_or",
        "aspectRatio",
        "createdAt",
        "height",
        "isUpscaled",
        "modelId",
        "prompt",
        "schedulerId",
        "width",
    ]


def test_the_handle_is_stable_per_account_and_reveals_neither_id_nor_email(
    api: Api,
) -> None:
    # given two accounts
    _, alice = account(api, "alice@example.com")
    _, bob = account(api, "bob@example.com")
    # then each has one handle of its own that contains neither id nor email
    assert author_handle(alice) == author_handle(alice)
    assert author_handle(alice) != author_handle(bob)
    handle = author_handle(alice)
    assert handle.startswith("u_")
    assert len(handle) == 12
    assert str(alice).replace("-", "")[:10] not in handle
    assert "alice" not in handle


def test_paging_through_the_gallery_neither_skips_nor_repeats(api: Api) -> None:
    # given seven approved images, three of them stored at the same moment
    _, alice = account(api, "alice@example.com")
    ids = seed_outputs(api, alice, 4, **APPROVED)
    ids += seed_outputs(api, alice, 3, **APPROVED, created_at=T0 + timedelta(hours=1))
    expected = listed(api)
    assert len(expected) == 7
    # when it is read three at a time, forwards
    seen: list[str] = []
    after = None
    while True:
        page = api.data(GALLERY, {"first": 3, "after": after})["gallery"]
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then every image came once, in order
    assert seen == expected
    assert sorted(seen) == sorted(image_id(i) for i in ids)
    # and backwards from the end the same
    back: list[str] = []
    before = None
    while True:
        page = api.data(GALLERY, {"last": 3, "before": before})["gallery"]
        back = [edge["node"]["id"] for edge in page["edges"]] + back
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert back == expected


def test_the_gallery_filters_on_public_fields(api: Api) -> None:
    # given approved images of different sizes and prompts
    _, alice = account(api, "alice@example.com")
    [square] = seed_outputs(api, alice, 1, **APPROVED, prompt="a red fox")
    [wide] = seed_outputs(
        api, alice, 1, **APPROVED, width=512, height=288, prompt="a blue whale"
    )
    # when filtered by size, ratio, prompt and combinations
    assert listed(api, {"width": {"_gt": 300}}) == [image_id(wide)]
    assert listed(api, {"aspectRatio": {"_eq": "SQUARE_1_1"}}) == [image_id(square)]
    assert listed(api, {"prompt": {"_ilike": "%fox%"}}) == [image_id(square)]
    assert listed(api, {"_not": {"prompt": {"_ilike": "%fox%"}}}) == [image_id(wide)]
    both = {"_or": [{"width": {"_eq": 512}}, {"prompt": {"_ilike": "%fox%"}}]}
    assert sorted(listed(api, both)) == sorted([image_id(square), image_id(wide)])
    assert listed(api, {"modelId": {"_eq": "other"}}) == []
    assert listed(api, {"isUpscaled": {"_eq": True}}) == []


def test_a_private_filter_field_is_not_in_the_schema(api: Api) -> None:
    # when someone tries to filter the gallery by a private flag
    body = api.post(IDS, {"where": {"isFavorite": {"_eq": True}}})
    # then the request is refused before it runs
    assert body.get("data") is None
    assert "isFavorite" in body["errors"][0]["message"]


def test_node_finds_a_gallery_image_anonymously_but_never_a_private_output(
    api: Api,
) -> None:
    # given an approved image of alice and a private output of bob
    _, alice = account(api, "alice@example.com")
    bob_token, bob = account(api, "bob@example.com")
    [shown] = seed_outputs(api, alice, 1, **APPROVED, width=320)
    [private] = seed_outputs(api, bob, 1)
    # when anyone looks up the image by its gallery id
    node = api.data(NODE, {"id": image_id(shown)})["node"]
    # then it is found under the same id
    assert node == {
        "__typename": "GalleryImage",
        "id": image_id(shown),
        "width": 320,
        "author": {"handle": author_handle(alice)},
    }
    # and the private output, even to its owner, as a gallery id, is exactly
    # as unknown as an id that never existed: no data, NOT_FOUND
    for token in (None, bob_token):
        for gid in (image_id(private), image_id(uuid.uuid4())):
            body = api.post(NODE, {"id": gid}, token=token)
            assert body["data"] is None, gid
            assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
            assert body["errors"][0]["message"] == "no such GalleryImage"
    # and other node types still need a token
    body = api.post(NODE, {"id": output_gid(private)})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_the_file_route_serves_gallery_images_only(api: Api) -> None:
    # given an approved image and outputs that are not in the gallery, all stored
    _, alice = account(api, "alice@example.com")
    [shown] = seed_outputs(api, alice, 1, **APPROVED)
    [private] = seed_outputs(api, alice, 1, is_public=False, gallery_status="APPROVED")
    [pending] = seed_outputs(api, alice, 1, is_public=True, gallery_status="SUBMITTED")
    [deleted] = seed_outputs(api, alice, 1, **APPROVED, deleted_at=T0)
    for output_id in (shown, private, pending, deleted):
        store_file(api, output_id)
    # when each is fetched by its gallery link, without a signature
    response = api.client.get(f"/gallery/images/{shown}.png")
    # then the approved one is served, cached briefly, and the others are 404
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "public, max-age=60"
    for output_id in (private, pending, deleted):
        gone = api.client.get(f"/gallery/images/{output_id}.png")
        assert gone.status_code == 404, output_id
        assert gone.headers["cache-control"] == "no-store"
    for bad in (f"{shown}.jpg", "not-a-uuid.png", f"{uuid.uuid4()}.png"):
        assert api.client.get(f"/gallery/images/{bad}").status_code == 404


def test_deleting_or_making_private_removes_an_image_from_the_gallery_at_once(
    api: Api,
) -> None:
    # given two approved images of alice, both listed and served
    token, alice = account(api, "alice@example.com")
    one, two = seed_outputs(api, alice, 2, **APPROVED)
    for output_id in (one, two):
        store_file(api, output_id)
    assert len(listed(api)) == 2
    # when she makes one private and deletes the other
    made_private = api.data(
        """mutation($ids: [ID!]!) { outputsUpdate(ids: $ids, input: {isPublic: false})
           { userErrors { code } } }""",
        {"ids": [output_gid(one)]},
        token=token,
    )
    assert made_private["outputsUpdate"]["userErrors"] == []
    deleted = api.data(
        "mutation($ids: [ID!]!) { outputsDelete(ids: $ids) { userErrors { code } } }",
        {"ids": [output_gid(two)]},
        token=token,
    )
    assert deleted["outputsDelete"]["userErrors"] == []
    # then neither is listed, looked up or served any more
    assert listed(api) == []
    for output_id in (one, two):
        assert api.post(NODE, {"id": image_id(output_id)})["data"] is None
        status = api.client.get(f"/gallery/images/{output_id}.png").status_code
        assert status == 404


def test_an_admin_reviews_the_queue_oldest_first_and_approves(api: Api) -> None:
    # given submissions of alice (one private, so not in the queue) and an admin
    _, alice = account(api, "alice@example.com")
    admin, _ = account(api, "mod@example.com", scopes=ADMIN)
    first, second, third = seed_outputs(
        api, alice, 3, is_public=True, gallery_status="SUBMITTED"
    )
    set_fields(api, third, gallery_status=GalleryStatus.WAITING_FOR_APPROVAL)
    seed_outputs(api, alice, 1, is_public=False, gallery_status="SUBMITTED")
    # when the admin reads the queue a page at a time
    page = api.data(QUEUE, {"first": 2}, token=admin)["galleryReviewQueue"]
    rest = api.data(
        QUEUE, {"first": 2, "after": page["pageInfo"]["endCursor"]}, token=admin
    )["galleryReviewQueue"]
    # then it lists the three public ones, oldest first, with a link and prompt
    nodes = [e["node"] for e in page["edges"] + rest["edges"]]
    assert [n["id"] for n in nodes] == [image_id(i) for i in (first, second, third)]
    assert page["totalCount"] == 3
    assert nodes[0]["generation"]["prompt"] == "a lighthouse number 0"
    assert nodes[0]["author"] == {"handle": author_handle(alice)}
    assert "signature=" in nodes[0]["imageUrl"]
    assert [n["status"] for n in nodes] == [
        "SUBMITTED",
        "SUBMITTED",
        "WAITING_FOR_APPROVAL",
    ]
    # when the admin approves two (by gallery and by output id) and rejects one
    approved = api.data(
        REVIEW,
        {"ids": [image_id(first), output_gid(third)], "decision": "APPROVE"},
        token=admin,
    )["galleryReview"]
    rejected = api.data(
        REVIEW, {"ids": [image_id(second)], "decision": "REJECT"}, token=admin
    )["galleryReview"]
    # then the approved ones are in the gallery, and the queue is empty
    assert approved == {
        "submissions": [
            {"id": image_id(first), "status": "APPROVED"},
            {"id": image_id(third), "status": "APPROVED"},
        ],
        "userErrors": [],
    }
    assert rejected["submissions"] == [{"id": image_id(second), "status": "REJECTED"}]
    assert listed(api) == [image_id(third), image_id(first)]
    queue = api.data(QUEUE, token=admin)["galleryReviewQueue"]
    assert queue["edges"] == []
    # and rejecting an approved image takes it down again
    api.data(REVIEW, {"ids": [image_id(first)], "decision": "REJECT"}, token=admin)
    assert listed(api) == [image_id(third)]


def test_a_review_is_all_or_nothing_with_coded_errors(api: Api) -> None:
    # given a submission, a private output, a deleted one and a never-submitted one
    _, alice = account(api, "alice@example.com")
    admin, _ = account(api, "mod@example.com", scopes=ADMIN)
    [ok] = seed_outputs(api, alice, 1, is_public=True, gallery_status="SUBMITTED")
    [private] = seed_outputs(api, alice, 1, is_public=False, gallery_status="REJECTED")
    [deleted] = seed_outputs(
        api, alice, 1, is_public=True, gallery_status="SUBMITTED", deleted_at=T0
    )
    [never] = seed_outputs(api, alice, 1, is_public=True)
    cases = [
        (image_id(uuid.uuid4()), "NOT_FOUND"),
        (relay.to_base64("Job", str(ok)), "NOT_FOUND"),
        (image_id(private), "NOT_PUBLIC"),
        (image_id(deleted), "NOT_PUBLIC"),
        (image_id(never), "NOT_SUBMITTED"),
    ]
    for bad, code in cases:
        # when the admin approves it together with a good one
        payload = api.data(
            REVIEW, {"ids": [image_id(ok), bad], "decision": "APPROVE"}, token=admin
        )["galleryReview"]
        # then nothing changes, and the error says why
        assert payload["submissions"] is None
        assert [e["code"] for e in payload["userErrors"]] == [code], bad
        assert payload["userErrors"][0]["field"] == ["input", "ids"]
        assert listed(api) == []


def test_moderation_needs_the_admin_scope(api: Api) -> None:
    # given a token with every scope but ADMIN, and a submission
    token, alice = account(
        api, "alice@example.com", scopes=(Scope.GENERATE, Scope.READ, Scope.MANAGE)
    )
    [sub] = seed_outputs(api, alice, 1, is_public=True, gallery_status="SUBMITTED")
    # when it reads the queue or reviews
    for query, variables in (
        (QUEUE, {}),
        (REVIEW, {"ids": [image_id(sub)], "decision": "APPROVE"}),
    ):
        body = api.post(query, variables, token=token)
        # then it is FORBIDDEN, as anonymous callers are UNAUTHENTICATED
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        anonymous = api.post(query, variables)
        assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert listed(api) == []


def test_a_manage_token_cannot_grant_admin_but_an_admin_token_can(api: Api) -> None:
    create = """mutation($scopes: [Scope!]) { apiTokenCreate(input: {scopes: $scopes})
      { apiToken { scopes } userErrors { field code } } }"""
    manager = api.account("alice@example.com")
    admin = api.account("mod@example.com", scopes=ADMIN)
    # when a MANAGE token asks for ADMIN
    refused = api.data(create, {"scopes": ["ADMIN"]}, token=manager)["apiTokenCreate"]
    # then it is refused; an ADMIN token may hand it on
    assert refused == {
        "apiToken": None,
        "userErrors": [{"field": ["input", "scopes"], "code": "FORBIDDEN"}],
    }
    granted = api.data(create, {"scopes": ["ADMIN"]}, token=admin)["apiTokenCreate"]
    assert granted == {"apiToken": {"scopes": ["ADMIN"]}, "userErrors": []}
    # and ADMIN is never a default scope
    assert Scope.ADMIN not in DEFAULT_SCOPES


@pytest.mark.slow
def test_a_free_accounts_output_waits_for_a_moderator_then_shows(api: Api) -> None:
    # given a free account and an admin
    token = api.account("free@example.com", tier=Tier.FREE)
    admin = api.account("mod@example.com", scopes=ADMIN)
    # when the free account generates an image
    created = api.data(
        """mutation { generationCreate(wait: 60, input: {prompt: "a free fox",
             width: 64, height: 64, inferenceSteps: 2, numOutputs: 1}) {
           job { status outputs { id isPublic galleryStatus } } } }""",
        token=token,
    )["generationCreate"]["job"]
    assert created["status"] == "SUCCEEDED"
    [output] = created["outputs"]
    # then it is public and submitted, waiting in the queue, not in the gallery
    assert (output["isPublic"], output["galleryStatus"]) == (True, "SUBMITTED")
    assert listed(api) == []
    queue = api.data(QUEUE, token=admin)["galleryReviewQueue"]["edges"]
    [pending] = [edge["node"] for edge in queue]
    assert pending["generation"]["prompt"] == "a free fox"
    # and once approved it is in the gallery, its file served without a token
    api.data(REVIEW, {"ids": [output["id"]], "decision": "APPROVE"}, token=admin)
    [shown] = api.data(GALLERY)["gallery"]["edges"]
    path = shown["node"]["url"].removeprefix(api.settings.public_base_url)
    image = api.client.get(path)
    assert image.status_code == 200
    assert image.content.startswith(b"\x89PNG")
