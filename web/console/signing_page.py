"""The case page's signing part of the agreement section (签署): requesting signatures on a frozen version,
the rounds (each signer's status, when they viewed and signed, how they were authenticated, their signature),
reissuing parties' links, the mediator's own signature (the same signature pad as the parties'), the
organisation's seal by a union user, and the hash-chained trail with its verification.

Everything goes through :mod:`agreements.rounds` and :mod:`agreements.signatures`, so the checks, errors and
trail entries are the API's. Who sees what (:mod:`agreements.access`): the mediator acts; the court reads the
rounds, the signatures and the trail; the union of the case sees the rounds and a union user seals. The
links a request or a reissue issues are shown once, in the answer to that form (like the API's ``links``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal, PrincipalKind
from agreements import rounds, signatures
from agreements.access import AgreementAction, ensure
from agreements.service import find_version
from agreements.signing import Order, SigningStatus
from agreements.signing_schemas import (
    LinkOut,
    MediatorSignatureIn,
    ReissueLinksIn,
    RequestSignaturesIn,
    RoundOut,
    SealIn,
    SignerOut,
    TrailOut,
)
from agreements.tables import AgreementTrailEntry, AgreementVersion
from agreements.text import Settlement
from agreements.trail import Action
from agreements.versions import Source, VersionStatus
from cases.access import load_case
from cases.lifecycle import CaseState
from cases.tables import Case
from tiaojie.errors import InvalidInput, NotFound, PermissionDenied, TiaojieError
from web.api.signing import find_signature, image_response, signing_document, signing_policy, trail_out
from web.console import i18n
from web.console.forms import Form, read_form, text
from web.console.pages import Viewer, error_message, language, redirect, render_error, viewer
from web.errors import invalid_input, status_for
from web.services import SERVICES, Services

__all__ = ["register_signing_routes", "signing_context"]

_BASE = "/console/cases/{case_id}/agreement"
_ROUND = _BASE + "/signing/{round_id}"
_REQUESTING_STATES = frozenset({CaseState.IN_MEDIATION, CaseState.EXTENDED})
_KNOWN = frozenset(k for k in i18n.MESSAGES if k.startswith(("signing.action.", "signing.auth.")))


@dataclass(frozen=True, slots=True)
class SignerRow:
    signer: SignerOut
    viewed_at: datetime | None
    image_url: str | None


@dataclass(frozen=True, slots=True)
class RoundView:
    round: RoundOut
    signers: list[SignerRow]
    names: dict[str, str]  # signer_id -> name
    base: str  # the round's console URL
    mine: SignerOut | None  # this user's signer row (the mediator, or the seal for a union user)
    viewed_by_me: bool
    pending_parties: list[SignerOut]


def _allowed(actor: Principal, action: AgreementAction, case: Case) -> bool:
    try:
        ensure(actor, action, case)
    except PermissionDenied:
        return False
    return True


async def _viewed(session: AsyncSession, round_id: str) -> dict[str, datetime]:
    """When each signer first fetched the round's document."""
    rows = await session.execute(
        select(AgreementTrailEntry.signer_id, func.min(AgreementTrailEntry.at))
        .where(
            AgreementTrailEntry.round_id == round_id,
            AgreementTrailEntry.action == Action.VIEWED.value,
            AgreementTrailEntry.signer_id.is_not(None),
        )
        .group_by(AgreementTrailEntry.signer_id)
    )
    return {signer_id: at for signer_id, at in rows.all() if signer_id is not None}


async def _round_view(
    session: AsyncSession, actor: Principal, case: Case, out: RoundOut, base: str, images: bool
) -> RoundView:
    viewed = await _viewed(session, out.id)
    url = f"{base}/signing/{out.id}"
    mine_id = None
    if out.status is SigningStatus.OPEN:
        _, signers, _ = await rounds.load_state(session, await rounds.find_round(session, case, out.id))
        mine_id = signatures.console_signer_id(actor, signers, case)
    mine = next((s for s in out.signers if mine_id is not None and s.signer_id == mine_id), None)
    return RoundView(
        round=out,
        signers=[
            SignerRow(
                s,
                viewed.get(s.signer_id),
                f"{url}/signatures/{s.signature_id}/image" if images and s.signature_id else None,
            )
            for s in out.signers
        ],
        names={s.signer_id: s.name for s in out.signers},
        base=url,
        mine=mine,
        viewed_by_me=mine is not None and mine.signer_id in viewed,
        pending_parties=[s for s in out.signers if s.kind == "party" and s.status == "pending"],
    )


async def _latest_version(session: AsyncSession, case: Case) -> AgreementVersion | None:
    row: AgreementVersion | None = await session.scalar(
        select(AgreementVersion)
        .where(AgreementVersion.case_id == case.id)
        .order_by(AgreementVersion.number.desc())
        .limit(1)
    )
    return row


