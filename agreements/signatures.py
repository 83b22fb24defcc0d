"""The signing steps of one round: a signer views the document, asks for a one-time code, signs (a party
by link, the mediator in the console), the organisation's seal is applied, a party refuses; and the
agreement taking effect on the last required signature.

Each step checks with the pure rules (:mod:`agreements.signing`) before it writes anything, records itself
in the hash-chained trail (:mod:`agreements.trail_store`), and tells the court (``agreement.signed``,
``agreement.effective`` webhooks; the case's own transitions through :func:`cases.workflow.apply_event`).
The caller holds the case row locked.

A wrong one-time code is refused, but the try must count: :class:`RecordedFailure` carries the error out
of a step whose writes (the attempt, the trail entry) the caller commits before answering with it.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import AuthMethod as PrincipalAuth
from accounts.principal import Principal, PrincipalKind
from accounts.tables import Organisation
from agreements import images, links, strokes, trail_store
from agreements.access import AgreementAction, ensure
from agreements.codes import Verdict, code_hash, judge, new_code, retry_after
from agreements.evidence import AuthMethod
from agreements.handoff import mark_effective
from agreements.rounds import SigningPolicy, court_name, load_state, round_out
from agreements.sealed_tables import SealedAgreement
from agreements.signing import Event, Signing, SigningStatus, check, refuse, sign
from agreements.signing_schemas import (
    CodeSentOut,
    MediatorSignatureIn,
    PartyRoundOut,
    PartySignatureIn,
    RefusalIn,
    SealIn,
    SignerOut,
)
from agreements.tables import (
    AgreementSignature,
    AgreementTrailEntry,
    AgreementVersion,
    SigningCode,
    SigningRound,
    SigningSigner,
)
from agreements.trail import Action
from cases.context import CaseEnv
from cases.lifecycle import CaseEvent, CaseState, Outcome
from cases.tables import Case
from cases.workflow import apply_event
from rooms.notify import Message, Notifier
from rooms.tables import MediationSession, SessionParticipant, SessionRecord
from store.files import put_bytes
from tiaojie.errors import Conflict, InvalidInput, PermissionDenied, RateLimited, TiaojieError
from tiaojie.ids import new_id
from tiaojie.masking import mask_phone
from webhooks.events import EventType, agreement_data
from webhooks.outbox import emit

__all__ = [
    "RecordedFailure",
    "authenticate_link",
    "console_signer_id",
    "party_principal",
    "party_view",
    "refuse_as_party",
    "seal",
    "send_code",
    "sign_as_mediator",
    "sign_as_party",
    "view",
    "viewed",
    "withdraw_code",
]


class RecordedFailure(Exception):
    """``error`` answers the request, and what the session holds (the failed try) is kept."""

    def __init__(self, error: TiaojieError) -> None:
        super().__init__(error.message)
        self.error = error


# --- who the link belongs to --------------------------------------------------------------------------


async def authenticate_link(
    session: AsyncSession, token: str, policy: SigningPolicy, env: CaseEnv
) -> tuple[SigningSigner, SigningRound]:
    """The signer and round of a genuine, unexpired, current signing link (401 with ``link_*`` otherwise)."""
    claims = links.verify(token, secret=policy.secret, now=env.now())
    signer = await session.get(SigningSigner, claims.signer_row_id)
    row = await session.get(SigningRound, claims.round_id)
    if signer is None or row is None or signer.round_id != row.id or signer.role != claims.role:
        raise links.LinkError("this signing link no longer exists", code="link_invalid")
    if signer.link_version != claims.link_version:
        raise links.LinkError("a newer signing link was sent: use that one", code="link_revoked")
    return signer, row


def party_principal(signer: SigningSigner, *, ip: str | None, user_agent: str | None) -> Principal:
    return Principal(
        kind=PrincipalKind.PARTY,
        id=signer.signer_id,
        label=f"当事人 {signer.name}",
        auth_method=PrincipalAuth.SIGNING_LINK,
        ip=ip,
        user_agent=user_agent,
    )


# --- shared checks ------------------------------------------------------------------------------------


def _require_awaiting(case: Case) -> None:
    if case.state != CaseState.AWAITING_SIGNATURES.value:
        raise Conflict(
            "the case is not awaiting signatures",
            code="case_not_awaiting_signatures",
            current_state=case.state,
        )


async def viewed(session: AsyncSession, row: SigningRound, signer_id: str) -> bool:
    found = await session.scalar(
        select(AgreementTrailEntry.id)
        .where(
            AgreementTrailEntry.case_id == row.case_id,
            AgreementTrailEntry.round_id == row.id,
            AgreementTrailEntry.signer_id == signer_id,
            AgreementTrailEntry.action == Action.VIEWED.value,
        )
        .limit(1)
    )
    return found is not None


async def _require_viewed(session: AsyncSession, row: SigningRound, signer_id: str) -> None:
    if not await viewed(session, row, signer_id):
        raise Conflict("fetch the document before signing it", code="document_not_viewed")


async def _verified_in_live_session(session: AsyncSession, case_id: str, party_id: str) -> bool:
    """Whether the mediator's last identity check of this party in a live session of the case says
    verified (OMR 17; recorded by the room as ``identity_checked``)."""
    live = select(MediationSession.id).where(
        MediationSession.case_id == case_id, MediationSession.status == "live"
    )
    seats = set(
        await session.scalars(
            select(SessionParticipant.id).where(
                SessionParticipant.session_id.in_(live), SessionParticipant.party_id == party_id
            )
        )
    )
    if not seats:
        return False
    records = await session.scalars(
        select(SessionRecord)
        .where(SessionRecord.session_id.in_(live), SessionRecord.kind == "identity_checked")
        .order_by(SessionRecord.id)
    )
    verdict = None
    for record in records:
        if (record.data or {}).get("participant_id") in seats:
            verdict = (record.data or {}).get("result")
    return verdict == "verified"


# --- viewing the document -----------------------------------------------------------------------------


async def view(
    session: AsyncSession,
    env: CaseEnv,
    actor: Principal,
    case: Case,
    row: SigningRound,
    *,
    signer_id: str | None,
) -> AgreementVersion:
    """Record that ``actor`` fetched the round's document; the version (its PDF is what is served)."""
    version = await session.get(AgreementVersion, row.version_id)
    assert version is not None
    await trail_store.append_for_round(
        session,
        row,
        at=env.now(),
        actor=actor,
        action=Action.VIEWED,
        signer_id=signer_id,
        auth_method=actor.auth_method.value,
    )
    return version


