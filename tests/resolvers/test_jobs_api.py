"""Jobs end to end through the app: mutations, files, live updates over websockets."""

import io
from typing import Any

from PIL import Image

from core.enums import Scope, Tier
from tests.conftest import Api

CREATE = """mutation($input: GenerationCreateInput!, $wait: Int) {
  generationCreate(input: $input, wait: $wait) {
    job { id status cost refunded numOutputs seed width height totalSteps
          outputs { id index imageUrl width height seed } error { code message } }
    userErrors { field code message }
  }
}"""
CANCEL = """mutation($id: ID!) {
  jobCancel(id: $id) { job { id status refunded } userErrors { field code message } }
}"""
JOB = "query($id: ID!) { job(id: $id) { id status queuePosition outputs { index } } }"
BALANCE = "{ me { credits { total } } }"
UPDATES = """subscription($id: ID!) {
  jobUpdates(jobId: $id) { type status step totalSteps percent queuePosition
                           output { index seed width } refunded error { code } }
}"""
SMALL = {
    "prompt": "a lighthouse at dusk",
    "width": 64,
    "height": 64,
    "inferenceSteps": 3,
}


def balance(api: Api, token: str) -> int:
    total: int = api.data(BALANCE, token=token)["me"]["credits"]["total"]
    return total


def create(
    api: Api, token: str, wait: int | None = None, **fields: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = api.data(
        CREATE, {"input": {**SMALL, **fields}, "wait": wait}, token=token
    )["generationCreate"]
    return payload


def download(api: Api, url: str) -> Image.Image:
    path = url.removeprefix(api.settings.public_base_url)
    response = api.client.get(path)
    assert response.status_code == 200, response.text
    return Image.open(io.BytesIO(response.content))


def test_a_generation_finishes_with_stored_images_and_exact_charge(api: Api) -> None:
    # given an account with 10 credits
    token = api.account("ana@example.com", credits=10)
    # when it asks for two images and waits for them
    payload = create(api, token, wait=60, numOutputs=2, seed=1234)
    # then the job succeeded, cost 2, and each image is stored at its size and seed
    job = payload["job"]
    assert payload["userErrors"] == []
    assert job["status"] == "SUCCEEDED"
    assert job["cost"] == 2
    assert job["refunded"] == 0
    assert [(o["index"], o["seed"]) for o in job["outputs"]] == [(0, 1234), (1, 1235)]
    for output in job["outputs"]:
        image = download(api, output["imageUrl"])
        assert image.size == (64, 64)
        assert image.text["seed"] == str(output["seed"])  # type: ignore[attr-defined]
    assert balance(api, token) == 8


def test_bad_input_is_refused_field_by_field_and_nothing_is_charged(api: Api) -> None:
    token = api.account("ben@example.com", credits=10)
    payload = create(
        api, token, width=1001, schedulerId="NOPE", numOutputs=0, prompt="   "
    )
    assert payload["job"] is None
    codes = {tuple(e["field"]): e["code"] for e in payload["userErrors"]}
    assert codes[("input", "width")] == "INVALID_SIZE"
    assert codes[("input", "schedulerId")] == "UNKNOWN_SCHEDULER"
    assert codes[("input", "numOutputs")] == "OUT_OF_RANGE"
    assert codes[("input", "prompt")] == "REQUIRED"
    assert balance(api, token) == 10


def test_too_few_credits_is_refused_before_anything_runs(api: Api) -> None:
    token = api.account("cat@example.com", tier=Tier.STARTER, credits=1)
    payload = create(api, token, numOutputs=2)
    assert payload["userErrors"][0]["code"] == "INSUFFICIENT_CREDITS"
    assert balance(api, token) == 1


def test_live_updates_arrive_in_order_to_the_end(api: Api) -> None:
    # given a submitted job
    token = api.account("dan@example.com", credits=10)
    job_id = create(api, token, numOutputs=2, inferenceSteps=4)["job"]["id"]
    # when its owner follows it over graphql-transport-ws
    events = follow(api, token, job_id)
    # then progress comes once per step in order, each image once, then the end
    types = [e["type"] for e in events]
    assert types[-1] == "SUCCEEDED"
    assert types.count("SUCCEEDED") == 1
    steps = [e["step"] for e in events if e["type"] == "PROGRESS"]
    assert steps == sorted(set(steps))
    assert steps[-1] == 4
    assert sorted(e["output"]["index"] for e in events if e["type"] == "OUTPUT") == [
        0,
        1,
    ]


def test_a_websocket_without_a_valid_token_is_refused(api: Api) -> None:
    with api.client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"]
    ) as ws:
        ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": "Bearer drk_x"}}
        )
        message = ws.receive()
    assert message["type"] == "websocket.close"
    assert message["code"] == 4403


