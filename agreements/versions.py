"""The versions of a case's agreement, without I/O: which version an edit, a freeze or an upload touches.

::

    (none) | FROZEN ─edit→ new DRAFT (a frozen latest becomes SUPERSEDED)
    DRAFT ─edit→ the same DRAFT, changed in place
    DRAFT ─freeze→ FROZEN (rendered to PDF; its SHA-256 is what signatures bind to; never changes again)
    (none) | DRAFT | FROZEN ─upload→ new FROZEN (the uploaded PDF; the latest becomes SUPERSEDED)

Only the latest version is ever DRAFT or FROZEN; every earlier one is SUPERSEDED. A changed text is always
a new version, so a signature on a frozen version can never be carried over to another text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from tiaojie.errors import Conflict

__all__ = ["Plan", "Source", "Step", "VersionStatus", "plan"]


class VersionStatus(StrEnum):
    DRAFT = "draft"
    FROZEN = "frozen"
    SUPERSEDED = "superseded"


class Source(StrEnum):
    TEMPLATE = "template"  # drafted in the console from the labor template
    UPLOAD = "upload"  # an agreement reached offline, uploaded as a PDF


class Step(StrEnum):
    EDIT = "edit"
    FREEZE = "freeze"
    UPLOAD = "upload"


@dataclass(frozen=True, slots=True)
class Plan:
    """What a step does: supersede the latest version, add a new one (in ``new_status``), or change the
    latest in place (``to_status``: DRAFT for an edit, FROZEN for a freeze)."""

    supersede_latest: bool
    new_status: VersionStatus | None = None
    to_status: VersionStatus | None = None


def plan(latest: VersionStatus | None, step: Step, *, target_is_latest: bool = True) -> Plan:
    """What ``step`` does given the latest version's status (None: no version yet). ``target_is_latest``
    is False when an edit or a freeze names an older version: only the latest draft changes."""
    if latest is VersionStatus.SUPERSEDED:
        raise ValueError("the latest version is never superseded")
    if step is Step.UPLOAD:
        return Plan(supersede_latest=latest is not None, new_status=VersionStatus.FROZEN)
    if step is Step.EDIT and latest is not VersionStatus.DRAFT:
        return Plan(supersede_latest=latest is not None, new_status=VersionStatus.DRAFT)
    if latest is not VersionStatus.DRAFT or not target_is_latest:
        raise Conflict(
            "only the latest draft can be changed or frozen; a frozen version never changes",
            code="version_not_draft",
            current_state=(latest.value if target_is_latest and latest else VersionStatus.SUPERSEDED.value),
        )
    return Plan(
        supersede_latest=False, to_status=VersionStatus.DRAFT if step is Step.EDIT else VersionStatus.FROZEN
    )