async def signing_context(
    session: AsyncSession,
    actor: Principal,
    case: Case,
    case_url: str,
    links: list[LinkOut] | None = None,
) -> dict[str, Any] | None:
    """What the signing part shows this user, or None when they may not see the signing rounds."""
    try:
        out = await rounds.rounds_out(session, actor, case)
    except PermissionDenied:
        return None
    base = f"{case_url}/agreement"
    images = _allowed(actor, AgreementAction.READ, case)
    views = [await _round_view(session, actor, case, r, base, images) for r in reversed(out.rounds)]
    may_sign = _allowed(actor, AgreementAction.SIGN, case)
    latest = await _latest_version(session, case) if may_sign else None
    current = views[0] if views else None
    open_on_latest = (
        current is not None
        and current.round.status is SigningStatus.OPEN
        and latest is not None
        and current.round.version_id == latest.id
    )
    may_request = (
        may_sign
        and latest is not None
        and latest.status == VersionStatus.FROZEN.value
        and not open_on_latest
        and CaseState(case.state) in _REQUESTING_STATES
    )
    trail: TrailOut | None = None
    if views and _allowed(actor, AgreementAction.READ_TRAIL, case):
        trail = await trail_out(session, actor, case)
    return {
        "base": base,
        "current": current,
        "earlier": views[1:],
        "may_sign": may_sign,
        "may_seal": actor.kind is PrincipalKind.UNION and actor.user_id is not None,
        "request": {
            "version": latest,
            "needs_outcome": latest is not None and latest.source == Source.UPLOAD.value,
        }
        if may_request
        else None,
        "orders": [o.value for o in Order],
        "outcomes": [s.value for s in Settlement],
        "links": links,
        "trail": trail,
        "names": {k: v for view in views for k, v in view.names.items()},
        "known": _KNOWN,
    }


# --- routes --------------------------------------------------------------------------------------------


def _done(request: web.Request, done: str) -> web.Response:
    from web.console.case_page import case_path

    return redirect(f"{case_path(request.match_info['case_id'])}?done={done}#signing")


def _message(lang: str, exc: TiaojieError) -> str:
    key = f"signing.error.{exc.code}"
    return i18n.translate(lang, key) if key in i18n.MESSAGES else error_message(lang, exc)


async def _refused(request: web.Request, who: Viewer, exc: TiaojieError) -> web.Response:
    """404 and 403 as pages; anything else on the case page, beside the signing part."""
    from web.console.case_page import render_case

    lang = language(request)
    if isinstance(exc, NotFound) and exc.code != "unknown_round":
        return render_error(request, 404, i18n.translate(lang, "error.404"), code="not_found", who=who)
    status = status_for(exc)
    if status == 403:
        return render_error(request, 403, _message(lang, exc), code=exc.code, who=who)
    return await render_case(
        request,
        who,
        request.match_info["case_id"],
        status=status,
        error=_message(lang, exc),
        failed="signing",
    )


def _checked(form: Form, name: str) -> bool:
    return text(form, name, limit=10) is not None


@dataclass(frozen=True, slots=True)
class _Form:
    """What a signing form's step works with: the transaction, the locked case, the submitted form."""

    session: AsyncSession
    services: Services
    actor: Principal
    case: Case
    request: web.Request
    posted: Form


Step = Callable[[_Form], Awaitable[list[LinkOut] | None]]


async def _act(request: web.Request, step: Step, done: str, *, status: int = 303) -> web.StreamResponse:
    """Run one signing form's ``step`` on the locked case. Links it issued are shown on the case page (with
    ``status``); otherwise back to the case with ``done``. A refusal is shown beside the section."""
    from web.console.case_page import render_case

    posted = await read_form(request)
    who = await viewer(request, csrf=text(posted, "csrf_token", limit=200))
    services = request.app[SERVICES]
    case_id = request.match_info["case_id"]
    try:
        async with services.db.session() as session:
            case = await load_case(session, who.principal, case_id, for_update=True)
            links = await step(_Form(session, services, who.principal, case, request, posted))
    except ValidationError as exc:
        return await _refused(request, who, invalid_input(exc))
    except TiaojieError as exc:
        return await _refused(request, who, exc)
    if links is None:
        return _done(request, done)
    notice = i18n.translate(language(request), f"done.{done}")
    return await render_case(request, who, case_id, status=status, notice=notice, signing_links=links)


