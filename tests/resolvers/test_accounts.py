"""Accounts and tokens over GraphQL: authentication, scopes, token lifecycle."""

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from core.enums import Scope
from core.models import ApiToken
from tests.conftest import Api

ME = "{ me { email tier parallelLimit tokenScopes credits { total rows { type remaining expiresAt } } } }"
CREATE = """mutation($input: ApiTokenCreateInput!) {
  apiTokenCreate(input: $input) {
    apiToken { id name preview scopes isActive } secret userErrors { field code message }
  }
}"""
REVOKE = """mutation($id: ID!) {
  apiTokenRevoke(id: $id) { apiToken { id isActive revokedAt } userErrors { field code message } }
}"""


def test_me_answers_with_the_account_and_its_credits(api: Api) -> None:
    # given a free account with its sign-up credits
    from core.enums import Tier

    token = api.account("alice@example.com", tier=Tier.FREE, scopes=[Scope.READ])
    # when it asks who it is
    me = api.data(ME, token=token)["me"]
    # then it sees its email, tier, limit and 50 free credits
    assert me["email"] == "alice@example.com"
    assert me["tier"] == "FREE"
    assert me["parallelLimit"] == 1
    assert me["tokenScopes"] == ["READ"]
    assert me["credits"]["total"] == 50
    assert me["credits"]["rows"] == [
        {"type": "FREE", "remaining": 50, "expiresAt": None}
    ]


def test_a_missing_or_wrong_token_is_unauthenticated_not_a_500(api: Api) -> None:
    # given a real account
    good = api.account("bob@example.com")
    for bad in [None, "drk_" + "0" * 64, "nonsense", good + "x"]:
        # when the request carries no token or a wrong one
        body = api.post(ME, token=bad)
        # then it gets HTTP 200 with an UNAUTHENTICATED error and no data
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_token_without_the_scope_is_forbidden(api: Api) -> None:
    # given a token with GENERATE only
    token = api.account("carol@example.com", scopes=[Scope.GENERATE])
    # when it reads the account
    body = api.post(ME, token=token)
    # then it is told which scope is missing
    error = body["errors"][0]
    assert error["extensions"]["code"] == "FORBIDDEN"
    assert "READ" in error["message"]


def test_a_created_token_shows_its_secret_once_and_works(api: Api) -> None:
    # given a managing token
    admin = api.account("dave@example.com")
    # when it creates a read-only token
    payload = api.data(
        CREATE, {"input": {"name": "ci bot", "scopes": ["READ"]}}, token=admin
    )["apiTokenCreate"]
    # then the secret is shown, only its hash is stored, and it authenticates
    secret = payload["secret"]
    assert payload["userErrors"] == []
    assert secret.startswith("drk_")
    assert len(secret) == 68
    assert payload["apiToken"]["preview"] == f"drk_...{secret[-4:]}"
    assert payload["apiToken"]["scopes"] == ["READ"]
    stored = api.run(lambda s: _all_tokens(s))
    assert all(secret not in (t.secret_hash, t.preview, t.name) for t in stored)
    assert api.data(ME, token=secret)["me"]["email"] == "dave@example.com"
    # and listing tokens never shows a secret
    listed = api.data("{ apiTokens { preview } }", token=admin)["apiTokens"]
    assert secret not in str(listed)


def test_a_token_cannot_grant_scopes_it_lacks(api: Api) -> None:
    # given a token with MANAGE and READ only
    token = api.account("erin@example.com", scopes=[Scope.MANAGE, Scope.READ])
    # when it asks for a GENERATE token
    payload = api.data(CREATE, {"input": {"scopes": ["GENERATE"]}}, token=token)[
        "apiTokenCreate"
    ]
    # then it is refused, naming the field
    assert payload["apiToken"] is None
    assert payload["userErrors"] == [
        {
            "field": ["input", "scopes"],
            "code": "FORBIDDEN",
            "message": "a token cannot grant scopes its creator lacks: GENERATE",
        }
    ]


def test_the_eleventh_active_token_is_refused(api: Api) -> None:
    # given an account with one token, then nine more
    admin = api.account("frank@example.com")
    for i in range(9):
        assert (
            api.data(CREATE, {"input": {"name": f"t{i}"}}, token=admin)[
                "apiTokenCreate"
            ]["userErrors"]
            == []
        )
    # when it creates an eleventh
    payload = api.data(CREATE, {"input": {}}, token=admin)["apiTokenCreate"]
    # then it gets a clear error
    assert payload["userErrors"][0]["code"] == "TOO_MANY_TOKENS"


def test_a_long_name_is_refused_not_cut(api: Api) -> None:
    admin = api.account("gina@example.com")
    payload = api.data(CREATE, {"input": {"name": "x" * 51}}, token=admin)[
        "apiTokenCreate"
    ]
    assert payload["userErrors"] == [
        {
            "field": ["input", "name"],
            "code": "TOO_LONG",
            "message": "name must be at most 50 characters; got 51",
        }
    ]


def test_a_revoked_token_is_refused_and_its_row_kept(api: Api) -> None:
    # given a second token
    admin = api.account("hank@example.com")
    created = api.data(CREATE, {"input": {"name": "old"}}, token=admin)[
        "apiTokenCreate"
    ]
    # when it is revoked
    revoked = api.data(REVOKE, {"id": created["apiToken"]["id"]}, token=admin)[
        "apiTokenRevoke"
    ]
    # then it is inactive, refused like an unknown token, and still listed
    assert revoked["apiToken"]["isActive"] is False
    assert revoked["apiToken"]["revokedAt"]
    body = api.post(ME, token=created["secret"])
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    names = [
        t["name"]
        for t in api.data("{ apiTokens { name isActive } }", token=admin)["apiTokens"]
    ]
    assert "old" in names


def test_revoking_another_accounts_token_is_not_found(api: Api) -> None:
    # given two accounts
    alice = api.account("ivy@example.com")
    bob = api.account("jack@example.com")
    bobs = api.data(CREATE, {"input": {"name": "bob's"}}, token=bob)["apiTokenCreate"][
        "apiToken"
    ]
    # when alice revokes bob's token
    payload = api.data(REVOKE, {"id": bobs["id"]}, token=alice)["apiTokenRevoke"]
    # then she is told it does not exist, and it still works
    assert payload["userErrors"][0]["code"] == "NOT_FOUND"
    assert (
        api.data(CREATE, {"input": {"name": "still works"}}, token=bob)[
            "apiTokenCreate"
        ]["userErrors"]
        == []
    )


def test_graphiql_is_served_to_browsers(api: Api) -> None:
    response = api.client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def _all_tokens(session: AsyncSession) -> list[ApiToken]:
    return list(await session.scalars(sa.select(ApiToken)))


def test_me_tells_the_token_limit_the_server_enforces(
    make_api: Callable[..., Api],
) -> None:
    # given a server allowing 2 active tokens per account, and one token in use
    api = make_api(max_tokens_per_user=2)
    admin = api.account("hana@example.com")
    # when the account asks its limit, then creates tokens up to it and past it
    limit = api.data("{ me { tokenLimit } }", token=admin)["me"]["tokenLimit"]
    second = api.data(CREATE, {"input": {}}, token=admin)["apiTokenCreate"]
    third = api.data(CREATE, {"input": {}}, token=admin)["apiTokenCreate"]
    # then the limit it was told is the one creation enforces
    assert limit == 2
    assert second["userErrors"] == []
    assert third["userErrors"][0]["code"] == "TOO_MANY_TOKENS"
