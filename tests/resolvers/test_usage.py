"""Usage over GraphQL: the caller's jobs with credits, paged and filtered, and totals."""

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from strawberry import relay

from core.enums import JobKind, JobSource, JobStatus, Scope
from schema.ids import global_id
from tests.conftest import Api
from tests.resolvers.history_rows import T0, job_row, token_of, user_id_of

USAGE = """query($first: Int, $after: String, $where: UsageWhere) {
  usage(first: $first, after: $after, where: $where) {
    edges { node { kind jobId status source tokenId tokenPreview charged refunded net
                   createdAt finishedAt } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}"""
SUMMARY = """query($since: DateTime) { me { usageSummary(since: $since) {
  source kind jobs charged refunded net } } }"""


def seed_jobs(api: Api, email: str) -> list[str]:
    """Four jobs, a minute apart: API generate (token), failed generate, upscale, CLI."""
    user = user_id_of(api, email)
    token = token_of(api, email)
    jobs = [
        job_row(user, token_id=token.id, cost=4, created_at=T0),
        job_row(
            user,
            token_id=token.id,
            cost=2,
            refunded=2,
            status=JobStatus.FAILED,
            created_at=T0 + timedelta(minutes=1),
        ),
        job_row(
            user, kind=JobKind.UPSCALE, cost=1, created_at=T0 + timedelta(minutes=2)
        ),
        job_row(
            user,
            source=JobSource.CLI,
            cost=3,
            refunded=1,
            status=JobStatus.CANCELLED,
            created_at=T0 + timedelta(minutes=3),
        ),
    ]

    async def work(session: AsyncSession) -> list[str]:
        session.add_all(jobs)
        await session.flush()
        return [str(j.id) for j in jobs]

    return api.run(work)


def test_usage_lists_every_job_newest_first_with_credits_in_pages(api: Api) -> None:
    # given four jobs of alice, one failed and refunded, and bob's job
    token = api.account("alice@example.com")
    ids = seed_jobs(api, "alice@example.com")
    api.account("bob@example.com")
    seed_jobs(api, "bob@example.com")
    preview = token_of(api, "alice@example.com").preview
    # when she reads three, then the rest
    first = api.data(USAGE, {"first": 3}, token=token)["usage"]
    after = first["pageInfo"]["endCursor"]
    rest = api.data(USAGE, {"first": 3, "after": after}, token=token)["usage"]
    # then she sees her four jobs once each, newest first, with their credits
    nodes = [e["node"] for e in first["edges"] + rest["edges"]]
    assert [n["jobId"] for n in nodes] == [str(global_id("Job", i)) for i in ids[::-1]]
    assert first["pageInfo"]["hasNextPage"] is True
    assert rest["pageInfo"]["hasNextPage"] is False
    assert first["totalCount"] == rest["totalCount"] == 4
    failed = nodes[2]
    assert failed["status"] == "FAILED"
    assert (failed["charged"], failed["refunded"], failed["net"]) == (2, 2, 0)
    assert failed["tokenPreview"] == preview
    assert relay.GlobalID.from_id(failed["tokenId"]).type_name == "ApiToken"
    assert nodes[1]["kind"] == "UPSCALE"
    assert nodes[1]["tokenId"] is None
    assert nodes[1]["tokenPreview"] is None
    assert nodes[3]["finishedAt"] is not None


def test_usage_filters_by_kind_source_token_and_time(api: Api) -> None:
    # given alice's four jobs
    token = api.account("alice@example.com")
    ids = seed_jobs(api, "alice@example.com")
    token_gid = relay.to_base64("ApiToken", str(token_of(api, "alice@example.com").id))
    cases = [
        ({"kind": ["UPSCALE"]}, [ids[2]]),
        ({"source": ["CLI"]}, [ids[3]]),
        ({"tokenId": token_gid}, [ids[1], ids[0]]),
        ({"createdAt": {"_gte": (T0 + timedelta(minutes=2)).isoformat()}}, ids[:1:-1]),
        ({"kind": []}, []),
    ]
    for where, expected in cases:
        # when she filters
        data = api.data(USAGE, {"where": where}, token=token)["usage"]
        # then only the matching jobs come back, and the count agrees
        assert [e["node"]["jobId"] for e in data["edges"]] == [
            str(global_id("Job", i)) for i in expected
        ], where
        assert data["totalCount"] == len(expected), where


def test_a_bad_usage_cursor_or_token_id_is_bad_input(api: Api) -> None:
    # given alice's jobs
    token = api.account("alice@example.com")
    seed_jobs(api, "alice@example.com")
    for variables in [
        {"after": "garbage"},
        {"where": {"tokenId": relay.to_base64("Output", "x")}},
        {"where": {"createdAt": {"_gte": "2026-01-01T00:00:00"}}},
    ]:
        # when the request is malformed
        body = api.post(USAGE, variables, token=token)
        # then it is a coded top-level error
        assert body.get("data") is None, variables
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", variables