def test_another_accounts_job_is_not_found_everywhere(api: Api) -> None:
    # given alice's job
    alice = api.account("eve@example.com", credits=10)
    bob = api.account("fay@example.com", credits=10)
    job_id = create(api, alice, wait=60)["job"]["id"]
    # when bob reads, cancels or follows it
    read = api.post(JOB, {"id": job_id}, token=bob)
    cancel = api.data(CANCEL, {"id": job_id}, token=bob)["jobCancel"]
    followed = follow(api, bob, job_id, expect_error=True)
    # then each is NOT_FOUND, with nothing revealed
    assert read["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert cancel["userErrors"][0]["code"] == "NOT_FOUND"
    assert followed[0]["extensions"]["code"] == "NOT_FOUND"


def test_a_free_accounts_second_job_waits_and_cancelling_it_refunds_fully(
    api: Api,
) -> None:
    # given a free account (one job at a time) with a job running or queued
    token = api.account("gus@example.com", tier=Tier.FREE)
    first = create(api, token, numOutputs=1, inferenceSteps=20, width=256, height=256)
    second = create(api, token, numOutputs=2)
    assert first["userErrors"] == []
    assert second["job"]["status"] == "QUEUED"
    assert balance(api, token) == 50 - 3
    # when the waiting one is cancelled
    cancelled = api.data(CANCEL, {"id": second["job"]["id"]}, token=token)["jobCancel"]
    # then it is cancelled with a full refund
    assert cancelled["userErrors"] == []
    assert cancelled["job"]["status"] == "CANCELLED"
    assert cancelled["job"]["refunded"] == 2
    assert balance(api, token) == 50 - 1


def test_the_same_idempotency_key_returns_the_same_job_charged_once(api: Api) -> None:
    token = api.account("hal@example.com", credits=10)
    one = create(api, token, idempotencyKey="k-1", seed=7)["job"]
    two = create(api, token, idempotencyKey="k-1", seed=7)["job"]
    other = create(api, token, idempotencyKey="k-1", seed=8)
    assert one["id"] == two["id"]
    assert other["userErrors"][0]["code"] == "IDEMPOTENCY_CONFLICT"
    assert balance(api, token) == 8


def test_an_upload_feeds_image_to_image_and_upscale(api: Api) -> None:
    token = api.account(
        "ivy@example.com", credits=10, scopes=[Scope.GENERATE, Scope.READ]
    )
    upload_id = upload(api, token, Image.new("RGB", (64, 64), (200, 30, 30)))
    img2img = create(
        api, token, wait=60, numOutputs=1, initImageId=upload_id, promptStrength=0.5
    )
    assert img2img["userErrors"] == []
    assert img2img["job"]["status"] == "SUCCEEDED"
    assert img2img["job"]["totalSteps"] == 1  # int(3 * 0.5)
    output_id = img2img["job"]["outputs"][0]["id"]
    upscale = """mutation($input: UpscaleCreateInput!) {
      upscaleCreate(input: $input, wait: 60) {
        job { id status cost outputs { width height } } reused userErrors { code }
      }
    }"""
    first = api.data(upscale, {"input": {"outputId": output_id}}, token=token)[
        "upscaleCreate"
    ]
    assert first["userErrors"] == []
    assert first["job"]["status"] == "SUCCEEDED"
    assert first["job"]["outputs"][0]["width"] == 256
    again = api.data(upscale, {"input": {"outputId": output_id}}, token=token)[
        "upscaleCreate"
    ]
    assert again["reused"] is True
    assert again["job"]["id"] == first["job"]["id"]
    assert balance(api, token) == 10 - 1 - 1
    # and history tells the upscale from its original, and links the two
    history = """query($up: Boolean!) { outputs(where: {isUpscaled: {_eq: $up}}) {
      edges { node { width isUpscaled upscale { width } } } } }"""
    [original] = api.data(history, {"up": False}, token=token)["outputs"]["edges"]
    [upscaled] = api.data(history, {"up": True}, token=token)["outputs"]["edges"]
    assert original["node"] == {
        "width": 64,
        "isUpscaled": False,
        "upscale": {"width": 256},
    }
    assert upscaled["node"] == {"width": 256, "isUpscaled": True, "upscale": None}


def test_an_upload_that_is_not_an_image_is_refused(api: Api) -> None:
    token = api.account("jon@example.com", credits=10)
    body = upload_raw(api, token, b"GIF89a not really", "x.gif")
    assert body["data"]["imageUpload"]["userErrors"][0]["code"] == "INVALID_IMAGE"


def upload(api: Api, token: str, image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    body = upload_raw(api, token, buffer.getvalue(), "in.png")
    payload = body["data"]["imageUpload"]
    assert payload["userErrors"] == [], payload
    upload_id: str = payload["upload"]["id"]
    return upload_id


def upload_raw(api: Api, token: str, data: bytes, name: str) -> dict[str, Any]:
    import json

    query = """mutation($file: Upload!) {
      imageUpload(file: $file) { upload { id format width height } userErrors { code message } }
    }"""
    response = api.client.post(
        "/graphql",
        data={
            "operations": json.dumps({"query": query, "variables": {"file": None}}),
            "map": json.dumps({"0": ["variables.file"]}),
        },
        files={"0": (name, data, "application/octet-stream")},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def follow(
    api: Api,
    token: str,
    job_id: str,
    *,
    expect_error: bool = False,
    query: str = UPDATES,
) -> list[Any]:
    """Subscribe to a job and collect its updates until it completes."""
    with api.client.websocket_connect(
        "/graphql", subprotocols=["graphql-transport-ws"]
    ) as ws:
        ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        )
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": query, "variables": {"id": job_id}},
            }
        )
        events: list[Any] = []
        while True:
            message = ws.receive_json()
            if message["type"] == "next":
                if message["payload"].get("errors"):
                    return list(message["payload"]["errors"])
                events.append(message["payload"]["data"]["jobUpdates"])
            elif message["type"] == "error":
                return list(message["payload"])
            elif message["type"] == "complete":
                assert not expect_error, events
                return events


