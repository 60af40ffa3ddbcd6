"""Query cost and rate limits: pricing documents, refusing, charging once, reporting."""

from typing import Any

from graphql import parse

from api.cost import operation_cost
from api.schema import schema
from tests.conftest import Api

SCHEMA = schema._schema


def cost_of(query: str, variables: dict[str, Any] | None = None) -> int:
    return operation_cost(SCHEMA, parse(query), variables).cost


# --- pricing documents -------------------------------------------------------------


def test_each_object_costs_one_and_scalars_are_free() -> None:
    # given a flat query; when priced; then one point per object, none per scalar
    assert cost_of("{ me { email tier } apiTokens { id } __typename }") == 2


def test_a_connection_multiplies_its_selection_by_first() -> None:
    # given a page of 10 jobs with 2 fields below edges
    query = "{ jobs(first: 10) { edges { node { id } } pageInfo { hasNextPage } } }"
    # then jobs costs 1 + 10 x (edges 1 + node 1 + pageInfo 1)
    assert cost_of(query) == 31


def test_a_connection_without_first_is_priced_at_its_default_page_of_50() -> None:
    assert cost_of("{ jobs { edges { node { id } } } }") == 1 + 50 * 2


def test_variables_are_resolved_before_pricing() -> None:
    # given first passed as a variable
    query = "query($n: Int) { jobs(first: $n) { edges { node { id } } } }"
    # then the variable's value is the multiplier, and its absence the default
    assert cost_of(query, {"n": 4}) == 1 + 4 * 2
    assert cost_of(query, {}) == 1 + 50 * 2


def test_fragments_and_inline_fragments_are_expanded() -> None:
    # given the same selection through a named and an inline fragment
    query = """
      query { jobs(first: 2) { ...Page } }
      fragment Page on JobConnection { edges { node { ... on Job { id kind } } } }
    """
    # then it is priced as if written out: 1 + 2 x (edges 1 + node 1)
    assert cost_of(query) == 1 + 2 * 2


def test_skipped_fields_cost_nothing() -> None:
    query = "query($x: Boolean!) { me { email } apiTokens @skip(if: $x) { id } }"
    assert cost_of(query, {"x": True}) == 1
    assert cost_of(query, {"x": False}) == 2


def test_job_creating_mutations_are_counted_by_name() -> None:
    # given a mutation calling generationCreate twice through aliases
    query = """mutation {
      a: generationCreate(input: {prompt: "x"}) { job { id } }
      b: generationCreate(input: {prompt: "y"}) { job { id } }
      apiTokenRevoke(id: "1") { apiToken { id } }
    }"""
    # then two job creations are counted
    assert operation_cost(SCHEMA, parse(query)).creations == 2


# --- over HTTP ---------------------------------------------------------------------

TOKENS = "{ apiTokens { id } }"  # 1 point
TWO_POINTS = "{ apiTokens { id } me { email } }"
RATE = "{ rateLimit { limit cost used remaining resetAt } }"  # 1 point
RATE_AND_CREDITS = "{ rateLimit { limit cost used remaining resetAt } me { credits { rows { type } } } }"
WIDE = (
    "{ "
    + " ".join(
        f"j{i}: jobs(first: 100) {{ edges {{ node {{ id kind }} }} }}" for i in range(5)
    )
    + " }"
)


def test_a_wide_connection_query_over_the_maximum_is_refused_before_running(
    api: Api,
) -> None:
    # given a token
    token = api.account("wide@example.com")
    # when it asks for five pages of 100 jobs, 5 x (1 + 100 x 2) = 1005 points
    body = api.post(WIDE, token=token)
    # then nothing ran and the one error names the cost and the maximum
    assert "data" not in body  # refused before execution began
    [error] = body["errors"]
    assert error["extensions"].pop("requestId")
    assert error["extensions"] == {
        "code": "QUERY_TOO_COMPLEX",
        "cost": 1005,
        "maxCost": 1000,
    }
    assert "1005" in error["message"]
    assert "1000" in error["message"]
    # and it was not charged
    assert body["extensions"]["cost"]["requestedQueryCost"] == 1005
    assert body["extensions"]["cost"]["rateLimit"]["remaining"] == 5000


def test_a_refused_mutation_never_reaches_its_resolver(make_api) -> None:
    # given a maximum cost of 2
    api = make_api(max_query_cost=2)
    token = api.account("tight@example.com")
    # when a 3-point token creation is sent
    body = api.post(
        'mutation { apiTokenCreate(input: {name: "x", scopes: [READ]}) '
        "{ apiToken { id } secret userErrors { code } } }",
        token=token,
    )
    # then it is refused and no token was created
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"
    assert len(api.data(TOKENS, token=token)["apiTokens"]) == 1