def test_the_usage_summary_totals_credits_per_source_and_kind(api: Api) -> None:
    # given alice's four jobs
    token = api.account("alice@example.com")
    seed_jobs(api, "alice@example.com")
    # when she asks for her totals ever, and since the third job
    ever = api.data(SUMMARY, token=token)["me"]["usageSummary"]
    since = (T0 + timedelta(minutes=2)).isoformat()
    recent = api.data(SUMMARY, {"since": since}, token=token)["me"]["usageSummary"]
    # then each source and kind is summed, refunds netted out
    assert ever == [
        {
            "source": "API",
            "kind": "GENERATE",
            "jobs": 2,
            "charged": 6,
            "refunded": 2,
            "net": 4,
        },
        {
            "source": "API",
            "kind": "UPSCALE",
            "jobs": 1,
            "charged": 1,
            "refunded": 0,
            "net": 1,
        },
        {
            "source": "CLI",
            "kind": "GENERATE",
            "jobs": 1,
            "charged": 3,
            "refunded": 1,
            "net": 2,
        },
    ]
    assert [(r["source"], r["kind"]) for r in recent] == [
        ("API", "UPSCALE"),
        ("CLI", "GENERATE"),
    ]


def test_usage_needs_the_read_scope(api: Api) -> None:
    # given a token that may only generate
    token = api.account("alice@example.com", scopes=[Scope.GENERATE])
    # when it reads usage
    body = api.post(USAGE, token=token)
    # then it is forbidden
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


def test_a_header_records_cli_jobs_but_never_earns_web(api: Api) -> None:
    # given a token, sending the source header the CLI sends, and a forged one
    token = api.account("hdr@example.com", credits=10)
    create = """mutation($input: GenerationCreateInput!) {
      generationCreate(input: $input) { job { id } userErrors { code } } }"""
    tiny = {"prompt": "a fox", "width": 64, "height": 64, "inferenceSteps": 2}
    sources = {}
    for claimed in ("CLI", "WEB", "web", "nonsense", None):
        headers = {"Authorization": f"Bearer {token}"}
        if claimed is not None:
            headers["X-Darkroom-Source"] = claimed
        answer = api.client.post(
            "/graphql",
            json={"query": create, "variables": {"input": tiny}},
            headers=headers,
        ).json()
        sources[claimed] = answer["data"]["generationCreate"]["job"]["id"]
    # then usage records CLI for the CLI's header and API for every other,
    # WEB included: only a signed-in browser session may record WEB
    edges = api.data(USAGE, {"first": 10}, token=token)["usage"]["edges"]
    recorded = {edge["node"]["jobId"]: edge["node"]["source"] for edge in edges}
    assert {claimed: recorded[job] for claimed, job in sources.items()} == {
        "CLI": "CLI",
        "WEB": "API",
        "web": "API",
        "nonsense": "API",
        None: "API",
    }


DAILY = """query($days: Int) { me { usageDaily(days: $days) {
  day source jobs charged refunded net } } }"""


def test_daily_usage_totals_todays_jobs_and_refuses_a_bad_window(api: Api) -> None:
    # given alice's jobs submitted now: an API job, a refunded failure, a CLI job
    from datetime import UTC, datetime

    api.account("alice@example.com")
    token = api.account("alice2@example.com")
    user = user_id_of(api, "alice2@example.com")
    now = datetime.now(UTC)
    rows = [
        job_row(user, cost=4, created_at=now),
        job_row(user, cost=2, refunded=2, status=JobStatus.FAILED, created_at=now),
        job_row(user, source=JobSource.CLI, cost=3, refunded=1, created_at=now),
    ]

    async def work(session: AsyncSession) -> None:
        session.add_all(rows)

    api.run(work)
    # when she reads today's totals, and asks for 0 days
    daily = api.data(DAILY, {"days": 1}, token=token)["me"]["usageDaily"]
    refused = api.post(DAILY, {"days": 0}, token=token)
    # then each source is summed net of refunds, and 0 is a coded input error
    today = now.date().isoformat()
    assert daily == [
        {
            "day": today,
            "source": "API",
            "jobs": 2,
            "charged": 6,
            "refunded": 2,
            "net": 4,
        },
        {
            "day": today,
            "source": "CLI",
            "jobs": 1,
            "charged": 3,
            "refunded": 1,
            "net": 2,
        },
    ]
    assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "got 0" in refused["errors"][0]["message"]
