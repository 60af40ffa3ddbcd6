"""Webhooks through the app: endpoint management, and a job's events arriving
signed at a real receiver, sent by the in-process runner."""

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from core.db import Database
from core.enums import Scope
from core.settings import Settings
from darkroom.services import build_app
from tests.conftest import Api, _empty_tables
from tests.receiver import Received, receiver
from tests.resolvers.test_jobs_api import create

ENDPOINT = "id url events isActive createdAt"
CREATE = f"""mutation($input: WebhookEndpointCreateInput!) {{
  webhookEndpointCreate(input: $input) {{
    webhookEndpoint {{ {ENDPOINT} }} secret userErrors {{ field code message }} }} }}"""
DELETE = f"""mutation($id: ID!) {{ webhookEndpointDelete(id: $id) {{
  webhookEndpoint {{ {ENDPOINT} }} userErrors {{ field code message }} }} }}"""
ROTATE = f"""mutation($id: ID!) {{ webhookEndpointRotateSecret(id: $id) {{
  webhookEndpoint {{ {ENDPOINT} }} secret userErrors {{ field code message }} }} }}"""
LIST = f"{{ webhookEndpoints {{ {ENDPOINT} }} }}"
DELIVERIES = """query($where: WebhookDeliveryWhere) {
  webhookDeliveries(first: 20, where: $where) { totalCount edges { node {
    id messageId endpointId jobId event status attempts maxAttempts responseCode
    lastError nextAttemptAt lastAttemptAt payload } } } }"""
HOOK = "https://hooks.example.com/darkroom"

StartApi = Callable[..., Api]


@pytest.fixture(params=["sqlite", "postgresql"])
def start_api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StartApi]:
    """Start the app (jobs in process) on an empty database, SQLite then
    PostgreSQL, with private webhook addresses allowed and quick retries."""
    url = request.getfixturevalue(f"{request.param}_database_url")

    async def empty() -> None:
        database = Database(url)
        await _empty_tables(database)
        await database.dispose()

    asyncio.run(empty())
    clients: list[TestClient] = []

    def start(**overrides: Any) -> Api:
        settings = Settings(
            data_dir=tmp_path / "data",
            database_url=url,
            **{
                "webhook_allow_private": True,
                "webhook_retry_base_seconds": 0.2,
                **overrides,
            },
        )
        client = TestClient(build_app(settings))
        client.__enter__()
        clients.append(client)
        return Api(client, settings)

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def create_endpoint(api: Api, token: str, **fields: Any) -> dict[str, Any]:
    payload: dict[str, Any] = api.data(
        CREATE, {"input": {"url": HOOK, **fields}}, token=token
    )["webhookEndpointCreate"]
    return payload


def deliveries(api: Api, token: str, **where: Any) -> list[dict[str, Any]]:
    found = api.data(DELIVERIES, {"where": where}, token=token)["webhookDeliveries"]
    assert found["totalCount"] == len(found["edges"])
    return [edge["node"] for edge in found["edges"]]


def by_type(received: list[Received], secret: str) -> dict[str, list[Any]]:
    """Each request's verified payload, grouped by event type."""
    grouped: dict[str, list[Any]] = {}
    for request in received:
        payload = request.verified(secret)
        grouped.setdefault(str(payload["type"]), []).append(payload)
    return grouped


# --- managing endpoints --------------------------------------------------------