async def _request(at: _Form) -> list[LinkOut]:
    data = RequestSignaturesIn.model_validate(
        {
            "order": text(at.posted, "order", limit=20) or Order.PARALLEL.value,
            "seal": _checked(at.posted, "seal"),
            "outcome": text(at.posted, "outcome", limit=20),
            "notify": _checked(at.posted, "notify"),
        }
    )
    ensure(at.actor, AgreementAction.SIGN, at.case)
    version = await find_version(at.session, at.case, at.request.match_info["version_id"])
    out = await rounds.request_signatures(
        at.session,
        at.services.cases,
        at.actor,
        at.case,
        version,
        data,
        policy=signing_policy(at.services),
        notifier=at.services.notifier,
    )
    return out.links or []


async def _reissue(at: _Form) -> list[LinkOut]:
    chosen = [v for v in at.posted.getall("signer_id", []) if isinstance(v, str)][:20]
    data = ReissueLinksIn.model_validate(
        {"signer_ids": chosen or None, "notify": _checked(at.posted, "notify")}
    )
    ensure(at.actor, AgreementAction.SIGN, at.case)
    row = await rounds.find_round(at.session, at.case, at.request.match_info["round_id"])
    out = await rounds.reissue_links(
        at.session,
        at.services.cases,
        at.actor,
        at.case,
        row,
        data,
        policy=signing_policy(at.services),
        notifier=at.services.notifier,
    )
    return out.links or []


def _drawing(posted: Form) -> Any:
    raw = text(posted, "signature", limit=400_000, strip=False)
    if raw is None:
        raise InvalidInput("draw your signature", field="signature", code="signature_missing")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        raise InvalidInput(
            "the signature could not be read", field="signature", code="malformed_signature"
        ) from None


async def _sign(at: _Form) -> None:
    """The mediator's signature drawn on the pad (the form carries its JSON), authenticated by the session."""
    if not _checked(at.posted, "read"):
        raise InvalidInput("confirm that you have read the agreement", field="read", code="read_required")
    sha256 = text(at.posted, "document_sha256", limit=64) or ""
    data = MediatorSignatureIn.model_validate({"document_sha256": sha256, "signature": _drawing(at.posted)})
    row = await rounds.find_round(at.session, at.case, at.request.match_info["round_id"])
    await signatures.sign_as_mediator(at.session, at.services.cases, at.actor, at.case, row, data)


async def _seal(at: _Form) -> None:
    """The organisation's seal, by a union user signed in to the console."""
    data = SealIn.model_validate({"document_sha256": text(at.posted, "document_sha256", limit=64) or ""})
    row = await rounds.find_round(at.session, at.case, at.request.match_info["round_id"])
    await signatures.seal(
        at.session, at.services.cases, at.actor, at.case, row, data, policy=signing_policy(at.services)
    )


async def request_signatures(request: web.Request) -> web.StreamResponse:
    return await _act(request, _request, "signing_requested", status=201)


async def reissue_links(request: web.Request) -> web.StreamResponse:
    return await _act(request, _reissue, "signing_links", status=200)


async def sign(request: web.Request) -> web.StreamResponse:
    return await _act(request, _sign, "signing_signed")


async def seal(request: web.Request) -> web.StreamResponse:
    return await _act(request, _seal, "signing_sealed")


async def document(request: web.Request) -> web.StreamResponse:
    """The round's PDF (recorded as viewed, by the signer when the user is one)."""
    who = await viewer(request)
    services = request.app[SERVICES]
    try:
        async with services.db.session() as session:
            return await signing_document(
                session,
                services,
                who.principal,
                request.match_info["case_id"],
                request.match_info["round_id"],
            )
    except TiaojieError as exc:
        lang = language(request)
        if isinstance(exc, NotFound):
            return render_error(
                request, 404, i18n.translate(lang, "error.404.page"), code="not_found", who=who
            )
        return render_error(request, status_for(exc), _message(lang, exc), code=exc.code, who=who)


async def signature_image(request: web.Request) -> web.StreamResponse:
    """A signature's (or the seal's) PNG: the court and the mediator of the case."""
    who = await viewer(request)
    services = request.app[SERVICES]
    lang = language(request)
    try:
        async with services.db.read() as session:
            case = await load_case(session, who.principal, request.match_info["case_id"])
            ensure(who.principal, AgreementAction.READ, case)
            row = await rounds.find_round(session, case, request.match_info["round_id"])
            found = await find_signature(session, row, request.match_info["signature_id"])
    except NotFound:
        return render_error(request, 404, i18n.translate(lang, "error.404.page"), code="not_found", who=who)
    return image_response(services, found)


def register_signing_routes(app: web.Application) -> None:
    app.router.add_post(_BASE + "/versions/{version_id}/signing", request_signatures)
    app.router.add_post(_ROUND + "/links", reissue_links)
    app.router.add_post(_ROUND + "/signature", sign)
    app.router.add_post(_ROUND + "/seal", seal)
    app.router.add_get(_ROUND + "/document", document)
    app.router.add_get(_ROUND + "/signatures/{signature_id}/image", signature_image)
