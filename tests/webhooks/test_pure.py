"""The pure parts: signatures checked with the standardwebhooks library, the retry schedule, URL and address
rules, and the event types."""

from __future__ import annotations

import ipaddress
import itertools
import time
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from cases.lifecycle import CaseEvent, TerminationReason
from tiaojie.errors import InvalidInput
from webhooks import signing
from webhooks.addresses import address_allowed, parse_networks, parse_url
from webhooks.events import CASE_EVENT_TYPES, EventType, case_data, envelope
from webhooks.schedule import (
    MAX_ATTEMPTS,
    AttemptResult,
    Verdict,
    backoff_seconds,
    next_attempt_at,
    parse_retry_after,
    total_span_seconds,
    verdict,
)

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _headers(
    secrets: list[str], body: bytes, msg_id: str = "msg_01", at: int | None = None
) -> dict[str, str]:
    return signing.headers(secrets, msg_id, int(time.time()) if at is None else at, body)


def test_a_signature_verifies_with_the_standard_webhooks_library() -> None:
    secret = signing.new_secret()
    assert secret.startswith("whsec_")
    body = '{"type":"case.accepted","data":{"名":"张三"}}'.encode()
    headers = _headers([secret], body)
    assert Webhook(secret).verify(body, headers) == {"type": "case.accepted", "data": {"名": "张三"}}
    assert headers["webhook-signature"].startswith("v1,")


@pytest.mark.parametrize("change", ["body", "id", "timestamp", "secret"])
def test_any_change_breaks_the_signature(change: str) -> None:
    secret = signing.new_secret()
    body = b'{"a":1}'
    headers = _headers([secret], body)
    if change == "body":
        body = b'{"a":2}'
    elif change == "id":
        headers["webhook-id"] = "msg_02"
    elif change == "timestamp":
        headers["webhook-timestamp"] = str(int(headers["webhook-timestamp"]) - 1)
    else:
        secret = signing.new_secret()
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers)


def test_during_a_rotation_either_secret_verifies() -> None:
    old, new = signing.new_secret(), signing.new_secret()
    body = b'{"a":1}'
    headers = _headers([new, old], body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)


def test_a_stale_timestamp_is_refused_by_the_receiver() -> None:
    secret = signing.new_secret()
    headers = _headers([secret], b"{}", at=int(time.time()) - 3600)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(b"{}", headers)


@pytest.mark.parametrize("bad", ["", "whsec_", "sk_abc", "whsec_not*base64", "whsec_c2hvcnQ="])
def test_malformed_secrets_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="secret"):
        signing.secret_bytes(bad)


def test_backoff_grows_exponentially_to_a_cap_and_spans_about_three_days() -> None:
    waits = [backoff_seconds(n) for n in range(1, MAX_ATTEMPTS)]
    assert waits[0] == 5
    assert all(b >= a for a, b in itertools.pairwise(waits))
    assert waits[-1] == 24 * 3600
    assert 2.5 * 86400 < total_span_seconds() < 3.5 * 86400


def test_jitter_stays_within_twenty_percent_and_attempts_end() -> None:
    low = next_attempt_at(3, NOW, 0.0)
    high = next_attempt_at(3, NOW, 0.999999)
    assert low is not None
    assert high is not None
    assert low - NOW == timedelta(seconds=backoff_seconds(3) * 0.8)
    assert abs((high - NOW).total_seconds() - backoff_seconds(3) * 1.2) < 0.01
    assert next_attempt_at(MAX_ATTEMPTS, NOW, 0.5) is None


