from __future__ import annotations

from pathlib import Path

import pytest

from tiaojie.errors import InvalidInput
from tiaojie.settings import load_settings


def test_defaults_are_the_embedded_default() -> None:
    settings = load_settings({})
    assert settings.host == "127.0.0.1"
    assert settings.port == 8080
    assert settings.redis_url is None
    assert settings.is_sqlite
    assert settings.effective_database_url.endswith("/var/tiaojie.db")
    assert settings.effective_media_dir == Path("var/media")


def test_environment_overrides_config_file(tmp_path: Path) -> None:
    config = tmp_path / "tiaojie.toml"
    config.write_text('port = 9000\nhost = "0.0.0.0"\nmaterial_types = ["application/pdf"]\n')
    settings = load_settings({"TIAOJIE_CONFIG": str(config), "TIAOJIE_PORT": "9100"})
    assert settings.port == 9100
    assert settings.host == "0.0.0.0"
    assert settings.material_types == ("application/pdf",)


def test_postgres_url_and_comma_lists() -> None:
    settings = load_settings(
        {"TIAOJIE_DATABASE_URL": "postgresql+asyncpg://u:p@db/x", "TIAOJIE_MATERIAL_TYPES": "a/b, c/d"}
    )
    assert not settings.is_sqlite
    assert settings.material_types == ("a/b", "c/d")


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"TIAOJIE_PORT": "http"}, "port"),
        ({"TIAOJIE_PORT": "70000"}, "port"),
        ({"TIAOJIE_SECRET_KEY": "short"}, "secret_key"),
        ({"TIAOJIE_LOG_LEVEL": "LOUD"}, "log_level"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidInput) as error:
        load_settings(env)
    assert error.value.field == field
    assert f"TIAOJIE_{field.upper()}" in error.value.message


def test_unreadable_config_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("port = = 1")
    with pytest.raises(InvalidInput, match="cannot read config file"):
        load_settings({"TIAOJIE_CONFIG": str(bad)})


def test_generated_secret_is_kept_private_and_stable(tmp_path: Path) -> None:
    settings = load_settings({"TIAOJIE_DATA_DIR": str(tmp_path)})
    first = settings.with_secret()
    second = settings.with_secret()
    assert first.secret_key == second.secret_key
    assert first.secret_key
    assert len(first.secret_key) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_https_public_url_makes_cookies_secure() -> None:
    assert load_settings({"TIAOJIE_PUBLIC_URL": "https://t.example"}).secure_cookies
    assert not load_settings({}).secure_cookies
    assert load_settings({"TIAOJIE_PUBLIC_URL": "https://t.example/"}).base_url() == "https://t.example"