def test_the_legacy_graphql_ws_protocol_streams_updates_too(api: Api) -> None:
    # given a finished job
    token = api.account("kim@example.com", credits=10)
    job_id = create(api, token, wait=60, numOutputs=1)["job"]["id"]
    # when its owner follows it over the older graphql-ws protocol
    with api.client.websocket_connect("/graphql", subprotocols=["graphql-ws"]) as ws:
        ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
        )
        assert ws.receive_json()["type"] == "connection_ack"
        ws.send_json(
            {
                "id": "1",
                "type": "start",
                "payload": {"query": UPDATES, "variables": {"id": job_id}},
            }
        )
        messages = []
        while not messages or messages[-1]["type"] != "complete":
            message = ws.receive_json()
            if message["type"] != "ka":
                messages.append(message)
    # then it gets the final state, then the end of the stream
    data = [m["payload"]["data"]["jobUpdates"] for m in messages if m["type"] == "data"]
    assert data[-1]["type"] == "SUCCEEDED"


def test_a_wait_over_a_minute_is_refused_before_anything_is_charged(api: Api) -> None:
    token = api.account("lee@example.com", credits=10)
    payload = create(api, token, wait=61)
    assert payload["job"] is None
    assert payload["userErrors"] == [
        {
            "field": ["wait"],
            "code": "OUT_OF_RANGE",
            "message": "wait must be 0..60 seconds; got 61",
        }
    ]
    assert balance(api, token) == 10


def test_a_free_top_up_that_is_due_pays_for_a_submission(api: Api) -> None:
    # given a free account that spent everything 13 hours ago
    from datetime import timedelta

    import sqlalchemy as sa

    from core.credits import debit_credits
    from core.models import User, utcnow

    token = api.account("max@example.com", tier=Tier.FREE)

    async def spend_all_long_ago(session):
        user = await session.scalar(
            sa.select(User).where(User.email == "max@example.com")
        )
        await debit_credits(session, user_id=user.id, amount=50)
        user.free_topup_at = utcnow() - timedelta(hours=13)

    api.run(spend_all_long_ago)
    # when it submits a one-image job
    payload = create(api, token, numOutputs=1)
    # then the due top-up of 10 pays for it
    assert payload["userErrors"] == []
    assert balance(api, token) == 9


def test_jobs_page_newest_first_with_relay_cursors(api: Api) -> None:
    # given three jobs
    token = api.account("ned@example.com", credits=10)
    ids = [create(api, token, numOutputs=1, seed=i)["job"]["id"] for i in range(3)]
    page = """query($after: String) {
      jobs(first: 2, after: $after) {
        edges { cursor node { id } } pageInfo { hasNextPage endCursor }
      }
    }"""
    # when they are paged two at a time
    first = api.data(page, token=token)["jobs"]
    second = api.data(page, {"after": first["pageInfo"]["endCursor"]}, token=token)[
        "jobs"
    ]
    # then every job comes once, newest first
    seen = [e["node"]["id"] for e in first["edges"] + second["edges"]]
    assert seen == list(reversed(ids))
    assert first["pageInfo"]["hasNextPage"] is True
    assert second["pageInfo"]["hasNextPage"] is False
