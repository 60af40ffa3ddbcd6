"""A job's own webhook through the app: given at submission, sent by the
in-process runner to a real receiver, listed with the endpoints' deliveries;
its signing secret and rotation need MANAGE; a private URL is a user error."""

from datetime import UTC, datetime, timedelta
from typing import Any

from core.enums import Scope
from tests.conftest import Api
from tests.receiver import receiver
from tests.resolvers import test_webhooks_api
from tests.resolvers.test_jobs_api import SMALL
from tests.resolvers.test_webhooks_api import StartApi, create_endpoint, deliveries

# The app with private receivers allowed and quick retries, SQLite then PostgreSQL.
start_api = test_webhooks_api.start_api

CREATE = """mutation($input: GenerationCreateInput!, $wait: Int) {
  generationCreate(input: $input, wait: $wait) {
    job { id status outputs { id } webhook { url events } }
    userErrors { field code message } } }"""
UPSCALE = """mutation($input: UpscaleCreateInput!) {
  upscaleCreate(input: $input) { job { id } userErrors { field code message } } }"""
SECRET = "{ webhookSigningSecret }"
ROTATE = """mutation { webhookSigningSecretRotate {
  secret previousSecretExpiresAt userErrors { field code message } } }"""


def generate(api: Api, token: str, wait: int | None = None, **fields: Any) -> Any:
    return api.data(CREATE, {"input": {**SMALL, **fields}, "wait": wait}, token=token)[
        "generationCreate"
    ]


def test_a_jobs_own_webhook_gets_its_events_signed_and_they_are_listed(
    start_api: StartApi,
) -> None:
    # given an account with an endpoint for job ends, and its per-job secret
    api = start_api()
    token = api.account("kai@example.com", credits=10)
    with receiver() as hook, receiver() as ends:
        endpoint = create_endpoint(api, token, url=ends.url, events=["JOB_SUCCEEDED"])
        secret = api.data(SECRET, token=token)["webhookSigningSecret"]
        assert secret.startswith("whsec_")
        # when it runs a job with its own webhook, default events
        job = generate(api, token, wait=60, webhook={"url": hook.url})["job"]
        assert job["status"] == "SUCCEEDED"
        assert job["webhook"] == {
            "url": hook.url,
            "events": ["STARTED", "OUTPUT", "COMPLETED"],
        }
        # then the job's webhook got the start, the output and the end, signed
        payloads = [r.verified(secret) for r in hook.wait_for(3)]
        ends.wait_for(1)
    assert sorted(p["type"] for p in payloads) == [
        "job.output",
        "job.started",
        "job.succeeded",
    ]
    [end] = [p for p in payloads if p["type"] == "job.succeeded"]
    assert end["data"]["jobId"] == job["id"]
    assert [o["id"] for o in end["data"]["outputs"]] == [
        o["id"] for o in job["outputs"]
    ]
    # and the deliveries query lists them beside the endpoint's, endpointId null
    rows = deliveries(api, token, jobId=job["id"])
    own = sorted(r["event"] for r in rows if r["endpointId"] is None)
    assert own == ["JOB_OUTPUT", "JOB_STARTED", "JOB_SUCCEEDED"]
    theirs = [r for r in rows if r["endpointId"] is not None]
    assert [r["endpointId"] for r in theirs] == [endpoint["webhookEndpoint"]["id"]]
    assert {r["status"] for r in rows} == {"DELIVERED"}
    assert all(r["jobId"] == job["id"] for r in rows)


def test_a_private_webhook_url_is_a_user_error_at_submission(api: Api) -> None:
    # given an account on a server that keeps webhooks off private addresses
    token = api.account("lea@example.com")
    for url in ("https://127.0.0.1/hook", "https://192.168.1.10/hook"):
        # when it submits a generation whose webhook is on loopback or a private range
        payload = generate(api, token, webhook={"url": url})
        # then the job is refused with the webhook's URL named
        assert payload["job"] is None
        [error] = payload["userErrors"]
        assert error["field"] == ["input", "webhook", "url"]
        assert error["code"] == "URL_NOT_ALLOWED"
        assert "public address" in error["message"]
    # and so is an upscale's, beside its other problems, and an empty event list
    payload = api.data(
        UPSCALE,
        {"input": {"webhook": {"url": "http://example.com/hook", "events": []}}},
        token=token,
    )["upscaleCreate"]
    fields = [e["field"] for e in payload["userErrors"]]
    assert ["input", "webhook", "url"] in fields
    assert ["input", "webhook", "events"] in fields
    assert payload["job"] is None


def test_the_signing_secret_and_its_rotation_need_manage(api: Api) -> None:
    # given a token that may generate and read, but not manage
    token = api.account("max@example.com", scopes=[Scope.GENERATE, Scope.READ])
    for operation in (SECRET, ROTATE):
        # when it asks for the per-job secret or rotates it
        body = api.post(operation, token=token)
        # then it is refused
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "MANAGE" in body["errors"][0]["message"]


def test_rotating_the_signing_secret_keeps_the_old_one_for_24_hours(api: Api) -> None:
    # given a managing token and its per-job secret, asked for twice
    token = api.account("noa@example.com")
    old = api.data(SECRET, token=token)["webhookSigningSecret"]
    assert api.data(SECRET, token=token)["webhookSigningSecret"] == old
    # when it rotates the secret
    rotated = api.data(ROTATE, token=token)["webhookSigningSecretRotate"]
    # then a new one is returned and in use, the old one signing for 24 hours more
    assert rotated["userErrors"] == []
    assert rotated["secret"] not in (None, old)
    assert api.data(SECRET, token=token)["webhookSigningSecret"] == rotated["secret"]
    until = datetime.fromisoformat(rotated["previousSecretExpiresAt"])
    left = until - datetime.now(UTC)
    assert timedelta(hours=23, minutes=59) < left <= timedelta(hours=24)
