"""The party-facing signing API (``/sign/api``): what a party's signing link opens.

A party has no account. The link ``<base>/sign#<token>`` carries a signed, expiring token bound to one
signer of one round and to the signer's role (:mod:`agreements.links`); the page sends it back as
``Authorization: Bearer <token>`` on every call. The token is the credential: reissuing a party's link
revokes the older one (401 ``link_revoked``), and it stops at its expiry (401 ``link_expired``). The routes
are declared like the REST API's and have their own OpenAPI document at ``/sign/api/openapi.json``.

- ``GET /sign/api/round`` — the document to sign (version, hash, size), where the round stands, the signers,
  how the party can authenticate now;
- ``GET /sign/api/document`` — the frozen PDF exactly as stored (recorded as viewed; needed before signing);
- ``POST /sign/api/code`` — send a one-time code to the party's phone (rate-limited: 429 ``otp_rate_limited``
  with ``Retry-After``);
- ``POST /sign/api/signature`` — sign: the document's hash, the code (or ``in_session``) and the drawing;
- ``POST /sign/api/refusal`` — refuse to sign, with a reason (ends the mediation, OMR 25);
- ``GET /sign/api/sealed`` — once the agreement took effect and was sealed: the sealed PDF.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any
from urllib.parse import quote

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal
from agreements import sealing_service, signatures
from agreements.signing_schemas import CodeSentOut, PartyRoundOut, PartySignatureIn, RefusalIn
from agreements.tables import SigningRound, SigningSigner
from cases import audit
from cases.tables import Case
from rooms.notify import AfterCommit, NotifyFailed
from tiaojie.errors import Unauthenticated
from web.api.signing import document_response, signing_policy
from web.auth import client_ip
from web.errors import error_for
from web.openapi import build_openapi
from web.router import ApiCall, ApiRouter
from web.services import Services

__all__ = ["PREFIX", "build_sign_router", "setup_sign_api"]

PREFIX = "/sign/api"
_SIGNER = web.RequestKey("signer_row_id", str)
SIGN_OPENAPI = web.AppKey("sign_openapi", dict)


async def authenticate_link(request: web.Request, services: Services) -> Principal:
    """The party behind ``Authorization: Bearer <signing link token>``."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("send the signing link's token as 'Authorization: Bearer <token>'")
    async with services.db.read() as session:
        signer, _ = await signatures.authenticate_link(
            session, token.strip(), signing_policy(services), services.cases
        )
    request[_SIGNER] = signer.id
    user_agent = request.headers.get("User-Agent", "")[:300] or None
    return signatures.party_principal(signer, ip=client_ip(request), user_agent=user_agent)


async def _mine(call: ApiCall, *, lock: bool) -> tuple[SigningSigner, SigningRound, Case]:
    return await _mine_in(call.session, call.request[_SIGNER], lock=lock)


async def _mine_in(
    session: AsyncSession, signer_row_id: str, *, lock: bool = False
) -> tuple[SigningSigner, SigningRound, Case]:
    signer = await session.get(SigningSigner, signer_row_id)
    row = await session.get(SigningRound, signer.round_id) if signer is not None else None
    case = await session.get(Case, row.case_id, with_for_update=lock) if row is not None else None
    if signer is None or row is None or case is None:
        raise Unauthenticated("this signing link no longer exists", code="link_invalid")
    return signer, row, case


