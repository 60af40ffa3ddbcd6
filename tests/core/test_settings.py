"""Settings: defaults for the embedded mode, one clear message for a bad value."""

from pathlib import Path

import pytest

from core.enums import Tier
from core.settings import SettingsError, async_database_url, load_settings


def test_the_default_is_sqlite_in_the_data_folder(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path)
    assert (
        settings.resolved_database_url
        == f"sqlite+aiosqlite:///{tmp_path / 'darkroom.db'}"
    )
    assert settings.is_embedded
    assert settings.storage_root == tmp_path / "files"


def test_tier_limits_come_from_settings(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, parallel_pro=7)
    assert [settings.parallel_limit(t) for t in Tier] == [1, 2, 7, 4]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DARKROOM_DATABASE_URL", "mysql://localhost/x"),
        ("DARKROOM_REDIS_URL", "http://localhost"),
        ("DARKROOM_STORAGE_URL", "ftp://x"),
        ("DARKROOM_STORAGE_URL", "s3://"),
        ("DARKROOM_PARALLEL_FREE", "0"),
        ("DARKROOM_DEBUG", "maybe"),
    ],
)
def test_a_wrong_value_names_its_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as raised:
        load_settings()
    assert variable in str(raised.value)
    assert value in str(raised.value)


def test_plain_database_urls_get_the_async_driver() -> None:
    assert async_database_url("postgresql://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert async_database_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"
    assert async_database_url("sqlite:////tmp/x.db") == "sqlite+aiosqlite:////tmp/x.db"