def test_remaining_drops_by_exactly_the_cost_of_each_request(api: Api) -> None:
    # given a token that has spent nothing
    token = api.account("count@example.com")
    # when it sends a 2-point query, then a 4-point one
    first = api.post(TWO_POINTS, token=token)["extensions"]["cost"]
    rate = api.data(RATE_AND_CREDITS, token=token)["rateLimit"]
    # then each lowered the budget by exactly its own cost, counted once
    assert first == {
        "requestedQueryCost": 2,
        "rateLimit": {
            "limit": 5000,
            "remaining": 4998,
            "resetAt": rate["resetAt"].replace("Z", "+00:00"),
        },
    }
    assert rate == {
        "limit": 5000,
        "cost": 4,
        "used": 6,
        "remaining": 4994,
        "resetAt": rate["resetAt"],
    }


def test_over_budget_is_rate_limited_with_retry_after(make_api) -> None:
    # given a budget of 5 points per hour
    api = make_api(rate_limit_points=5)
    token = api.account("budget@example.com")
    # when two 2-point queries pass and a third does not fit
    for _ in range(2):
        api.data(TWO_POINTS, token=token)
    response = api.client.post(
        "/graphql",
        json={"query": TWO_POINTS},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = response.json()
    # then it is refused with the seconds and time until reset, and not charged
    assert response.headers["x-ratelimit-remaining"] == "1"
    assert "data" not in body  # refused before execution began
    [error] = body["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < error["extensions"]["retryAfter"] <= 3600
    assert error["extensions"]["resetAt"].endswith("+00:00")
    assert response.headers["retry-after"] == str(error["extensions"]["retryAfter"])
    assert body["extensions"]["cost"]["rateLimit"]["remaining"] == 1
    # and a 1-point query still fits
    body = api.post("{ __typename }", token=token)
    assert body["data"] == {"__typename": "Query"}
    assert body["extensions"]["cost"]["rateLimit"]["remaining"] == 0


def test_anonymous_callers_spend_from_their_ip_bucket(make_api) -> None:
    # given anonymous and authenticated callers of one app
    api = make_api(anonymous_rate_limit_points=50)
    token = api.account("ip@example.com")
    # when the anonymous one reads the catalog and then its budget
    api.data("{ models { id } }")
    anonymous = api.data(RATE)["rateLimit"]
    authenticated = api.data(RATE, token=token)["rateLimit"]
    # then it drew from the smaller per-IP budget, and the token's is separate
    assert (anonymous["limit"], anonymous["used"]) == (50, 1 + 1)
    assert (authenticated["limit"], authenticated["used"]) == (5000, 1)


def test_every_response_reports_its_cost_even_errors(api: Api) -> None:
    # given responses that succeed, fail validation and fail to parse
    for query in [TOKENS, "{ nope }", "{"]:
        body = api.post(query)
        # then each carries extensions.cost with the rate-limit state
        cost = body["extensions"]["cost"]
        assert set(cost) == {"requestedQueryCost", "rateLimit"}
        assert set(cost["rateLimit"]) == {"limit", "remaining", "resetAt"}


def test_job_creations_have_their_own_per_minute_rate(make_api) -> None:
    # given a rate of 1 job creation per minute
    api = make_api(create_rate_per_minute=1)
    token = api.account("maker@example.com")
    create = 'mutation { generationCreate(input: {prompt: "a fox"}) { userErrors { code } } }'
    # when the account creates twice
    api.post(create, token=token)
    body = api.post(create, token=token)
    # then the second is refused by the creation rate, while reads still pass
    error = body["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < error["extensions"]["retryAfter"] <= 60
    assert "job creation" in error["message"]
    assert api.data(TOKENS, token=token)["apiTokens"]


def test_the_redis_backend_counts_requests_across_the_app(
    make_api, redis_url: str
) -> None:
    # given the app keeping its buckets in Redis
    api = make_api(redis_url=redis_url)
    token = api.account("redis@example.com")
    # when a token sends a 2-point query and reads its budget with a 4-point one
    api.data(TWO_POINTS, token=token)
    rate = api.data(RATE_AND_CREDITS, token=token)["rateLimit"]
    # then Redis kept the count
    assert (rate["used"], rate["remaining"]) == (6, 4994)