def test_an_endpoint_shows_its_secret_once_and_can_be_rotated_and_deleted(
    api: Api,
) -> None:
    # given a managing token
    token = api.account("hana@example.com")
    # when it registers an endpoint for the ends of jobs
    created = create_endpoint(
        api, token, events=["JOB_SUCCEEDED", "JOB_FAILED", "JOB_SUCCEEDED"]
    )
    # then the payload has the endpoint and its secret, shown this once
    secret = created["secret"]
    endpoint = created["webhookEndpoint"]
    assert created["userErrors"] == []
    assert secret.startswith("whsec_")
    assert endpoint["url"] == HOOK
    assert endpoint["events"] == ["JOB_SUCCEEDED", "JOB_FAILED"]
    assert endpoint["isActive"] is True
    listed = api.data(LIST, token=token)["webhookEndpoints"]
    assert listed == [endpoint]
    assert secret not in str(listed)
    found = api.data(
        "query($id: ID!) { node(id: $id) { ... on WebhookEndpoint { url } } }",
        {"id": endpoint["id"]},
        token=token,
    )["node"]
    assert found == {"url": HOOK}
    # when its secret is rotated, then a new one is shown once
    rotated = api.data(ROTATE, {"id": endpoint["id"]}, token=token)
    new_secret = rotated["webhookEndpointRotateSecret"]["secret"]
    assert new_secret.startswith("whsec_")
    assert new_secret != secret
    # when it is deleted, then it is inactive, unlisted, and gone for good
    deleted = api.data(DELETE, {"id": endpoint["id"]}, token=token)
    assert deleted["webhookEndpointDelete"]["webhookEndpoint"]["isActive"] is False
    assert api.data(LIST, token=token)["webhookEndpoints"] == []
    again = api.data(DELETE, {"id": endpoint["id"]}, token=token)
    assert again["webhookEndpointDelete"]["userErrors"] == [
        {"field": ["id"], "code": "NOT_FOUND", "message": "no such WebhookEndpoint"}
    ]


def test_managing_endpoints_needs_the_manage_scope(api: Api) -> None:
    # given a token that may generate and read, but not manage
    token = api.account("ivan@example.com", scopes=[Scope.GENERATE, Scope.READ])
    # when it lists or registers endpoints
    for query, variables in [(LIST, None), (CREATE, {"input": {"url": HOOK}})]:
        body = api.post(query, variables, token=token)
        # then it is refused
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "MANAGE" in body["errors"][0]["message"]
    # and deliveries, which need READ, are readable
    assert deliveries(api, token) == []


def test_every_problem_with_the_input_is_a_user_error_naming_its_field(
    api: Api,
) -> None:
    token = api.account("jun@example.com")
    # when the URL names a private address and no event is chosen
    payload = create_endpoint(api, token, url="https://10.0.0.7/hook", events=[])
    # then both are refused at once, by their GraphQL paths
    assert payload["webhookEndpoint"] is None
    assert payload["secret"] is None
    assert payload["userErrors"] == [
        {
            "field": ["input", "url"],
            "code": "URL_NOT_ALLOWED",
            "message": "url must reach a public address: 10.0.0.7 is a private address",
        },
        {
            "field": ["input", "events"],
            "code": "REQUIRED",
            "message": "events must name at least one event",
        },
    ]
    # and plain http is refused while private addresses are
    plain = create_endpoint(api, token, url="http://hooks.example.com/x")
    assert plain["userErrors"][0]["code"] == "URL_NOT_ALLOWED"


def test_the_eleventh_endpoint_is_refused_and_others_endpoints_are_not_found(
    api: Api,
) -> None:
    # given an account with ten endpoints, and another account
    owner = api.account("kim@example.com")
    ids = [create_endpoint(api, owner)["webhookEndpoint"]["id"] for _ in range(10)]
    other = api.account("lee@example.com")
    # when an eleventh is registered
    payload = create_endpoint(api, owner)
    # then it is refused with its own code
    assert payload["userErrors"][0]["code"] == "TOO_MANY_WEBHOOK_ENDPOINTS"
    # and the other account can neither rotate nor delete the owner's endpoints
    for mutation, name in [
        (ROTATE, "webhookEndpointRotateSecret"),
        (DELETE, "webhookEndpointDelete"),
    ]:
        refused = api.data(mutation, {"id": ids[0]}, token=other)[name]
        assert refused["userErrors"][0]["code"] == "NOT_FOUND"
    # and deleting one makes room again
    api.data(DELETE, {"id": ids[0]}, token=owner)
    assert create_endpoint(api, owner)["userErrors"] == []


# --- a job's events at a real receiver -------------------------------------------


