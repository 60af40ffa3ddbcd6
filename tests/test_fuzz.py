"""Fuzz the real app with generated operations: valid and invalid, with and without
a token. Nothing may answer 5xx, mask an error as INTERNAL or log a traceback.

A few hundred examples run in CI; `pytest tests/test_fuzz.py --many` runs 10,000.
"""

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from graphql import print_schema
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes
from starlette.testclient import TestClient

from api.schema import schema
from core.settings import Settings
from tests.conftest import Api

SDL = print_schema(schema._schema)
NO_LIMITS = {
    "rate_limit_points": 10**9,
    "anonymous_rate_limit_points": 10**9,
    "create_rate_per_minute": 10**6,
    "max_query_cost": 10**9,
}
SCALARS = {
    "DateTime": st.datetimes(timezones=st.just(UTC)).map(
        lambda moment: nodes.String(moment.isoformat())
    ),
    # A file cannot be written inline; the server must refuse the attempt cleanly.
    "Upload": st.just(nodes.String("not a file")),
}
OPERATIONS = st.one_of(
    from_schema(SDL, custom_scalars=SCALARS),
    from_schema(SDL, custom_scalars=SCALARS, mode=Mode.NEGATIVE),
)


class Failures(logging.Handler):
    """Collects every record at ERROR and above, from any logger."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fuzzed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Api, str, Failures]]:
    """The app without rate limits, an account with a few credits, and a log trap."""
    from darkroom.services import build_app

    url = request.getfixturevalue(f"{request.param}_database_url")
    data_dir: Path = tmp_path_factory.mktemp("fuzz") / "data"
    app_settings = Settings(data_dir=data_dir, database_url=url, **NO_LIMITS)
    failures = Failures()
    logging.getLogger().addHandler(failures)
    try:
        with TestClient(build_app(app_settings)) as client:
            api = Api(client, app_settings)
            stamp = datetime.now(UTC).strftime("%H%M%S%f")
            token = api.account(f"fuzz-{stamp}@example.com", credits=3)
            yield api, token, failures
    finally:
        logging.getLogger().removeHandler(failures)


@pytest.fixture
def examples(request: pytest.FixtureRequest) -> int:
    """Per database: 150 in CI, 10,000 with --many."""
    return 10_000 if request.config.getoption("--many") else 150


def test_generated_operations_never_fail_the_server(
    fuzzed: tuple[Api, str, Failures], examples: int
) -> None:
    api, token, failures = fuzzed

    @settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None,
    )
    @given(operation=OPERATIONS, with_token=st.booleans())
    def check(operation: str, with_token: bool) -> None:
        headers = {"Authorization": f"Bearer {token}"} if with_token else {}
        response = api.client.post(
            "/graphql", json={"query": operation}, headers=headers
        )
        assert response.status_code < 500, (operation, response.text)
        body: dict[str, Any] = response.json()
        codes = [
            (error.get("extensions") or {}).get("code")
            for error in body.get("errors") or []
        ]
        assert "INTERNAL" not in codes, (operation, body)
        assert None not in codes, (operation, body)
        assert not failures.records, (operation, failures.records[0].getMessage())

    check()
