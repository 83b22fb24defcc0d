"""The choice of event loop (TIAOJIE_EVENT_LOOP)."""

from __future__ import annotations

import asyncio
import sys

import pytest

from tiaojie import event_loop
from tiaojie.errors import InvalidInput
from tiaojie.settings import load_settings


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def _without_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError


def test_the_default_is_auto() -> None:
    assert load_settings({}).event_loop == "auto"
    assert load_settings({"TIAOJIE_EVENT_LOOP": "asyncio"}).event_loop == "asyncio"
    with pytest.raises(InvalidInput):
        load_settings({"TIAOJIE_EVENT_LOOP": "trio"})


def test_auto_and_uvloop_run_on_uvloop_where_it_is_installed() -> None:
    pytest.importorskip("uvloop")
    assert event_loop.run(_loop_module(), "auto").startswith("uvloop")
    assert event_loop.run(_loop_module(), "uvloop").startswith("uvloop")


def test_asyncio_runs_on_the_standard_loop() -> None:
    assert event_loop.run(_loop_module(), "asyncio") == "asyncio.unix_events"
    assert event_loop.loop_name("asyncio") == "asyncio"


def test_without_uvloop_auto_falls_back_and_uvloop_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _without_uvloop(monkeypatch)
    assert event_loop.loop_factory("auto") is None
    assert event_loop.loop_name("auto") == "asyncio"
    assert event_loop.run(_loop_module(), "auto") == "asyncio.unix_events"
    with pytest.raises(InvalidInput) as refused:
        event_loop.loop_factory("uvloop")
    assert refused.value.code == "invalid_config"