def test_retry_after_delays_the_next_attempt_up_to_a_day() -> None:
    plain = next_attempt_at(1, NOW, 0.5)
    later = next_attempt_at(1, NOW, 0.5, retry_after=120)
    capped = next_attempt_at(1, NOW, 0.5, retry_after=10**9)
    assert plain == NOW + timedelta(seconds=5)
    assert later == NOW + timedelta(seconds=120)
    assert capped == NOW + timedelta(days=1)
    assert next_attempt_at(6, NOW, 0.5, retry_after=1) == next_attempt_at(6, NOW, 0.5)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Mon, 02 Mar 2026 01:10:00 GMT", 600.0),
        ("Sun, 01 Mar 2026 01:10:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_values(value: str | None, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (200, Verdict.DELIVERED),
        (204, Verdict.DELIVERED),
        (299, Verdict.DELIVERED),
        (301, Verdict.RETRY),
        (302, Verdict.RETRY),
        (400, Verdict.RETRY),
        (410, Verdict.GONE),
        (429, Verdict.RETRY),
        (500, Verdict.RETRY),
        (None, Verdict.RETRY),
    ],
)
def test_verdicts(status: int | None, expected: Verdict) -> None:
    assert verdict(AttemptResult(status, 1, None if status else "timeout")) is expected


@pytest.mark.parametrize(
    "url",
    [
        "ftp://court.example/hook",
        "court.example/hook",
        "https:///hook",
        "https://user:pw@court.example/hook",
        "https://court.example/hook#frag",
        "https://court.example:99999/hook",
        "https://court.example:0/hook",
        "https://court example/hook",
        "https://court.example/ho\nok",
        "https://[::1/hook",
        "https://" + "a" * 2001,
    ],
)
def test_invalid_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_url(url)
    assert caught.value.code == "invalid_url"
    assert caught.value.field == "url"


def test_valid_urls_parse() -> None:
    assert parse_url("https://court.example/hooks?x=1").port == 443
    assert parse_url("http://10.2.3.4:8080/h").host == "10.2.3.4"
    assert parse_url("https://[2001:db8::1]/h").host == "2001:db8::1"


@pytest.mark.parametrize(
    ("address", "allowed", "ok"),
    [
        ("8.8.8.8", [], True),
        ("2001:4860::8888", [], True),
        ("127.0.0.1", [], False),
        ("10.1.2.3", [], False),
        ("172.16.0.1", [], False),
        ("192.168.1.1", [], False),
        ("169.254.169.254", [], False),
        ("100.64.0.1", [], False),
        ("0.0.0.0", [], False),
        ("224.0.0.1", [], False),
        ("::1", [], False),
        ("fe80::1", [], False),
        ("fd00::1", [], False),
        ("::ffff:127.0.0.1", [], False),
        ("::ffff:8.8.8.8", [], True),
        ("127.0.0.1", ["127.0.0.0/8"], True),
        ("::ffff:127.0.0.1", ["127.0.0.0/8"], True),
        ("10.20.3.4", ["10.20.0.0/16"], True),
        ("10.21.3.4", ["10.20.0.0/16"], False),
        ("::1", ["127.0.0.0/8"], False),
    ],
)
def test_addresses(address: str, allowed: list[str], ok: bool) -> None:
    assert address_allowed(ipaddress.ip_address(address), parse_networks(allowed)) is ok


def test_every_case_event_has_an_event_type() -> None:
    assert set(CASE_EVENT_TYPES) == set(CaseEvent)
    assert {
        EventType.CASE_ASSIGNED,
        EventType.CASE_ACCEPTED,
        EventType.CASE_DECLINED,
        EventType.CASE_OVERDUE,
        EventType.CASE_CLOSED,
        EventType.JC_APPLIED,
    } <= set(CASE_EVENT_TYPES.values())


def test_a_closing_event_carries_outcome_and_reason() -> None:
    data = case_data(
        case_id="cas_1",
        case_number="(2026)豫0802民诉前调1号",
        court_id="crt_1",
        kind="delegated",
        event=CaseEvent.TERMINATE,
        from_state="in_mediation",
        to_state="terminated",
        mediator_id="med_1",
        organisation_id="org_1",
        actor_kind="mediator",
        reason=TerminationReason.POSITIONS_TOO_FAR,
        note="差距较大",
    )
    document = envelope("msg_1", CASE_EVENT_TYPES[CaseEvent.TERMINATE], NOW, data)
    assert document["type"] == "case.closed"
    assert document["timestamp"] == "2026-03-02T01:00:00Z"
    assert document["data"]["reason"] == "positions_too_far"
    assert document["data"]["reason_label"] == "当事人分歧较大且难以达成调解协议"
    assert document["data"]["links"]["case"] == "/api/v1/cases/cas_1"
