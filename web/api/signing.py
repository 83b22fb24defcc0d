"""Routes: signing a case's agreement from the console and by court and union systems — requesting
signatures on a frozen version, the rounds, reissuing party links, the document to sign, the mediator's
signature, the organisation's seal, the signatures' images and strokes, and the hash-chained audit trail.

Parties sign through their own links under ``/sign/api`` (:mod:`web.sign_api`). Authorised like the case
(404 outside its scope); within it, see :mod:`agreements.access`.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal, PrincipalKind
from agreements import rounds, signatures, trail_store
from agreements.access import AgreementAction, ensure
from agreements.codes import CodePolicy
from agreements.pdf import DEFAULT_FONT
from agreements.rounds import SigningPolicy
from agreements.service import find_version
from agreements.signing_schemas import (
    MediatorSignatureIn,
    ReissueLinksIn,
    RequestSignaturesIn,
    RoundOut,
    SealIn,
    SigningOut,
    TrailEntryOut,
    TrailOut,
    TrailProblemOut,
    VerificationOut,
)
from agreements.tables import AgreementSignature, AgreementVersion, SigningRound
from agreements.trail import verify
from cases.access import load_case
from cases.tables import Case
from tiaojie.errors import NotFound
from tiaojie.ids import is_id
from web.router import ApiCall, ApiRouter
from web.services import Services

__all__ = [
    "document_response",
    "find_signature",
    "image_response",
    "register",
    "signing_document",
    "signing_policy",
    "trail_out",
]

_BASE = "/cases/{case_id}/agreement"
_ROUND = _BASE + "/signing/{round_id}"


def signing_policy(services: Services) -> SigningPolicy:
    settings = services.settings
    assert settings.secret_key is not None
    return SigningPolicy(
        secret=settings.secret_key,
        base_url=settings.base_url(),
        link_hours=settings.signing_link_hours,
        codes=CodePolicy(
            ttl=timedelta(seconds=settings.signing_code_ttl_seconds),
            max_attempts=settings.signing_code_attempts,
            min_interval=timedelta(seconds=settings.signing_code_interval_seconds),
            per_hour=settings.signing_code_hourly_limit,
        ),
        font=settings.render_font or DEFAULT_FONT,
    )


def document_response(services: Services, version: AgreementVersion, case_id: str) -> web.FileResponse:
    """The frozen PDF exactly as stored, with its hash in ``X-Content-SHA256``."""
    assert version.pdf_key is not None
    return web.FileResponse(
        services.files.path(version.pdf_key),
        headers={
            "Content-Type": "application/pdf",
            "Content-Disposition": f'attachment; filename="agreement-{case_id}-v{version.number}.pdf"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "X-Content-SHA256": version.pdf_sha256 or "",
        },
    )


async def find_signature(session: AsyncSession, row: SigningRound, signature_id: str) -> AgreementSignature:
    found = await session.get(AgreementSignature, signature_id) if is_id(signature_id, "sig") else None
    if found is None or found.round_id != row.id:
        raise NotFound("no such signature", resource="signature")
    return found


def image_response(services: Services, found: AgreementSignature) -> web.FileResponse:
    """A signature's (or the seal's) PNG, with its recorded hash in ``X-Content-SHA256``."""
    return web.FileResponse(
        services.files.path(found.image_key),
        headers={
            "Content-Type": "image/png",
            "Cache-Control": "private, no-store",
            "X-Content-SHA256": found.image_sha256,
        },
    )


async def _signature(call: ApiCall, row: SigningRound) -> AgreementSignature:
    return await find_signature(call.session, row, call.path["signature_id"])


def register(api: ApiRouter) -> None:
    tags = ["signing"]

    @api.route(
        "POST",
        _BASE + "/versions/{version_id}/signing",
        summary="Request signatures on a frozen version",
        tags=tags,
        body=RequestSignaturesIn,
        response=RoundOut,
        status=201,
        errors=(403, 404, 409, 422),
    )
    async def request_agreement_signatures(call: ApiCall) -> RoundOut:
        """Opens a signing round on the frozen version and moves the case to AWAITING_SIGNATURES
        (`request_signatures`; the case must be in mediation). Signers: every principal party (required),
        their agents and legal representatives (optional, countersign), the mediator (required) and, with
        `seal` (default), the organisation's seal, applied last by a union user. `order` is parallel or
        ordered (`sequence` then names the principal parties and the mediator in order). Each party gets a
        personal signing link (answered in `links`, sent by SMS with `notify`). The mediator of the case.
        409 `not_frozen`, `version_superseded`, `illegal_transition`; 422 `outcome_required` (uploaded
        agreement), `outcome_mismatch`, `invalid_sequence`, `sequence_not_ordered`."""
        case = await load_case(call.session, call.principal, call.path["case_id"], for_update=True)
        ensure(call.principal, AgreementAction.SIGN, case)
        version = await find_version(call.session, case, call.path["version_id"])
        return await rounds.request_signatures(
            call.session,
            call.services.cases,
            call.principal,
            case,
            version,
            call.body_as(RequestSignaturesIn),
            policy=signing_policy(call.services),
            notifier=call.services.notifier,
        )

    @api.route(
        "GET",
        _BASE + "/signing",
        summary="The signing rounds",
        tags=tags,
        response=SigningOut,
        errors=(403, 404),
    )
    async def get_agreement_signing(call: ApiCall) -> SigningOut:
        """Every signing round of the case's agreement, oldest first; `current` is the latest. Each lists its
        signers in order, who may sign now, the signatures (time, authentication method, image hash), a
        refusal, and whether the sealing step has taken the evidence. The court, the mediator and the
        union of the case."""
        case = await load_case(call.session, call.principal, call.path["case_id"])
        return await rounds.rounds_out(call.session, call.principal, case)

    @api.route("GET", _ROUND, summary="One signing round", tags=tags, response=RoundOut, errors=(403, 404))
    async def get_signing_round(call: ApiCall) -> RoundOut:
        """One round, as in the list. The court, the mediator and the union of the case."""
        case = await load_case(call.session, call.principal, call.path["case_id"])
        ensure(call.principal, AgreementAction.SEE_SIGNING, case)
        row = await rounds.find_round(call.session, case, call.path["round_id"])
        return await rounds.round_out(call.session, row)

    @api.route(
        "POST",
        _ROUND + "/links",
        summary="Reissue parties' signing links",
        tags=tags,
        body=ReissueLinksIn,
        response=RoundOut,
        errors=(403, 404, 409, 422),
    )
    async def reissue_signing_links(call: ApiCall) -> RoundOut:
        """New links for the parties named (default: every party that has not signed), sent again by SMS
        with `notify`; their older links stop working (401 `link_revoked`). The mediator of the case, while
        the round is open (409 `signing_closed`)."""
        case = await load_case(call.session, call.principal, call.path["case_id"], for_update=True)
        ensure(call.principal, AgreementAction.SIGN, case)
        row = await rounds.find_round(call.session, case, call.path["round_id"])
        return await rounds.reissue_links(
            call.session,
            call.services.cases,
            call.principal,
            case,
            row,
            call.body_as(ReissueLinksIn),
            policy=signing_policy(call.services),
            notifier=call.services.notifier,
        )

    @api.route(
        "GET",
        _ROUND + "/document",
        summary="The document to sign or seal",
        tags=tags,
        raw_response="application/pdf",
        errors=(403, 404),
        writes=True,
    )
    async def download_signing_document(call: ApiCall) -> web.StreamResponse:
        """The round's frozen PDF, byte for byte what is signed; `X-Content-SHA256` is the hash a signature
        must name. Fetching it is recorded in the audit trail (`viewed`), and a signer must have fetched it
        before signing (409 `document_not_viewed`). The court and the mediator of the case, and a union user
        who may seal it (not a union system's key: 403 `seal_needs_user`)."""
        return await signing_document(
            call.session, call.services, call.principal, call.path["case_id"], call.path["round_id"]
        )

    @api.route(
        "POST",
        _ROUND + "/signature",
        summary="Sign as the mediator",
        tags=tags,
        body=MediatorSignatureIn,
        response=RoundOut,
        status=201,
        errors=(403, 404, 409, 413, 422),
    )
    async def sign_agreement_as_mediator(call: ApiCall) -> RoundOut:
        """The mediator's drawn signature on the document whose hash is `document_sha256` (the round's, 422
        `document_hash_mismatch` otherwise), authenticated by the console session (`account`). 409
        `not_your_turn`, `already_signed`, `version_superseded`, `signing_closed`, `document_not_viewed`,
        `case_not_awaiting_signatures`; 422 `malformed_signature`; 413 `payload_too_large`."""
        case = await load_case(call.session, call.principal, call.path["case_id"], for_update=True)
        row = await rounds.find_round(call.session, case, call.path["round_id"])
        await signatures.sign_as_mediator(
            call.session, call.services.cases, call.principal, case, row, call.body_as(MediatorSignatureIn)
        )
        return await rounds.round_out(call.session, row)

    @api.route(
        "POST",
        _ROUND + "/seal",
        summary="Apply the organisation's electronic seal",
        tags=tags,
        body=SealIn,
        response=RoundOut,
        status=201,
        errors=(403, 404, 409, 422),
    )
    async def seal_agreement(call: ApiCall) -> RoundOut:
        """The organisation's seal (a generated round red seal with its name), once every other required
        signer has signed; it makes the agreement effective. A union user of the case's organisation (or a
        union above it) signed in to the console — not a union system's API key (403 `seal_needs_user`). 409
        `seal_not_required`, `not_your_turn` and the signature errors."""
        case = await load_case(call.session, call.principal, call.path["case_id"], for_update=True)
        row = await rounds.find_round(call.session, case, call.path["round_id"])
        await signatures.seal(
            call.session,
            call.services.cases,
            call.principal,
            case,
            row,
            call.body_as(SealIn),
            policy=signing_policy(call.services),
        )
        return await rounds.round_out(call.session, row)

    @api.route(
        "GET",
        _ROUND + "/signatures/{signature_id}/image",
        summary="A signature's image",
        tags=tags,
        raw_response="image/png",
        errors=(403, 404),
    )
    async def download_signature_image(call: ApiCall) -> web.StreamResponse:
        """The drawn signature (or the seal) as PNG; `X-Content-SHA256` is its recorded hash. The court and
        the mediator of the case."""
        case = await load_case(call.session, call.principal, call.path["case_id"])
        ensure(call.principal, AgreementAction.READ, case)
        row = await rounds.find_round(call.session, case, call.path["round_id"])
        return image_response(call.services, await _signature(call, row))

    @api.route(
        "GET",
        _ROUND + "/signatures/{signature_id}/strokes",
        summary="A signature's strokes",
        tags=tags,
        raw_response="application/json",
        errors=(403, 404),
    )
    async def download_signature_strokes(call: ApiCall) -> web.StreamResponse:
        """The strokes as drawn, with their timing (`{"width","height","strokes"}`, canonical JSON, exactly
        the bytes hashed in `X-Content-SHA256`); 404 for the seal, which has none. The court and the mediator
        of the case."""
        case = await load_case(call.session, call.principal, call.path["case_id"])
        ensure(call.principal, AgreementAction.READ, case)
        row = await rounds.find_round(call.session, case, call.path["round_id"])
        found = await _signature(call, row)
        if found.strokes_key is None or found.strokes_sha256 is None:
            raise NotFound("the seal has no strokes", resource="strokes")
        return web.FileResponse(
            call.services.files.path(found.strokes_key),
            headers={
                "Content-Type": "application/json",
                "Cache-Control": "private, no-store",
                "X-Content-SHA256": found.strokes_sha256,
            },
        )

    @api.route(
        "GET",
        _BASE + "/trail",
        summary="The agreement's audit trail",
        tags=tags,
        response=TrailOut,
        errors=(403, 404),
    )
    async def get_agreement_trail(call: ApiCall) -> TrailOut:
        """Every signing step in order — request, links, codes sent, verified and failed, views, signatures,
        refusal, seal, voided rounds, the agreement taking effect — with actor, time, IP, user agent,
        authentication method and document hash, each entry hashed over its fields and the previous entry's
        hash. `verification` checks the chain as stored: `altered`, `broken_link`, `out_of_sequence`. The
        court and the mediator of the case."""
        case = await load_case(call.session, call.principal, call.path["case_id"])
        return await trail_out(call.session, call.principal, case)


async def signing_document(
    session: AsyncSession, services: Services, actor: Principal, case_id: str, round_id: str
) -> web.FileResponse:
    """The round's PDF for a console user or a system, recorded as ``viewed`` (by this round's signer when
    the caller is one): the court and the mediator of the case, and a union user who may seal it."""
    case = await load_case(session, actor, case_id, for_update=True)
    ensure(actor, AgreementAction.SEE_SIGNING, case)
    if actor.kind is PrincipalKind.UNION:  # the document itself: only to whom may seal it
        ensure(actor, AgreementAction.SEAL, case)
    row = await rounds.find_round(session, case, round_id)
    _, signers, _ = await rounds.load_state(session, row)
    signer_id = signatures.console_signer_id(actor, signers, case)
    version = await signatures.view(session, services.cases, actor, case, row, signer_id=signer_id)
    return document_response(services, version, case.id)


async def trail_out(session: AsyncSession, actor: Principal, case: Case) -> TrailOut:
    """The case's agreement trail as stored, and whether its chain holds (the court and the mediator)."""
    ensure(actor, AgreementAction.READ_TRAIL, case)
    chain = await trail_store.entries(session, case.id)
    checked = verify(chain)
    return TrailOut(
        case_id=case.id,
        entries=[
            TrailEntryOut(
                seq=e.seq,
                at=e.at,
                round_id=e.round_id,
                version_id=e.version_id,
                actor_kind=e.actor_kind,
                actor_id=e.actor_id,
                actor=e.actor,
                action=e.action,
                signer_id=e.signer_id,
                auth_method=e.auth_method,
                ip=e.ip,
                user_agent=e.user_agent,
                document_sha256=e.document_sha256,
                details=dict(e.details),
                prev_hash=e.prev_hash,
                entry_hash=e.entry_hash,
            )
            for e in chain
        ],
        verification=VerificationOut(
            intact=checked.intact,
            entries=checked.entries,
            head=checked.head,
            problems=[
                TrailProblemOut.model_validate({"seq": p.seq, "code": p.code}) for p in checked.problems
            ],
        ),
    )
