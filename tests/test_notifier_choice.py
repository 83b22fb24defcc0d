"""Which notifier the service builds, and the warning when a deployment with a public URL only logs links."""

from __future__ import annotations

import logging

import pytest

from rooms.notify import HttpGatewayNotifier, LogNotifier
from store.database import Database
from tiaojie.clock import FrozenClock
from tiaojie.errors import InvalidInput
from tiaojie.settings import Settings
from web.services import Services

WARNING = "only written to this log"


def _build(settings: Settings, clock: FrozenClock, db: Database, **update: object) -> Services:
    return Services.build(settings.model_copy(update=update), clock, db)


def test_a_public_deployment_that_only_logs_links_is_warned_about(
    db: Database, settings: Settings, clock: FrozenClock, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="web.services"):
        built = _build(settings, clock, db, public_url="https://tiaojie.court.example")
    assert isinstance(built.notifier, LogNotifier)
    assert any(WARNING in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    "public_url", [None, "http://localhost:8080", "http://127.0.0.1:8080", "http://[::1]:8080"]
)
def test_development_addresses_are_not_warned_about(
    db: Database,
    settings: Settings,
    clock: FrozenClock,
    caplog: pytest.LogCaptureFixture,
    public_url: str | None,
) -> None:
    with caplog.at_level(logging.WARNING, logger="web.services"):
        _build(settings, clock, db, public_url=public_url)
    assert not any(WARNING in record.getMessage() for record in caplog.records)


def test_the_sms_gateway_needs_its_url(db: Database, settings: Settings, clock: FrozenClock) -> None:
    with pytest.raises(InvalidInput):
        _build(settings, clock, db, notifier="http")
    built = _build(settings, clock, db, notifier="http", notifier_url="https://sms.court.example/send")
    assert isinstance(built.notifier, HttpGatewayNotifier)
