"""Shared fixtures: settings in a temporary directory, a frozen clock, the app on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from argon2 import PasswordHasher
from sqlalchemy import text
from sqlalchemy.engine import make_url

from store.database import Database
from store.metadata import metadata
from store.migrate import upgrade
from tests.factories import World, build_world
from tiaojie.clock import FrozenClock
from tiaojie.settings import Settings, load_settings
from web.app import create_app
from web.services import SERVICES, Services

# Monday 2 March 2026, 09:00 in Shanghai: a plain working week with no holiday in reach.
START = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PG_ENV = "TIAOJIE_TEST_POSTGRES_URL"
REDIS_ENV = "TIAOJIE_TEST_REDIS_URL"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    required = os.environ.get("CI") == "true" or os.environ.get("TIAOJIE_TEST_REQUIRE_SERVICES") == "1"
    if required:
        return
    for marker, env, what in (("postgres", PG_ENV, "PostgreSQL"), ("redis", REDIS_ENV, "Redis")):
        if os.environ.get(env):
            continue
        skip = pytest.mark.skip(reason=f"no {what}: set {env} (CI always does)")
        for item in items:
            if marker in item.keywords:
                item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Real argon2id with the smallest parameters: hashing at production cost (64 MiB, 3 passes) for every
    user of every test would dominate the suite's time. Production parameters are argon2-cffi's defaults."""
    import accounts.service

    original = accounts.service._hasher
    accounts.service._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    accounts.service._hasher = original


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite database, copied for each test."""
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def build() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await upgrade(db)
        await db.dispose()

    asyncio.run(build())
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own for this test session, migrated once, dropped at the end."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.fail(f"{PG_ENV} is not set but a PostgreSQL test was selected")
    name = f"tiaojie_test_{secrets.token_hex(4)}"
    admin = make_url(base)
    url = admin.set(database=name).render_as_string(hide_password=False)

    async def setup() -> None:
        db = Database(admin.render_as_string(hide_password=False))
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await db.dispose()
        target = Database(url)
        await upgrade(target)
        await target.dispose()

    async def teardown() -> None:
        db = Database(admin.render_as_string(hide_password=False))
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await db.dispose()

    asyncio.run(setup())
    yield url
    asyncio.run(teardown())


@pytest.fixture
def redis_prefix() -> Iterator[tuple[str, str]]:
    """The test Redis (``TIAOJIE_TEST_REDIS_URL``) and a key prefix of this test's own; every key under it is
    deleted afterwards."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.fail(f"{REDIS_ENV} is not set but a Redis test was selected")
    prefix = f"tiaojie-test:{secrets.token_hex(6)}:"
    yield url, prefix
    from redis import Redis

    client = Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    template: Path = request.getfixturevalue("sqlite_template")
    path = tmp_path / "tiaojie.db"
    shutil.copy(template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture
async def db(database_url: str, backend: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    if backend == "postgres":
        tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
        async with database.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            await conn.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
    yield database
    await database.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        {},
        overrides={
            "data_dir": tmp_path / "var",
            "secret_key": "test-secret-" + "x" * 40,
            "max_upload_bytes": 256 * 1024,
        },
    )


@pytest.fixture
def app(settings: Settings, clock: FrozenClock, db: Database) -> web.Application:
    return create_app(settings, clock=clock, db=db, migrate=False, background=False)


@pytest.fixture
def services(app: web.Application) -> Services:
    return app[SERVICES]


@pytest.fixture
async def client(aiohttp_client: Any, app: web.Application) -> AsyncIterator[TestClient[Any, Any]]:
    client: TestClient[Any, Any] = await aiohttp_client(app)
    yield client
    # Close the server here, before the database fixture disposes the engine (aiohttp_client's own
    # teardown would come after it): shutdown handlers still write to the database.
    await client.close()


@pytest.fixture
async def world(client: TestClient[Any, Any], services: Services) -> World:
    return await build_world(services)


class Api:
    """The API as seen by one of the world's keys: ``await api.as_("court_a").post("/cases", json=...)``."""

    def __init__(self, client: TestClient[Any, Any], world: World) -> None:
        self.client = client
        self.world = world

    def as_(self, who: str) -> _As:
        return _As(self.client, self.world.tokens[who])


class _As:
    def __init__(self, client: TestClient[Any, Any], token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    async def request(self, method: str, path: str, *, expect: int | None = None, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        response = await self.client.request(method, "/api/v1" + path, headers=headers, **kwargs)
        body = await response.json() if response.content_type == "application/json" else await response.read()
        if expect is not None:
            assert response.status == expect, (response.status, body)
        return body

    async def get(self, path: str, **kwargs: Any) -> Any:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, **kwargs: Any) -> Any:
        return await self.request("POST", path, **kwargs)


@pytest.fixture
def api(client: TestClient[Any, Any], world: World) -> Api:
    return Api(client, world)