def test_a_jobs_start_outputs_and_end_arrive_signed_and_are_recorded(
    start_api: StartApi,
) -> None:
    # given an account with an endpoint for every event, at a live receiver
    api = start_api()
    token = api.account("mia@example.com", credits=10)
    with receiver() as hook:
        created = create_endpoint(api, token, url=hook.url)
        secret = created["secret"]
        # when it runs a two-image job to its end
        job = create(api, token, wait=60, numOutputs=2, seed=7)["job"]
        assert job["status"] == "SUCCEEDED"
        # then the start, each output and the end arrive, each signed with the secret
        events = by_type(hook.wait_for(4), secret)
    assert sorted(events) == ["job.output", "job.started", "job.succeeded"]
    assert len(events["job.output"]) == 2
    [end] = events["job.succeeded"]
    assert end["data"]["jobId"] == job["id"]
    assert end["data"]["status"] == "SUCCEEDED"
    assert (end["data"]["charged"], end["data"]["refunded"]) == (2, 0)
    assert [o["id"] for o in end["data"]["outputs"]] == [
        o["id"] for o in job["outputs"]
    ]
    assert [o["seed"] for o in end["data"]["outputs"]] == [7, 8]
    assert end["data"]["outputs"][0]["imageUrl"].startswith(
        api.settings.public_base_url
    )
    outputs = sorted(events["job.output"], key=lambda p: p["data"]["output"]["index"])
    assert [p["data"]["output"]["index"] for p in outputs] == [0, 1]
    # and each delivery is recorded as delivered on its first attempt
    rows = deliveries(api, token, jobId=job["id"])
    assert sorted(r["event"] for r in rows) == [
        "JOB_OUTPUT",
        "JOB_OUTPUT",
        "JOB_STARTED",
        "JOB_SUCCEEDED",
    ]
    for row in rows:
        assert (row["status"], row["attempts"], row["responseCode"]) == (
            "DELIVERED",
            1,
            200,
        )
        assert row["endpointId"] == created["webhookEndpoint"]["id"]
    ends = [r for r in rows if r["event"] == "JOB_SUCCEEDED"]
    assert ends[0]["maxAttempts"] == 6
    assert ends[0]["messageId"] in {r.headers["webhook-id"] for r in hook.requests}


def test_an_end_that_failed_is_retried_until_delivered(start_api: StartApi) -> None:
    # given an endpoint for job ends whose receiver fails once, then recovers
    api = start_api()
    token = api.account("noa@example.com", credits=10)
    with receiver(500) as hook:
        created = create_endpoint(api, token, url=hook.url, events=["JOB_SUCCEEDED"])
        # when a job ends
        job = create(api, token, wait=60, numOutputs=1)["job"]
        first, second = hook.wait_for(2)
        # then the end came twice, as the same message, and the record says so
        assert first.headers["webhook-id"] == second.headers["webhook-id"]
        assert second.verified(created["secret"])["type"] == "job.succeeded"
        [row] = settled(api, token, job["id"])
    assert (row["status"], row["attempts"], row["responseCode"]) == (
        "DELIVERED",
        2,
        200,
    )
    assert row["lastError"] is None
    assert row["nextAttemptAt"] is None


def settled(api: Api, token: str, job_id: str) -> list[dict[str, Any]]:
    """The job's deliveries once none is pending (the last write follows the reply)."""
    for _ in range(100):
        rows = deliveries(api, token, jobId=job_id)
        if all(r["status"] != "PENDING" for r in rows):
            return rows
        time.sleep(0.05)
    raise AssertionError(f"still pending: {rows}")


def test_a_receiver_that_never_answers_does_not_hold_up_the_job(
    start_api: StartApi,
) -> None:
    # given an endpoint whose receiver holds every request open for half a minute
    api = start_api(webhook_timeout_seconds=30)
    token = api.account("omar@example.com", credits=10)
    with receiver(hang=True) as hook:
        create_endpoint(api, token, url=hook.url)
        # when a job runs
        job = create(api, token, wait=60, numOutputs=1)["job"]
        # then it succeeded while its start was still being sent
        assert job["status"] == "SUCCEEDED"
        hook.wait_for(1)
        rows = deliveries(api, token, jobId=job["id"])
        assert {r["status"] for r in rows} == {"PENDING"}
        assert any(r["attempts"] == 1 for r in rows)