def console_signer_id(actor: Principal, signers: list[SigningSigner], case: Case) -> str | None:
    """The signer a console user is in this round: the mediator, or a union user for the seal."""
    for signer in signers:
        mediator = actor.kind is PrincipalKind.MEDIATOR and signer.signer_id == actor.mediator_id
        union_user = actor.kind is PrincipalKind.UNION and actor.user_id is not None
        if (signer.kind == "mediator" and mediator) or (
            signer.kind == "organisation" and union_user and signer.signer_id in actor.organisation_ids
        ):
            return signer.signer_id
    return None


# --- one-time codes -----------------------------------------------------------------------------------


async def send_code(
    session: AsyncSession,
    env: CaseEnv,
    actor: Principal,
    case: Case,
    row: SigningRound,
    signer: SigningSigner,
    *,
    policy: SigningPolicy,
    notifier: Notifier,
) -> CodeSentOut:
    """Send a one-time code to the signer's phone, unless the rate limit says wait (429)."""
    state, _, _ = await load_state(session, row)
    check(state, signer.signer_id)
    _require_awaiting(case)
    if not signer.phone:
        raise Conflict("there is no phone number to send a code to", code="no_phone")
    now = env.now()
    rules = policy.codes
    sent = list(
        await session.scalars(
            select(SigningCode.sent_at).where(
                SigningCode.signer_id == signer.signer_id, SigningCode.sent_at > now - timedelta(hours=1)
            )
        )
    )
    wait = retry_after(sent, now, rules)
    if wait is not None:
        raise RateLimited(
            f"too many codes: try again in {wait} seconds", code="otp_rate_limited", retry_after=wait
        )
    code = new_code()
    row_id = new_id("otp")
    masked = mask_phone(signer.phone)
    expires = now + rules.ttl
    session.add(
        SigningCode(
            id=row_id,
            round_id=row.id,
            signer_id=signer.signer_id,
            code_hash=code_hash(policy.secret, row_id, code),
            phone_masked=masked,
            sent_at=now,
            expires_at=expires,
            attempts=0,
        )
    )
    minutes = max(1, int(rules.ttl.total_seconds() // 60))
    text = (
        f"【劳动争议在线调解】您正在签署案件 {case.case_number} 的调解协议，验证码 {code}，"
        f"{minutes} 分钟内有效。请勿将验证码告诉他人。"
    )
    await notifier.send(Message(signer.phone, text, "one_time_code"))
    await trail_store.append_for_round(
        session,
        row,
        at=now,
        actor=actor,
        action=Action.CODE_SENT,
        signer_id=signer.signer_id,
        auth_method=actor.auth_method.value,
        details={"code_id": row_id, "sent_to": masked, "expires_at": expires.isoformat()},
    )
    return CodeSentOut(
        sent_to=masked,
        expires_at=expires,
        attempts_allowed=rules.max_attempts,
        next_code_after=now + rules.min_interval,
    )


async def withdraw_code(
    session: AsyncSession, env: CaseEnv, actor: Principal, row: SigningRound, signer: SigningSigner
) -> None:
    """The signer's newest code never reached them (the SMS gateway refused it, after the code was stored):
    removed, so that it neither counts against the rate limit nor replaces a code that did arrive; the
    trail says so."""
    code = await session.scalar(
        select(SigningCode)
        .where(
            SigningCode.round_id == row.id,
            SigningCode.signer_id == signer.signer_id,
            SigningCode.used_at.is_(None),
        )
        .order_by(SigningCode.sent_at.desc())
        .limit(1)
    )
    if code is None:
        return
    await session.delete(code)
    await trail_store.append_for_round(
        session,
        row,
        at=env.now(),
        actor=actor,
        action=Action.CODE_NOT_DELIVERED,
        signer_id=signer.signer_id,
        auth_method=actor.auth_method.value,
        details={"code_id": code.id},
    )


async def _check_code(
    session: AsyncSession,
    env: CaseEnv,
    actor: Principal,
    row: SigningRound,
    signer: SigningSigner,
    given: str | None,
    policy: SigningPolicy,
) -> None:
    latest: SigningCode | None = await session.scalar(
        select(SigningCode)
        .where(SigningCode.round_id == row.id, SigningCode.signer_id == signer.signer_id)
        .order_by(SigningCode.sent_at.desc(), SigningCode.id.desc())
        .limit(1)
    )
    if latest is None or given is None:
        raise InvalidInput("ask for a one-time code and give it", field="auth.code", code="otp_required")
    now = env.now()
    verdict = judge(
        stored_hash=latest.code_hash,
        given=given,
        code_id=latest.id,
        secret=policy.secret,
        expires_at=latest.expires_at,
        attempts=latest.attempts,
        used=latest.used_at is not None,
        now=now,
        policy=policy.codes,
    )
    if verdict is Verdict.USED:
        raise InvalidInput(
            "this code was used already: ask for a new one", field="auth.code", code="otp_required"
        )
    if verdict is Verdict.EXPIRED:
        raise InvalidInput("the code has expired: ask for a new one", field="auth.code", code="otp_expired")
    if verdict is Verdict.EXHAUSTED:
        raise InvalidInput(
            "too many wrong tries for this code: ask for a new one",
            field="auth.code",
            code="otp_attempts_exhausted",
        )
    details = {"code_id": latest.id}
    if verdict is Verdict.WRONG:
        latest.attempts += 1
        left = max(0, policy.codes.max_attempts - latest.attempts)
        await trail_store.append_for_round(
            session,
            row,
            at=now,
            actor=actor,
            action=Action.CODE_FAILED,
            signer_id=signer.signer_id,
            auth_method=AuthMethod.ONE_TIME_CODE.value,
            details={**details, "attempts": latest.attempts, "attempts_left": left},
        )
        raise RecordedFailure(
            InvalidInput("the code is wrong", field="auth.code", code="otp_wrong", attempts_left=left)
        )
    latest.used_at = now
    await trail_store.append_for_round(
        session,
        row,
        at=now,
        actor=actor,
        action=Action.CODE_VERIFIED,
        signer_id=signer.signer_id,
        auth_method=AuthMethod.ONE_TIME_CODE.value,
        details=details,
    )


# --- signing ------------------------------------------------------------------------------------------


async def _record(
    session: AsyncSession,
    env: CaseEnv,
    actor: Principal,
    case: Case,
    row: SigningRound,
    signer: SigningSigner,
    *,
    after: Signing,
    events: list[Event],
    auth: AuthMethod,
    image: bytes,
    drawing: strokes.Drawing | None,
    raw_strokes: bytes | None,
) -> AgreementSignature:
    now = env.now()
    stored_image = await put_bytes(env.files, image)
    image_key, image_sha = stored_image.key, stored_image.sha256
    strokes_key = strokes_sha = None
    if raw_strokes is not None:
        stored_strokes = await put_bytes(env.files, raw_strokes)
        strokes_key, strokes_sha = stored_strokes.key, stored_strokes.sha256
    signature = AgreementSignature(
        id=new_id("sig"),
        round_id=row.id,
        case_id=case.id,
        signer_id=signer.signer_id,
        actor=actor.label,
        signed_at=now,
        auth_method=auth.value,
        document_sha256=row.document_sha256,
        strokes_key=strokes_key,
        strokes_sha256=strokes_sha,
        image_key=image_key,
        image_sha256=image_sha,
        width=drawing.width if drawing else None,
        height=drawing.height if drawing else None,
        points=drawing.points if drawing else None,
        duration_ms=round(drawing.duration_ms) if drawing else None,
        ip=actor.ip,
        user_agent=actor.user_agent,
    )
    session.add(signature)
    signer.status = "signed"
    await session.flush()
    await trail_store.append_for_round(
        session,
        row,
        at=now,
        actor=actor,
        action=Action.SEALED if signer.kind == "organisation" else Action.SIGNED,
        signer_id=signer.signer_id,
        auth_method=auth.value,
        details={
            "signature_id": signature.id,
            "role": signer.role,
            "image_sha256": image_sha,
            **({"strokes_sha256": strokes_sha} if strokes_sha else {}),
        },
    )
    await _tell_court(
        session, case, row, EventType.AGREEMENT_SIGNED, after, at=now, outcome=None, effective_at=None
    )
    if Event.TOOK_EFFECT in events:
        await _take_effect(session, env, actor, case, row, after)
    return signature


async def _tell_court(
    session: AsyncSession,
    case: Case,
    row: SigningRound,
    event_type: EventType,
    after: Signing,
    *,
    at: datetime,
    outcome: Outcome | None,
    effective_at: datetime | None,
) -> None:
    """The court's webhook about the round's agreement (signed by one more signer, or in effect)."""
    data = agreement_data(
        case_id=case.id,
        agreement_id=row.version_id,
        sha256=row.document_sha256,
        outcome=outcome,
        signed_by=list(after.signed),
        effective_at=effective_at,
    )
    await emit(
        session, court_id=case.court_id, case_id=case.id, event_type=event_type, data=data, occurred_at=at
    )


async def _take_effect(
    session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, row: SigningRound, after: Signing
) -> None:
    """The last required signature landed (OMR 19): the case is AGREED, the court told, the sealer woken."""
    now = env.now()
    row.status = SigningStatus.EFFECTIVE.value
    row.closed_at = row.effective_at = now
    row.evidence_status = "pending"
    case.agreement_effective_at = now
    outcome = Outcome(row.outcome)
    await apply_event(
        session,
        env,
        actor,
        case,
        CaseEvent.SIGNATURES_COMPLETE,
        outcome=outcome,
        data={"round_id": row.id, "version_id": row.version_id, "agreement_sha256": row.document_sha256},
    )
    await trail_store.append_for_round(
        session,
        row,
        at=now,
        actor=actor,
        action=Action.EFFECTIVE,
        details={"outcome": outcome.value, "signed_by": list(after.signed)},
    )
    await _tell_court(
        session, case, row, EventType.AGREEMENT_EFFECTIVE, after, at=now, outcome=outcome, effective_at=now
    )
    mark_effective(session)


async def _prepare(
    session: AsyncSession, case: Case, row: SigningRound, signer: SigningSigner, sha256: str
) -> tuple[Signing, list[Event]]:
    """The pure rules' answer, before anything is written."""
    state, _, _ = await load_state(session, row)
    after, events = sign(state, signer.signer_id, sha256)
    _require_awaiting(case)
    await _require_viewed(session, row, signer.signer_id)
    return after, events


async def sign_as_party(
    session: AsyncSession,
    env: CaseEnv,
    actor: Principal,
    case: Case,
    row: SigningRound,
    signer: SigningSigner,
    data: PartySignatureIn,
    *,
    policy: SigningPolicy,
) -> AgreementSignature:
    drawing = strokes.parse(data.signature)
    after, events = await _prepare(session, case, row, signer, data.document_sha256)
    if data.auth.method == "in_session":
        if not await _verified_in_live_session(session, case.id, signer.signer_id):
            raise InvalidInput(
                "the mediator has not checked your identity in a live session of this case",
                field="auth.method",
                code="in_session_not_verified",
            )
        auth = AuthMethod.IN_SESSION
    else:
        await _check_code(session, env, actor, row, signer, data.auth.code, policy)
        auth = AuthMethod.ONE_TIME_CODE
    image = await asyncio.to_thread(images.signature_png, drawing)
    return await _record(
        session,
        env,
        actor,
        case,
        row,
        signer,
        after=after,
        events=events,
        auth=auth,
        image=image,
        drawing=drawing,
        raw_strokes=strokes.canonical(data.signature),
    )


def _console_signer(signers: list[SigningSigner], kind: str, signer_id: str | None) -> SigningSigner:
    for signer in signers:
        if signer.kind == kind and signer_id is not None and signer.signer_id == signer_id:
            return signer
    raise PermissionDenied("you are not a signer of this round", code="not_a_signer")


async def sign_as_mediator(
    session: AsyncSession,
    env: CaseEnv,
    actor: Principal,
    case: Case,
    row: SigningRound,
    data: MediatorSignatureIn,
) -> AgreementSignature:
    ensure(actor, AgreementAction.SIGN, case)
    drawing = strokes.parse(data.signature)
    _, signers, _ = await load_state(session, row)
    signer = _console_signer(signers, "mediator", actor.mediator_id)
    after, events = await _prepare(session, case, row, signer, data.document_sha256)
    image = await asyncio.to_thread(images.signature_png, drawing)
    return await _record(
        session,
        env,
        actor,
        case,
        row,
        signer,
        after=after,
        events=events,
        auth=AuthMethod.ACCOUNT,
        image=image,
        drawing=drawing,
        raw_strokes=strokes.canonical(data.signature),
    )


async def seal(
    session: AsyncSession,
    env: CaseEnv,
    actor: Principal,
    case: Case,
    row: SigningRound,
    data: SealIn,
    *,
    policy: SigningPolicy,
) -> AgreementSignature:
    """The organisation's electronic seal, by a union user of the case's organisation, after every other
    required signer."""
    ensure(actor, AgreementAction.SEAL, case)
    _, signers, _ = await load_state(session, row)
    seal_signer = next((s for s in signers if s.kind == "organisation"), None)
    if seal_signer is None:
        raise Conflict("this round was requested without the organisation's seal", code="seal_not_required")
    signer = _console_signer(
        signers,
        "organisation",
        seal_signer.signer_id if seal_signer.signer_id in actor.organisation_ids else None,
    )
    after, events = await _prepare(session, case, row, signer, data.document_sha256)
    organisation = await session.get(Organisation, signer.signer_id)
    name = organisation.name if organisation is not None else signer.name
    image = await asyncio.to_thread(images.seal_png, name, policy.font)
    return await _record(
        session,
        env,
        actor,
        case,
        row,
        signer,
        after=after,
        events=events,
        auth=AuthMethod.ACCOUNT,
        image=image,
        drawing=None,
        raw_strokes=None,
    )


async def refuse_as_party(
    session: AsyncSession,
    env: CaseEnv,
    actor: Principal,
    case: Case,
    row: SigningRound,
    signer: SigningSigner,
    data: RefusalIn,
) -> None:
    """A principal party refuses to sign, with a reason: the round ends and the mediation is terminated
    (OMR 25: a party refuses to sign)."""
    if signer.kind != "party" or not signer.required:
        raise PermissionDenied(
            "only a party to the agreement (not an agent) refuses to sign", code="refusal_not_allowed"
        )
    state, _, _ = await load_state(session, row)
    after, _ = refuse(state, signer.signer_id, data.reason)
    _require_awaiting(case)
    assert after.refusal is not None
    now = env.now()
    row.status = SigningStatus.REFUSED.value
    row.closed_at = now
    row.refusal_signer_id = signer.signer_id
    row.refusal_reason = after.refusal.reason
    signer.status = "refused"
    await trail_store.append_for_round(
        session,
        row,
        at=now,
        actor=actor,
        action=Action.REFUSED,
        signer_id=signer.signer_id,
        auth_method=actor.auth_method.value,
        details={"reason": after.refusal.reason},
    )
    await apply_event(
        session,
        env,
        actor,
        case,
        CaseEvent.REFUSE_TO_SIGN,
        note=after.refusal.reason,
        data={"round_id": row.id, "version_id": row.version_id, "signer_id": signer.signer_id},
    )


# --- what a party's link shows ------------------------------------------------------------------------


async def party_view(
    session: AsyncSession, case: Case, row: SigningRound, signer: SigningSigner
) -> PartyRoundOut:
    shown = await round_out(session, row)
    version = await session.get(AgreementVersion, row.version_id)
    organisation = (
        await session.get(Organisation, case.current_organisation_id)
        if case.current_organisation_id
        else None
    )
    assert version is not None
    me: SignerOut = next(s for s in shown.signers if s.id == signer.id)
    methods: list[str] = ["one_time_code"] if signer.phone else []
    if shown.status is SigningStatus.OPEN and await _verified_in_live_session(
        session, case.id, signer.signer_id
    ):
        methods.append("in_session")
    return PartyRoundOut.model_validate(
        {
            "round_id": row.id,
            "case_number": case.case_number,
            "court_name": await court_name(session, case),
            "organisation_name": organisation.name if organisation is not None else "",
            "version_number": version.number,
            "document_sha256": row.document_sha256,
            "document_size": version.pdf_size or 0,
            "order": shown.order,
            "status": shown.status,
            "me": me,
            "phone_masked": mask_phone(signer.phone) if signer.phone else None,
            "auth_methods": methods,
            "viewed": await viewed(session, row, signer.signer_id),
            "signers": shown.signers,
            "sealed": await session.scalar(
                select(SealedAgreement.id).where(SealedAgreement.version_id == row.version_id)
            )
            is not None,
        }
    )
