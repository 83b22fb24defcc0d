"""Signing rounds: the mediator requests signatures on a frozen version, a new version voids the open round,
party links are issued and reissued, and rounds are read back (:mod:`agreements.signing` decides).

A round's signers are every principal party (required), their agents and legal representatives (optional:
they countersign at any time while the round is open), the mediator (required) and, unless the mediator
says otherwise, the organisation's seal (required, always last). Requesting moves the case to
AWAITING_SIGNATURES (``request_signatures``); a new draft or upload while a round is open voids it and
moves the case back (``return_to_mediation``).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal
from accounts.tables import Court, Organisation
from agreements import links, trail_store
from agreements.access import AgreementAction, ensure
from agreements.codes import CodePolicy
from agreements.signing import Order, Refusal, Signer, Signing, SigningStatus, supersede
from agreements.signing_schemas import (
    LinkOut,
    RefusalOut,
    ReissueLinksIn,
    RequestSignaturesIn,
    RoundOut,
    SignerOut,
    SigningOut,
)
from agreements.tables import AgreementSignature, AgreementVersion, SigningRound, SigningSigner
from agreements.text import AgreementText, Settlement
from agreements.trail import Action
from agreements.versions import Source, VersionStatus
from cases.context import CaseEnv
from cases.deadlines import SHANGHAI
from cases.lifecycle import CaseEvent, CaseState
from cases.tables import Case, Mediator, Party
from cases.vocab import PartyRole, Side
from cases.workflow import apply_event
from rooms.notify import Message, Notifier, NotifyFailed
from tiaojie.errors import Conflict, InvalidInput, NotFound
from tiaojie.ids import is_id, new_id

__all__ = [
    "SEAL_ROLE",
    "SigningPolicy",
    "court_name",
    "find_round",
    "load_state",
    "on_new_version",
    "reissue_links",
    "request_signatures",
    "round_out",
    "rounds_out",
    "state_of",
]

SEAL_ROLE = "organisation_seal"


@dataclass(frozen=True, slots=True)
class SigningPolicy:
    """What signing needs from the settings: the link secret and base URL, link lifetime, code rules, font."""

    secret: str
    base_url: str
    link_hours: int
    codes: CodePolicy
    font: Path


def state_of(
    row: SigningRound, signers: list[SigningSigner], signatures: list[AgreementSignature]
) -> Signing:
    refusal = None
    if row.refusal_signer_id is not None:
        refusal = Refusal(row.refusal_signer_id, row.refusal_reason or "")
    return Signing(
        sha256=row.document_sha256,
        signers=tuple(Signer(s.signer_id, s.required, s.last) for s in signers),
        order=Order(row.signing_order),
        signed=tuple(sig.signer_id for sig in signatures),
        refusal=refusal,
        void=row.status == SigningStatus.VOID.value,
    )


async def _signers(session: AsyncSession, round_id: str) -> list[SigningSigner]:
    rows = await session.scalars(
        select(SigningSigner).where(SigningSigner.round_id == round_id).order_by(SigningSigner.position)
    )
    return list(rows)


async def _signatures(session: AsyncSession, round_id: str) -> list[AgreementSignature]:
    rows = await session.scalars(
        select(AgreementSignature)
        .where(AgreementSignature.round_id == round_id)
        .order_by(AgreementSignature.signed_at, AgreementSignature.id)
    )
    return list(rows)


async def load_state(
    session: AsyncSession, row: SigningRound
) -> tuple[Signing, list[SigningSigner], list[AgreementSignature]]:
    signers = await _signers(session, row.id)
    signatures = await _signatures(session, row.id)
    return state_of(row, signers, signatures), signers, signatures


async def find_round(session: AsyncSession, case: Case, round_id: str) -> SigningRound:
    row = await session.get(SigningRound, round_id) if is_id(round_id, "sgr") else None
    if row is None or row.case_id != case.id:
        raise NotFound("no such signing round", code="unknown_round", resource="signing_round")
    return row


def _role(party: Party) -> str:
    return party.party_type if party.role == PartyRole.PRINCIPAL.value else party.role


def _order_signers(
    parties: list[Party], mediator: Mediator, data: RequestSignaturesIn
) -> list[tuple[str, str, str, str, str | None, bool]]:
    """(signer_id, kind, role, name, phone, required) in signing order, the seal not included."""
    principals = sorted(
        (p for p in parties if p.role == PartyRole.PRINCIPAL.value),
        key=lambda p: (p.side != Side.APPLICANT.value, p.id),
    )
    if not principals:
        raise Conflict("the case has no party to sign", code="no_parties")
    required: list[tuple[str, str, str, str, str | None, bool]] = [
        (p.id, "party", _role(p), p.name, p.phone, True) for p in principals
    ]
    required.append((mediator.id, "mediator", "mediator", mediator.name, None, True))
    if data.sequence is not None:
        if data.order is not Order.ORDERED:
            raise InvalidInput(
                "a sequence is for ordered signing", field="sequence", code="sequence_not_ordered"
            )
        by_id = {r[0]: r for r in required}
        if sorted(data.sequence) != sorted(by_id):
            raise InvalidInput(
                "the sequence lists every principal party and the mediator once",
                field="sequence",
                code="invalid_sequence",
            )
        required = [by_id[i] for i in data.sequence]
    out: list[tuple[str, str, str, str, str | None, bool]] = []
    for item in required:
        out.append(item)
        out.extend(
            (p.id, "party", _role(p), p.name, p.phone, False)
            for p in sorted(parties, key=lambda p: p.id)
            if p.role != PartyRole.PRINCIPAL.value and p.represents_id == item[0]
        )
    placed = {item[0] for item in out}
    out.extend(
        (p.id, "party", _role(p), p.name, p.phone, False)
        for p in sorted(parties, key=lambda p: p.id)
        if p.id not in placed
    )
    return out


def _outcome(version: AgreementVersion, given: Settlement | None) -> Settlement:
    if version.source == Source.UPLOAD.value:
        if given is None:
            raise InvalidInput(
                "say whether the uploaded agreement settles all claims (full) or part (partial)",
                field="outcome",
                code="outcome_required",
            )
        return given
    assert version.text is not None
    settlement = AgreementText.model_validate(version.text).content.settlement
    if given is not None and given is not settlement:
        raise InvalidInput(
            f"this agreement settles {settlement.value} claims (its text says so)",
            field="outcome",
            code="outcome_mismatch",
        )
    return settlement


async def _open_rounds(session: AsyncSession, case_id: str) -> list[SigningRound]:
    rows = await session.scalars(
        select(SigningRound).where(
            SigningRound.case_id == case_id, SigningRound.status == SigningStatus.OPEN.value
        )
    )
    return list(rows)


async def _void(session: AsyncSession, env: CaseEnv, actor: Principal, row: SigningRound, why: str) -> None:
    state, _, _ = await load_state(session, row)
    supersede(state)
    now = env.now()
    row.status = SigningStatus.VOID.value
    row.closed_at = now
    await trail_store.append_for_round(
        session,
        row,
        at=now,
        actor=actor,
        action=Action.VOIDED,
        details={"why": why},
    )


async def on_new_version(session: AsyncSession, env: CaseEnv, actor: Principal, case: Case) -> None:
    """A new version was started or uploaded: the open round (on the version it superseded) no longer
    counts, and a case awaiting signatures goes back to mediation."""
    voided = await _open_rounds(session, case.id)
    for row in voided:
        await _void(session, env, actor, row, "superseded")
    if case.state == CaseState.AWAITING_SIGNATURES.value:
        await apply_event(
            session,
            env,
            actor,
            case,
            CaseEvent.RETURN_TO_MEDIATION,
            data={"voided_rounds": [r.id for r in voided]},
        )


def _link(
    signer: SigningSigner, row: SigningRound, policy: SigningPolicy, now: datetime
) -> tuple[str, datetime]:
    expires = (now + timedelta(hours=policy.link_hours)).replace(microsecond=0)
    token = links.issue(
        links.SignerClaims(signer.id, row.id, signer.role, signer.link_version, int(expires.timestamp())),
        secret=policy.secret,
    )
    return f"{policy.base_url}/sign#{token}", expires


async def _issue_links(
    session: AsyncSession,
    env: CaseEnv,
    actor: Principal,
    case: Case,
    row: SigningRound,
    signers: list[SigningSigner],
    policy: SigningPolicy,
    notifier: Notifier | None,
    notify: bool,
) -> list[LinkOut]:
    now = env.now()
    out: list[LinkOut] = []
    for signer in signers:
        url, expires = _link(signer, row, policy, now)
        notified = False
        if notify and notifier is not None and signer.phone:
            text = (
                f"【劳动争议在线调解】{signer.name}，案件 {case.case_number} 的调解协议请您签署，"
                f"请于 {expires.astimezone(SHANGHAI):%Y-%m-%d %H:%M} 前在浏览器中打开 {url} 查看并签名。"
                "链接仅限本人使用，请勿转发。"
            )
            # A failed SMS is not fatal: the links are in the answer, and the mediator can pass them on.
            with contextlib.suppress(NotifyFailed):
                await notifier.send(Message(signer.phone, text, "signing_link"))
                notified = True
        out.append(
            LinkOut(
                signer_id=signer.signer_id,
                name=signer.name,
                role=signer.role,
                url=url,
                expires_at=expires,
                notified=notified,
            )
        )
    if out:
        await trail_store.append_for_round(
            session,
            row,
            at=now,
            actor=actor,
            action=Action.LINKS_ISSUED,
            details={
                "signers": [s.signer_id for s in signers],
                "notified": [o.signer_id for o in out if o.notified],
                "link_versions": {s.signer_id: s.link_version for s in signers},
            },
        )
    return out


async def request_signatures(
    session: AsyncSession,
    env: CaseEnv,
    actor: Principal,
    case: Case,
    version: AgreementVersion,
    data: RequestSignaturesIn,
    *,
    policy: SigningPolicy,
    notifier: Notifier | None,
) -> RoundOut:
    """Open a round on the frozen ``version``, move the case to AWAITING_SIGNATURES, and give each party
    its signing link."""
    ensure(actor, AgreementAction.SIGN, case)
    if version.status == VersionStatus.DRAFT.value:
        raise Conflict("freeze the draft first: only a frozen version is signed", code="not_frozen")
    if version.status == VersionStatus.SUPERSEDED.value:
        raise Conflict("this version was superseded: sign the current one", code="version_superseded")
    assert version.pdf_sha256 is not None
    outcome = _outcome(version, data.outcome)
    mediator = await session.get(Mediator, case.current_mediator_id) if case.current_mediator_id else None
    organisation = (
        await session.get(Organisation, case.current_organisation_id)
        if case.current_organisation_id
        else None
    )
    if mediator is None or (data.seal and organisation is None):
        raise Conflict("the case has no mediator (or organisation) to sign", code="no_mediator")
    parties = list((await session.scalars(select(Party).where(Party.case_id == case.id))).all())
    ordered = _order_signers(parties, mediator, data)
    now = env.now()
    row = SigningRound(
        id=new_id("sgr"),
        case_id=case.id,
        version_id=version.id,
        signing_order=data.order.value,
        seal_required=data.seal,
        outcome=outcome.value,
        status=SigningStatus.OPEN.value,
        document_sha256=version.pdf_sha256,
        requested_by=actor.label,
        requested_at=now,
        evidence_attempts=0,
    )
    for stale in await _open_rounds(session, case.id):
        await _void(session, env, actor, stale, "replaced")
    await apply_event(
        session,
        env,
        actor,
        case,
        CaseEvent.REQUEST_SIGNATURES,
        data={"round_id": row.id, "version_id": version.id, "agreement_sha256": version.pdf_sha256},
    )
    session.add(row)
    signers = [
        SigningSigner(
            id=new_id("sgn"),
            round_id=row.id,
            position=index,
            signer_id=signer_id,
            kind=kind,
            role=role,
            name=name,
            phone=phone,
            required=required,
            last=False,
            link_version=1,
            status="pending",
        )
        for index, (signer_id, kind, role, name, phone, required) in enumerate(ordered, 1)
    ]
    if data.seal and organisation is not None:
        signers.append(
            SigningSigner(
                id=new_id("sgn"),
                round_id=row.id,
                position=len(signers) + 1,
                signer_id=organisation.id,
                kind="organisation",
                role=SEAL_ROLE,
                name=organisation.name,
                phone=None,
                required=True,
                last=True,
                link_version=1,
                status="pending",
            )
        )
    session.add_all(signers)
    await session.flush()
    state_of(row, signers, [])  # the pure rules accept this set of signers
    await trail_store.append(
        session,
        case_id=case.id,
        at=now,
        actor=actor,
        action=Action.SIGNATURES_REQUESTED,
        round_id=row.id,
        version_id=version.id,
        auth_method=actor.auth_method.value,
        document_sha256=version.pdf_sha256,
        details={
            "version_number": version.number,
            "order": data.order.value,
            "seal": data.seal,
            "outcome": outcome.value,
            "signers": [{"id": s.signer_id, "role": s.role, "required": s.required} for s in signers],
        },
    )
    issued = await _issue_links(
        session,
        env,
        actor,
        case,
        row,
        [s for s in signers if s.kind == "party"],
        policy,
        notifier,
        data.notify,
    )
    return await round_out(session, row, issued_links=issued)


async def reissue_links(
    session: AsyncSession,
    env: CaseEnv,
    actor: Principal,
    case: Case,
    row: SigningRound,
    data: ReissueLinksIn,
    *,
    policy: SigningPolicy,
    notifier: Notifier | None,
) -> RoundOut:
    """New links for parties of an open round (the older ones stop working)."""
    ensure(actor, AgreementAction.SIGN, case)
    if row.status != SigningStatus.OPEN.value:
        raise Conflict(f"signing is closed ({row.status})", code="signing_closed", current_state=row.status)
    signers = [s for s in await _signers(session, row.id) if s.kind == "party"]
    if data.signer_ids is not None:
        known = {s.signer_id for s in signers}
        unknown = [i for i in data.signer_ids if i not in known]
        if unknown:
            raise InvalidInput("not a party signer of this round", field="signer_ids", code="not_a_signer")
        chosen = [s for s in signers if s.signer_id in set(data.signer_ids)]
    else:
        chosen = [s for s in signers if s.status == "pending"]
    for signer in chosen:
        signer.link_version += 1
    await session.flush()
    issued = await _issue_links(session, env, actor, case, row, chosen, policy, notifier, data.notify)
    return await round_out(session, row, issued_links=issued)


def _signer_out(
    signer: SigningSigner, state: Signing, signatures: dict[str, AgreementSignature]
) -> SignerOut:
    signature = signatures.get(signer.signer_id)
    status = "signed" if signature is not None else "refused" if signer.status == "refused" else "pending"
    return SignerOut(
        id=signer.id,
        signer_id=signer.signer_id,
        kind="party"
        if signer.kind == "party"
        else "mediator"
        if signer.kind == "mediator"
        else "organisation",
        role=signer.role,
        name=signer.name,
        position=signer.position,
        required=signer.required,
        last=signer.last,
        status=status,
        may_sign_now=signer.signer_id in state.waiting_for(),
        signed_at=signature.signed_at if signature else None,
        auth_method=signature.auth_method if signature else None,
        signature_id=signature.id if signature else None,
        image_sha256=signature.image_sha256 if signature else None,
    )


async def round_out(
    session: AsyncSession, row: SigningRound, *, issued_links: list[LinkOut] | None = None
) -> RoundOut:
    state, signers, signatures = await load_state(session, row)
    version = await session.get(AgreementVersion, row.version_id)
    assert version is not None
    by_signer = {s.signer_id: s for s in signatures}
    return RoundOut(
        id=row.id,
        case_id=row.case_id,
        version_id=row.version_id,
        version_number=version.number,
        document_sha256=row.document_sha256,
        order=Order(row.signing_order),
        seal_required=row.seal_required,
        outcome=Settlement(row.outcome),
        status=SigningStatus(row.status),
        requested_by=row.requested_by,
        requested_at=row.requested_at,
        closed_at=row.closed_at,
        effective_at=row.effective_at,
        refusal=RefusalOut(signer_id=row.refusal_signer_id, reason=row.refusal_reason or "")
        if row.refusal_signer_id
        else None,
        waiting_for=list(state.waiting_for()),
        signers=[_signer_out(s, state, by_signer) for s in signers],
        evidence_status="pending"
        if row.evidence_status == "pending"
        else "delivered"
        if row.evidence_status == "delivered"
        else None,
        links=issued_links,
    )


async def rounds_out(session: AsyncSession, actor: Principal, case: Case) -> SigningOut:
    ensure(actor, AgreementAction.SEE_SIGNING, case)
    rows = list(
        (
            await session.scalars(
                select(SigningRound)
                .where(SigningRound.case_id == case.id)
                .order_by(SigningRound.requested_at, SigningRound.id)
            )
        ).all()
    )
    out = [await round_out(session, row) for row in rows]
    return SigningOut(case_id=case.id, current=out[-1] if out else None, rounds=out)


async def court_name(session: AsyncSession, case: Case) -> str:
    court = await session.get(Court, case.court_id)
    return court.name if court is not None else ""
