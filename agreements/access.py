"""Who may do what to a case's agreement. The agreement is confidential (SIM 2; OMR 29): the mediator of
the case drafts, freezes and uploads it, requests the signatures and signs; the court of the case and its
mediator read it and its audit trail; the union of the case sees the signing rounds and the document it is
asked to seal, and a union *user* (a person signed in to the console, not a union system's API key) applies
the organisation's seal. Parties act only through their own signing links (:mod:`agreements.links`). A
case the caller cannot see does not exist (404, from ``cases.access``)."""

from __future__ import annotations

from enum import StrEnum

from accounts.principal import AuthMethod, Principal, PrincipalKind
from cases.access import sees_case
from cases.tables import Case
from tiaojie.errors import PermissionDenied

__all__ = ["AgreementAction", "ensure"]


class AgreementAction(StrEnum):
    DRAFT = "draft_agreement"  # save a draft, freeze it, upload an offline agreement
    READ = "read_agreement"  # list versions, read one, download its PDF, the signatures' images
    SIGN = "sign_agreement"  # request signatures, reissue links, sign as the mediator
    SEE_SIGNING = "see_signing"  # the signing rounds and the document to be signed or sealed
    SEAL = "seal_agreement"  # apply the organisation's electronic seal
    READ_TRAIL = "read_agreement_trail"  # the hash-chained audit trail


_K = PrincipalKind
_WHO: dict[AgreementAction, frozenset[PrincipalKind]] = {
    AgreementAction.DRAFT: frozenset({_K.MEDIATOR, _K.SYSTEM}),
    AgreementAction.READ: frozenset({_K.MEDIATOR, _K.COURT, _K.SYSTEM}),
    AgreementAction.SIGN: frozenset({_K.MEDIATOR}),
    AgreementAction.SEE_SIGNING: frozenset({_K.MEDIATOR, _K.COURT, _K.UNION, _K.SYSTEM}),
    AgreementAction.SEAL: frozenset({_K.UNION}),
    AgreementAction.READ_TRAIL: frozenset({_K.MEDIATOR, _K.COURT, _K.SYSTEM}),
}


def ensure(actor: Principal, action: AgreementAction, case: Case) -> None:
    """PermissionDenied unless ``actor`` (who sees ``case``) may do ``action``."""
    if not sees_case(actor, case) or actor.kind not in _WHO[action]:
        raise PermissionDenied(
            f"you may not {action.value.replace('_', ' ')} on this case", action=action.value
        )
    if action is AgreementAction.SEAL and (
        actor.auth_method is not AuthMethod.PASSWORD_SESSION or actor.user_id is None
    ):
        raise PermissionDenied(
            "the seal is applied by a union user signed in to the console", code="seal_needs_user"
        )
