"""Fixtures of the console's browser tests: a live server and a Chromium tab."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import Settings
from tests.api.chromium import Page, chromium
from tests.console.browser import free_port, profile_dir, serving


@pytest.fixture
def live_settings(tmp_path: Path, sqlite_database_url: str) -> Settings:
    # Signed file links must name the port the server really listens on. The token
    # limit is not the default, so the tokens page must show the server's own.
    return Settings(
        data_dir=tmp_path / "data",
        database_url=sqlite_database_url,
        public_base_url=f"http://127.0.0.1:{free_port()}",
        max_tokens_per_user=4,
    )


@pytest.fixture
def live_server(live_settings: Settings) -> Iterator[str]:
    with serving(live_settings) as base:
        yield base


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Page]:
    with chromium(profile_dir(tmp_path)) as tab:
        yield tab
