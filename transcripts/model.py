"""The transcript's rules, without I/O: what state it is in, what may be done in it, how a review ends.

::

    EDITING ─save→ EDITING (a new version) ─open review of the latest version→ IN_REVIEW
    IN_REVIEW ─every reviewer confirmed→ LOCKED (version hashed; no edits, no versions after)
    IN_REVIEW ─any reviewer disputed (with a comment)→ EDITING (that version stays disputed; edit, save anew)

A version is ``saved``, then ``in_review``, then ``locked`` or ``disputed``. The reviewers are fixed when the
review opens: the parties and agents present in the session at that moment.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from tiaojie.errors import Conflict, InvalidInput

__all__ = [
    "Decision",
    "Reviewer",
    "TranscriptStatus",
    "VersionStatus",
    "check_review",
    "require_editable",
    "review_outcome",
    "status_of",
]


class TranscriptStatus(StrEnum):
    EDITING = "editing"
    IN_REVIEW = "in_review"
    LOCKED = "locked"


class VersionStatus(StrEnum):
    SAVED = "saved"
    IN_REVIEW = "in_review"
    DISPUTED = "disputed"
    LOCKED = "locked"


class Decision(StrEnum):
    CONFIRMED = "confirmed"
    DISPUTED = "disputed"


@dataclass(frozen=True, slots=True)
class Reviewer:
    id: str
    name: str
    role: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.id, "name": self.name, "role": self.role}


def status_of(versions: Iterable[VersionStatus]) -> TranscriptStatus:
    statuses = set(versions)
    if VersionStatus.LOCKED in statuses:
        return TranscriptStatus.LOCKED
    if VersionStatus.IN_REVIEW in statuses:
        return TranscriptStatus.IN_REVIEW
    return TranscriptStatus.EDITING


def require_editable(status: TranscriptStatus) -> None:
    """Entries change and versions are saved only while editing."""
    if status is TranscriptStatus.LOCKED:
        raise Conflict("the transcript is confirmed and locked", code="transcript_locked")
    if status is TranscriptStatus.IN_REVIEW:
        raise Conflict("the parties are reviewing the transcript", code="transcript_in_review")


def check_review(
    status: VersionStatus,
    reviewers: Collection[str],
    decided: Collection[str],
    reviewer_id: str,
    decision: Decision,
    comment: str | None,
) -> None:
    """Whether ``reviewer_id`` may give ``decision`` on a version now."""
    if status is not VersionStatus.IN_REVIEW:
        raise Conflict(
            "this version is not open for review", code="not_in_review", current_state=status.value
        )
    if reviewer_id not in reviewers:
        raise Conflict("you are not asked to review this version", code="not_a_reviewer")
    if reviewer_id in decided:
        raise Conflict("you have reviewed this version already", code="already_reviewed")
    if decision is Decision.DISPUTED and not (comment or "").strip():
        raise InvalidInput("say what is wrong", field="comment", code="comment_required")


def review_outcome(reviewers: Collection[str], decisions: Mapping[str, Decision]) -> VersionStatus:
    """Any dispute ends the review; every reviewer confirming locks the version."""
    if any(d is Decision.DISPUTED for d in decisions.values()):
        return VersionStatus.DISPUTED
    if reviewers and all(decisions.get(r) is Decision.CONFIRMED for r in reviewers):
        return VersionStatus.LOCKED
    return VersionStatus.IN_REVIEW
