from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from rooms.tokens import JoinClaims, TokenError, issue, verify

SECRET = "s" * 48
NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
CLAIMS = JoinClaims(
    session_id="ses_1",
    participant_id="par_1",
    role="applicant",
    version=1,
    expires_at=int((NOW + timedelta(hours=2)).timestamp()),
)


def test_round_trip() -> None:
    assert verify(issue(CLAIMS, secret=SECRET), secret=SECRET, now=NOW) == CLAIMS


def test_expired() -> None:
    token = issue(CLAIMS, secret=SECRET)
    with pytest.raises(TokenError) as error:
        verify(token, secret=SECRET, now=NOW + timedelta(hours=2))
    assert error.value.code == "token_expired"


def test_forged_with_another_secret() -> None:
    with pytest.raises(TokenError) as error:
        verify(issue(CLAIMS, secret="other" * 10), secret=SECRET, now=NOW)
    assert error.value.code == "token_invalid"


def test_tampered_payload_is_refused() -> None:
    version, payload, signature = issue(CLAIMS, secret=SECRET).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["r"] = "mediator"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    with pytest.raises(TokenError) as error:
        verify(f"{version}.{forged}.{signature}", secret=SECRET, now=NOW)
    assert error.value.code == "token_invalid"


@pytest.mark.parametrize(
    "token", ["", "abc", "v1.a", "v2.a.b", "v1.!!!.???", "v1..", "x" * 5000, "v1.e30.AAAA"]
)
def test_malformed(token: str) -> None:
    with pytest.raises(TokenError) as error:
        verify(token, secret=SECRET, now=NOW)
    assert error.value.code in ("token_malformed", "token_invalid")