def build_sign_router() -> ApiRouter:
    api = ApiRouter(PREFIX, authenticator=authenticate_link)
    tags = ["signing"]

    @api.route("GET", "/round", summary="What I am asked to sign", tags=tags, response=PartyRoundOut)
    async def get_my_signing(call: ApiCall) -> PartyRoundOut:
        """The case, the version and its document hash and size, the round's order and status, every signer
        with their status and who may sign now, and how you can authenticate now (`auth_methods`: a one-time
        code to your phone; `in_session` when the mediator checked your identity in this case's live video
        session)."""
        signer, row, case = await _mine(call, lock=False)
        return await signatures.party_view(call.session, case, row, signer)

    @api.route(
        "GET",
        "/document",
        summary="The document to sign",
        tags=tags,
        raw_response="application/pdf",
        writes=True,
    )
    async def download_my_document(call: ApiCall) -> web.StreamResponse:
        """The frozen agreement PDF, byte for byte what you sign; `X-Content-SHA256` is the hash to send when
        signing. Recorded in the audit trail; needed before signing."""
        signer, row, case = await _mine(call, lock=True)
        version = await signatures.view(
            call.session, call.services.cases, call.principal, case, row, signer_id=signer.signer_id
        )
        return document_response(call.services, version, case.id)

    @api.route(
        "POST",
        "/code",
        summary="Send me a one-time code",
        tags=tags,
        response=CodeSentOut,
        errors=(409, 429),
    )
    async def send_signing_code(call: ApiCall) -> CodeSentOut:
        """Six digits to your phone, valid `TIAOJIE_SIGNING_CODE_TTL_SECONDS` (default 5 minutes) for a few
        tries; a new code replaces the old. At most one a minute and five an hour (429 `otp_rate_limited`
        with `Retry-After`). 409 `no_phone`, `not_your_turn`, `already_signed`, `signing_closed`,
        `version_superseded`, `case_not_awaiting_signatures`."""
        signer, row, case = await _mine(call, lock=True)
        sms = AfterCommit(call.services.notifier)  # the gateway is called once the code is stored, not before

        async def deliver() -> None:
            try:
                await sms.deliver()
            except NotifyFailed:
                async with call.services.db.session() as session:  # it never arrived: withdrawn
                    mine, round_row, _ = await _mine_in(session, call.request[_SIGNER])
                    await signatures.withdraw_code(
                        session, call.services.cases, call.principal, round_row, mine
                    )
                raise

        call.after_commit.append(deliver)
        return await signatures.send_code(
            call.session,
            call.services.cases,
            call.principal,
            case,
            row,
            signer,
            policy=signing_policy(call.services),
            notifier=sms,
        )

    @api.route(
        "POST",
        "/signature",
        summary="Sign",
        tags=tags,
        body=PartySignatureIn,
        response=PartyRoundOut,
        status=201,
        errors=(409, 413, 422),
    )
    async def sign_agreement(call: ApiCall) -> Any:
        """Your drawn signature on the document whose SHA-256 is `document_sha256` (422
        `document_hash_mismatch` if it is not this round's), re-confirmed by `auth`: the one-time code (422
        `otp_required`, `otp_wrong` with `attempts_left`, `otp_expired`, `otp_attempts_exhausted`) or
        `in_session` (422 `in_session_not_verified`). 409 `document_not_viewed`, `not_your_turn`,
        `already_signed`, `version_superseded`, `signing_closed`; 422 `malformed_signature`; 413
        `payload_too_large`. Nothing is stored on a refusal, except that a wrong code counts as a try."""
        signer, row, case = await _mine(call, lock=True)
        try:
            await signatures.sign_as_party(
                call.session,
                call.services.cases,
                call.principal,
                case,
                row,
                signer,
                call.body_as(PartySignatureIn),
                policy=signing_policy(call.services),
            )
        except signatures.RecordedFailure as failure:
            return error_for(failure.error)  # answered, and the failed try is committed
        return 201, await signatures.party_view(call.session, case, row, signer)

    @api.route(
        "POST",
        "/refusal",
        summary="Refuse to sign",
        tags=tags,
        body=RefusalIn,
        response=PartyRoundOut,
        errors=(403, 409, 422),
    )
    async def refuse_to_sign(call: ApiCall) -> PartyRoundOut:
        """You refuse to sign, with your reason: the signing ends and the mediation is terminated (OMR 25:
        a party refuses to sign). A principal party only (403 `refusal_not_allowed` for an agent)."""
        signer, row, case = await _mine(call, lock=True)
        await signatures.refuse_as_party(
            call.session, call.services.cases, call.principal, case, row, signer, call.body_as(RefusalIn)
        )
        return await signatures.party_view(call.session, case, row, signer)

    @api.route(
        "GET",
        "/sealed",
        summary="The sealed agreement",
        tags=tags,
        raw_response="application/pdf",
        errors=(404,),
        writes=True,
    )
    async def download_my_sealed_agreement(call: ApiCall) -> web.StreamResponse:
        """The agreement you signed with every signature, the completion certificate and the service's seal,
        once it took effect (404 `not_sealed` before). `X-Content-SHA256` is the file's hash; its verification
        code is printed on the certificate. Each download is in the case's audit trail."""
        _, row, case = await _mine(call, lock=False)
        data = await sealing_service.sealed_pdf(call.session, call.services.files, case.id, row.version_id)
        digest = hashlib.sha256(data).hexdigest()
        await audit.record(
            call.session,
            actor=call.principal,
            at=call.services.clock.now(),
            subject_type="agreement",
            subject_id=row.version_id,
            case_id=case.id,
            action="download_sealed_agreement",
            data={"sha256": digest},
        )
        return web.Response(
            body=data,
            headers={
                "Content-Type": "application/pdf",
                "Content-Disposition": (
                    'attachment; filename="agreement-sealed.pdf"; '
                    f"filename*=UTF-8''{quote(f'调解协议-{case.case_number}-已签章.pdf')}"
                ),
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, no-store",
                "X-Content-SHA256": digest,
            },
        )

    return api


_DESCRIPTION = (
    "Parties sign the mediation agreement through their personal signing link `<base>/sign#<token>`: send "
    "the token as `Authorization: Bearer <token>`. The link is bound to one signer of one signing round."
)


async def _openapi(request: web.Request) -> web.Response:
    return web.Response(
        text=json.dumps(request.app[SIGN_OPENAPI], ensure_ascii=False, indent=1),
        content_type="application/json",
    )


def setup_sign_api(app: web.Application) -> None:
    router = build_sign_router()
    router.setup(app)
    app[SIGN_OPENAPI] = build_openapi(
        router,
        title="tiaojie signing API (parties)",
        description=_DESCRIPTION,
        tags=[{"name": "signing", "description": "Signing the mediation agreement by link"}],
    )
    app.router.add_get(PREFIX + "/openapi.json", _openapi)
