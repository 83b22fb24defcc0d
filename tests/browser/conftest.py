"""Fixtures of the browser tests: the app on SQLite (nothing outside a loopback-only network namespace is
reachable), media announced on 127.0.0.1 only. See ``harness.py``."""

from __future__ import annotations

import pytest

from tests.signaling.test_room_media import loopback_only, settings

__all__ = ["backend", "loopback_only", "settings"]


@pytest.fixture
def backend() -> str:
    return "sqlite"
