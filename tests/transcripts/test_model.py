"""The transcript's rules and its canonical hash, without a database."""

from __future__ import annotations

import hashlib
import itertools
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from tiaojie.errors import Conflict, InvalidInput
from transcripts.canonical import FORMAT, canonical_bytes, digest, utc_text
from transcripts.model import (
    Decision,
    TranscriptStatus,
    VersionStatus,
    check_review,
    require_editable,
    review_outcome,
    status_of,
)

ENTRIES = [
    {
        "seq": 2,
        "speaker": "李四（被申请人）",
        "text": "公司同意支付",
        "at": "2026-03-02T01:05:00Z",
        "undisputed": True,
    },
    {
        "seq": 1,
        "speaker": "张三（申请人）",
        "text": "拖欠工资 3 个月",
        "at": "2026-03-02T01:00:00Z",
        "undisputed": False,
    },
]


def test_status_follows_the_versions() -> None:
    assert status_of([]) is TranscriptStatus.EDITING
    assert status_of([VersionStatus.SAVED, VersionStatus.DISPUTED]) is TranscriptStatus.EDITING
    assert status_of([VersionStatus.DISPUTED, VersionStatus.IN_REVIEW]) is TranscriptStatus.IN_REVIEW
    assert status_of([VersionStatus.DISPUTED, VersionStatus.LOCKED]) is TranscriptStatus.LOCKED
    require_editable(TranscriptStatus.EDITING)
    for status, code in (
        (TranscriptStatus.IN_REVIEW, "transcript_in_review"),
        (TranscriptStatus.LOCKED, "transcript_locked"),
    ):
        with pytest.raises(Conflict) as error:
            require_editable(status)
        assert error.value.code == code


@pytest.mark.parametrize("order", list(itertools.permutations(["w", "e", "a"])))
def test_the_last_confirmation_locks_in_any_order(order: tuple[str, ...]) -> None:
    reviewers = {"w", "e", "a"}
    decisions: dict[str, Decision] = {}
    for index, who in enumerate(order):
        check_review(VersionStatus.IN_REVIEW, reviewers, decisions.keys(), who, Decision.CONFIRMED, None)
        decisions[who] = Decision.CONFIRMED
        expected = VersionStatus.LOCKED if index == len(order) - 1 else VersionStatus.IN_REVIEW
        assert review_outcome(reviewers, decisions) is expected


def test_a_dispute_ends_the_review_and_needs_a_comment() -> None:
    reviewers = {"w", "e"}
    with pytest.raises(InvalidInput) as error:
        check_review(VersionStatus.IN_REVIEW, reviewers, set(), "w", Decision.DISPUTED, "  ")
    assert error.value.code == "comment_required"
    assert (
        review_outcome(reviewers, {"e": Decision.CONFIRMED, "w": Decision.DISPUTED}) is VersionStatus.DISPUTED
    )
    assert review_outcome(set(), {}) is VersionStatus.IN_REVIEW  # nobody to confirm never locks


@pytest.mark.parametrize(
    ("status", "who", "done", "code"),
    [
        (VersionStatus.SAVED, "w", set(), "not_in_review"),
        (VersionStatus.LOCKED, "w", set(), "not_in_review"),
        (VersionStatus.IN_REVIEW, "x", set(), "not_a_reviewer"),
        (VersionStatus.IN_REVIEW, "w", {"w"}, "already_reviewed"),
    ],
)
def test_review_out_of_order(status: VersionStatus, who: str, done: set[str], code: str) -> None:
    with pytest.raises(Conflict) as error:
        check_review(status, {"w", "e"}, done, who, Decision.CONFIRMED, None)
    assert error.value.code == code


def test_the_canonical_encoding_and_its_hash() -> None:
    data = canonical_bytes("ses_1", 3, ENTRIES)
    doc = json.loads(data)
    assert doc["format"] == FORMAT
    assert [e["seq"] for e in doc["entries"]] == [1, 2]  # seq order, whatever the input order
    assert "拖欠工资" in data.decode()  # characters as themselves, not \\u escapes
    assert b" " not in data.replace("拖欠工资 3 个月".encode(), b"")  # no insignificant whitespace
    recomputed = hashlib.sha256(
        json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    assert digest("ses_1", 3, ENTRIES) == recomputed
    assert digest("ses_1", 3, list(reversed(ENTRIES))) == recomputed
    changed = [dict(ENTRIES[0], undisputed=False), ENTRIES[1]]
    assert digest("ses_1", 3, changed) != recomputed
    assert digest("ses_1", 4, ENTRIES) != recomputed
    assert digest("ses_2", 3, ENTRIES) != recomputed


def test_times_are_written_in_utc_to_the_second() -> None:
    shanghai = timezone(timedelta(hours=8))
    assert utc_text(datetime(2026, 3, 2, 9, 0, 30, 999, tzinfo=shanghai)) == "2026-03-02T01:00:30Z"
    assert utc_text(datetime(2026, 3, 2, 1, 0, tzinfo=UTC)) == "2026-03-02T01:00:00Z"
    with pytest.raises(ValueError, match="naive"):
        utc_text(datetime(2026, 3, 2, 1, 0))
