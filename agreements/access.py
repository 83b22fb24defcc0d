"""Who may do what to a case's agreement. The agreement is confidential (SIM 2; OMR 29): the mediator of
the case drafts, freezes and uploads it; the court of the case and its mediator read it (parties later,
through their own links). A case the caller cannot see does not exist (404, from ``cases.access``)."""

from __future__ import annotations

from enum import StrEnum

from accounts.principal import Principal, PrincipalKind
from cases.access import sees_case
from cases.tables import Case
from tiaojie.errors import PermissionDenied

__all__ = ["AgreementAction", "ensure"]


class AgreementAction(StrEnum):
    DRAFT = "draft_agreement"  # save a draft, freeze it, upload an offline agreement
    READ = "read_agreement"  # list versions, read one, download its PDF


_K = PrincipalKind
_WHO: dict[AgreementAction, frozenset[PrincipalKind]] = {
    AgreementAction.DRAFT: frozenset({_K.MEDIATOR, _K.SYSTEM}),
    AgreementAction.READ: frozenset({_K.MEDIATOR, _K.COURT, _K.SYSTEM}),
}


def ensure(actor: Principal, action: AgreementAction, case: Case) -> None:
    """PermissionDenied unless ``actor`` (who sees ``case``) may do ``action``."""
    if not sees_case(actor, case) or actor.kind not in _WHO[action]:
        raise PermissionDenied(
            f"you may not {action.value.replace('_', ' ')} on this case", action=action.value
        )
