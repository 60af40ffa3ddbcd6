"""GraphiQL's page and files, served from the package (api/ide.py)."""

import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path, PurePath

import pytest
from graphql import build_schema, parse, validate
from graphql.execution.values import get_variable_values
from graphql.language import OperationDefinitionNode, OperationType

from api.ide import ASSETS, EXAMPLES, STATIC_PATH, tabs
from tests.conftest import Api

ROOT = Path(__file__).parents[2]
HTML = {"Accept": "text/html"}


def page_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="([^"]+)"', html)


def page_config(html: str) -> dict:
    [data] = re.findall(
        r'<script id="darkroom-graphiql" type="application/json">(.*?)</script>',
        html,
        re.S,
    )
    config: dict = json.loads(data)
    return config


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()


def test_the_page_loads_only_its_own_files_under_a_strict_policy(api: Api) -> None:
    # when a browser asks for /graphql
    response = api.client.get("/graphql", headers=HTML)
    # then it gets our page, whose every file comes from this server
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    urls = page_urls(response.text)
    assert urls[0] == "data:,"  # the empty icon
    assert all(url.startswith(f"{STATIC_PATH}/") for url in urls[1:]), urls
    assert "unpkg" not in response.text
    assert "cdn" not in response.text.lower()
    # under a policy allowing only this origin, and a per-page style nonce
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "connect-src 'self';" in policy
    assert "default-src 'none';" in policy
    nonce = page_config(response.text)["styleNonce"]
    assert f"style-src 'self' 'nonce-{nonce}';" in policy
    again = api.client.get("/graphql", headers=HTML)
    assert page_config(again.text)["styleNonce"] != nonce


def test_the_page_holds_the_saved_operations_and_the_header_placeholder(
    api: Api,
) -> None:
    config = page_config(api.client.get("/graphql", headers=HTML).text)
    assert config["path"] == "/graphql"
    assert config["headers"] == {"Authorization": "Bearer drk_..."}
    names = [
        re.search(r"(query|mutation|subscription) (\w+)", t["query"])
        for t in config["tabs"]
    ]
    assert [(m.group(1), m.group(2)) for m in names if m] == [
        ("query", "Catalog"),
        ("mutation", "Generate"),
        ("subscription", "WatchJob"),
        ("query", "History"),
    ]


def test_every_file_the_page_names_is_served_with_long_caching(api: Api) -> None:
    html = api.client.get("/graphql", headers=HTML).text
    for url in page_urls(html)[1:]:
        # when the browser fetches it, plain
        response = api.client.get(url, headers={"Accept-Encoding": "identity"})
        # then it is the file, typed, cacheable for a year, never sniffed
        assert response.status_code == 200, url
        name = url.split("?")[0].rsplit("/", 1)[1]
        path = ASSETS / "vendor" / name
        if not path.exists():
            path = ASSETS / name
        assert response.content == path.read_bytes()
        suffix = {"js": "text/javascript", "css": "text/css"}[name.rsplit(".", 1)[1]]
        assert response.headers["content-type"] == f"{suffix}; charset=utf-8"
        assert (
            response.headers["cache-control"] == "public, max-age=31536000, immutable"
        )
        assert response.headers["x-content-type-options"] == "nosniff"


def test_files_are_gzipped_for_clients_that_accept_it(api: Api) -> None:
    html = api.client.get("/graphql", headers=HTML).text
    [url] = [u for u in page_urls(html) if "/graphiql.min.js?" in u]
    # when a client accepting gzip asks (httpx would decode it for us)
    response = api.client.get(url, headers={"Accept-Encoding": "gzip"})
    # then the body is gzip, a third of the size or less
    assert response.headers["content-encoding"] == "gzip"
    raw = (ASSETS / "vendor" / "graphiql.min.js").read_bytes()
    assert response.content == raw
    assert int(response.headers["content-length"]) < len(raw) / 3
    # and a revalidation with its ETag is a 304
    etag = response.headers["etag"]
    assert api.client.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_an_unversioned_or_stale_url_is_not_cached_for_long(api: Api) -> None:
    for url in (f"{STATIC_PATH}/darkroom.js", f"{STATIC_PATH}/darkroom.js?v=old"):
        response = api.client.get(url)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    "path",
    [
        f"{STATIC_PATH}/../view.py",
        f"{STATIC_PATH}/..%2Fide.py",
        f"{STATIC_PATH}/%2e%2e%2fide.py",
        f"{STATIC_PATH}/vendor%2Fgraphiql.min.js",
        f"{STATIC_PATH}/page.html",
        f"{STATIC_PATH}/LICENSE.graphiql",
        f"{STATIC_PATH}/nothing.js",
        f"{STATIC_PATH}/",
    ],
)
def test_only_the_pages_files_are_reachable(api: Api, path: str) -> None:
    response = api.client.get(path)
    assert response.status_code == 404
    assert "import" not in response.text


def test_the_saved_operations_are_valid_with_their_variables() -> None:
    # given the committed schema, which tests/schema keeps equal to the code's
    schema = build_schema((ROOT / "schema.graphql").read_text())
    for name, tab in zip(EXAMPLES, tabs(), strict=True):
        document = parse(tab["query"])
        # then each document validates, and its variables coerce
        assert validate(schema, document) == [], name
        [operation] = document.definitions
        assert isinstance(operation, OperationDefinitionNode)
        variables = json.loads(tab["variables"] or "{}")
        coerced = get_variable_values(
            schema, operation.variable_definitions or [], variables
        )
        assert not isinstance(coerced, list), (name, coerced)  # a list holds errors


def test_the_saved_queries_run_within_every_limit(api: Api) -> None:
    # given an account with a token
    token = api.account("reader@example.com")
    for tab in tabs():
        [operation] = parse(tab["query"]).definitions
        assert isinstance(operation, OperationDefinitionNode)
        if operation.operation is not OperationType.QUERY:
            continue  # Generate would start a job; WatchJob needs a websocket
        # when a saved query runs as GraphiQL would send it
        body = api.post(tab["query"], json.loads(tab["variables"] or "{}"), token=token)
        # then it answers without errors
        assert "errors" not in body, body


def test_the_vendored_files_match_the_lock() -> None:
    # the script's offline check: every file's sha256 as the lock records it
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "fetch_graphiql.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_graphiql_file_is_package_data() -> None:
    # pip install (not -e) copies only what package-data names
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["api"]
    api = ROOT / "api"
    files = [p.relative_to(api) for p in ASSETS.rglob("*") if p.is_file()]
    assert files
    # setuptools globs: `*` stays within one folder
    missing = [
        f
        for f in files
        if not any(
            len(f.parts) == len(PurePath(p).parts) and f.match(p) for p in patterns
        )
    ]
    assert missing == []
