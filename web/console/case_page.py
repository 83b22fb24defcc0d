"""One case: its facts, parties, assignment, time limits, materials and audit trail, and the forms to act.

Each action form posts to ``/console/cases/{id}/<action>`` with the session's CSRF token and goes through
the same domain service as the API (``cases.assignment``, ``cases.progress``). A refusal re-renders the page
with a message in the user's language and the status the API would give (403, 409, 422); a case the user may
not see is 404. Success redirects (303) back to the case, or to the inbox when the user no longer sees it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from accounts.principal import Principal
from accounts.tables import Court, Organisation
from agreements.signing_schemas import LinkOut
from cases import assignment, progress
from cases.access import Action, can, ensure, load_case, sees_case
from cases.audit import events_for
from cases.context import CaseEnv
from cases.lifecycle import CaseState, TerminationReason
from cases.schemas import AcceptIn, DeclineIn, PauseIn, ResumeIn, TerminateIn
from cases.tables import AuditEvent, Case, Material, Mediator
from cases.views import case_out
from cases.vocab import PartyRole, Side
from recordings.schemas import VerifyOut
from tiaojie.errors import NotFound, TiaojieError
from tiaojie.ids import is_id
from web.console import i18n
from web.console.agreement_page import AgreementForm, agreement_context
from web.console.forms import Form, read_form, text
from web.console.pages import INBOX, Viewer, error_message, language, redirect, render, render_error, viewer
from web.console.recording_list import recording_sessions
from web.console.session_links import session_entries
from web.console.signing_page import signing_context
from web.errors import status_for
from web.services import SERVICES

__all__ = [
    "ACTIONS",
    "ActionSpec",
    "case_page",
    "case_path",
    "download_material",
    "register_actions",
    "render_case",
]

Run = Callable[[AsyncSession, CaseEnv, Principal, Case, Any], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """A console form: its URL slug (the name of the domain action in ``allowed_actions``), the form fields
    it reads, the model that validates them and the domain service it runs."""

    slug: str
    model: type[BaseModel] | None
    fields: tuple[str, ...]
    run: Run


async def _accept(session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, data: Any) -> object:
    return await assignment.accept(session, env, actor, case, data.note)


async def _decline(session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, data: Any) -> object:
    return await assignment.decline(session, env, actor, case, data.reason)


async def _begin(session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, data: Any) -> object:
    return await progress.begin_mediation(session, env, actor, case)


async def _suspend(session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, data: Any) -> object:
    return await progress.suspend(session, env, actor, case, data)


async def _resume(session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, data: Any) -> object:
    return await progress.resume(session, env, actor, case, data.note)


async def _terminate(session: AsyncSession, env: CaseEnv, actor: Principal, case: Case, data: Any) -> object:
    return await progress.terminate(session, env, actor, case, data)


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("accept", AcceptIn, ("note",), _accept),
    ActionSpec("decline", DeclineIn, ("reason",), _decline),
    ActionSpec("begin_mediation", None, (), _begin),
    ActionSpec("suspend", PauseIn, ("kind", "reason"), _suspend),
    ActionSpec("resume", ResumeIn, ("note",), _resume),
    ActionSpec("terminate", TerminateIn, ("reason", "note"), _terminate),
)


def case_path(case_id: str) -> str:
    return f"/console/cases/{quote(case_id, safe='')}"


# --- reading -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditLine:
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    reason: str | None


_CLOSING_STATES = frozenset({CaseState.AGREED.value, CaseState.TERMINATED.value})
_REASON_CODES = frozenset(r.value for r in TerminationReason)


def _audit_line(lang: str, event: AuditEvent) -> AuditLine:
    key = f"event.{event.action}"
    action = i18n.translate(lang, key) if key in i18n.MESSAGES else event.action
    reason = event.reason
    if reason and event.to_state in _CLOSING_STATES:
        # A closing entry's reason is "<OMR 25 code>: <note>".
        code, _, note = reason.partition(": ")
        if code in _REASON_CODES:
            label = i18n.reason_label(lang, code)
            reason = (
                i18n.translate(lang, "audit.reason_with_note", reason=label, note=note) if note else label
            )

    recording = event.subject_type == "recording"  # its entries name the recording's states, not the case's

    def state(value: str | None) -> str | None:
        if value is None:
            return None
        key = f"recordings.status.{value}" if recording else f"state.{value}"
        return i18n.translate(lang, key) if key in i18n.MESSAGES else value

    return AuditLine(
        event.at, event.actor_label, action, state(event.from_state), state(event.to_state), reason
    )


def _terminate_reasons(case: Case, lang: str) -> list[tuple[str, str]]:
    """The OMR 25 reasons a termination may give in the case's present state (the domain checks again)."""
    out = []
    for reason in TerminationReason:
        if reason is TerminationReason.AGREEMENT_REACHED:
            continue
        if reason is TerminationReason.REFUSED_TO_SIGN and case.state != CaseState.AWAITING_SIGNATURES:
            continue
        if reason is TerminationReason.PERIOD_EXPIRED and case.accepted_at is None:
            continue
        out.append((reason.value, i18n.reason_label(lang, reason.value)))
    return out


async def _page_context(
    session: AsyncSession, who: Viewer, case_id: str, env: CaseEnv, lang: str
) -> dict[str, Any]:
    actor = who.principal
    case = await load_case(session, actor, case_id)
    out = await case_out(session, case, actor, env)
    court = await session.get(Court, case.court_id)
    mediator = await session.get(Mediator, out.assignment.mediator_id) if out.assignment else None
    organisation = await session.get(Organisation, out.assignment.organisation_id) if out.assignment else None
    may_read = can(actor, Action.READ_MATERIAL, case)
    materials: list[Material] = []
    if may_read:
        materials = list(
            (
                await session.scalars(
                    select(Material).where(Material.case_id == case.id).order_by(Material.created_at)
                )
            ).all()
        )
    events = await events_for(session, case_id=case.id)
    names = {p.id: p.name for p in out.parties}
    # Applicants first; each principal followed by its agents and representatives.
    position = {p.id: index for index, p in enumerate(out.parties)}
    out.parties.sort(
        key=lambda p: (
            p.side is not Side.APPLICANT,
            position.get(p.represents_id or p.id, 0),
            p.role is not PartyRole.PRINCIPAL,
        )
    )
    supported = {spec.slug for spec in ACTIONS}
    return {
        "case": out,
        "case_path": case_path(case.id),
        "court_name": court.name if court else case.court_id,
        "mediator_name": mediator.name if mediator else None,
        "organisation_name": organisation.name if organisation else None,
        "party_names": names,
        "masked": any(p.masked for p in out.parties),
        "may_read_materials": may_read,
        "materials": materials,
        "audit": [_audit_line(lang, e) for e in reversed(events)],
        "actions": [a for a in out.allowed_actions if a in supported],
        "terminate_reasons": _terminate_reasons(case, lang),
        "today": env.today(),
    }


async def render_case(
    request: web.Request,
    who: Viewer,
    case_id: str,
    *,
    status: int = 200,
    error: str | None = None,
    failed: str | None = None,
    values: dict[str, str] | None = None,
    notice: str | None = None,
    verification: tuple[str, VerifyOut] | None = None,
    agreement: AgreementForm | None = None,
    signing_links: list[LinkOut] | None = None,
) -> web.Response:
    """The case page; ``verification`` is a recording's id and the result of checking its files;
    ``agreement`` the agreement editor as submitted (a refused save keeps the user's input);
    ``signing_links`` the parties' signing links just issued (shown once)."""
    services = request.app[SERVICES]
    lang = language(request)
    try:
        async with services.db.read() as session:
            context = await _page_context(session, who, case_id, services.cases, lang)
            case = await load_case(session, who.principal, case_id)
            context["sessions"] = await session_entries(
                session, who.principal, case, secret=services.links.secret, now=services.clock.now()
            )
            context["recordings"] = await recording_sessions(
                session, who.principal, case, context["case_path"]
            )
            context["agreement"] = await agreement_context(
                session, who.principal, case, services.cases, lang, agreement, context["case_path"]
            )
            context["signing"] = await signing_context(
                session, who.principal, case, context["case_path"], signing_links
            )
    except NotFound:
        return render_error(request, 404, i18n.translate(lang, "error.404"), code="not_found", who=who)
    return render(
        request,
        "case.html",
        status=status,
        who=who,
        here=context["case_path"],
        error=error,
        failed=failed,
        values=values or {},
        notice=notice,
        verification=verification,
        **context,
    )


async def case_page(request: web.Request) -> web.StreamResponse:
    who = await viewer(request)
    lang = language(request)
    done = request.query.get("done")
    notice = i18n.translate(lang, f"done.{done}") if done and f"done.{done}" in i18n.MESSAGES else None
    return await render_case(request, who, request.match_info["case_id"], notice=notice)


# --- acting ------------------------------------------------------------------------------------------


def _validation_message(lang: str, exc: ValidationError, slug: str) -> str:
    first = exc.errors(include_input=False, include_url=False)[0]
    field = str(first["loc"][0]) if first["loc"] else ""
    key = f"error.field.{field}.{slug}"
    if first["type"] == "string_too_long":
        return i18n.translate(lang, "error.field.too_long")
    if key in i18n.MESSAGES:
        return i18n.translate(lang, key)
    return i18n.translate(lang, "error.422")


def _values(spec: ActionSpec, form: Form) -> dict[str, str]:
    """The submitted fields as typed, to fill the form in again if the action is refused."""
    return {name: text(form, name, strip=False) or "" for name in spec.fields}


def _validate(spec: ActionSpec, values: dict[str, str]) -> BaseModel | None:
    if spec.model is None:
        return None
    return spec.model.model_validate({name: value.strip() for name, value in values.items() if value.strip()})


def _handler(spec: ActionSpec) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def act(request: web.Request) -> web.StreamResponse:
        form = await read_form(request)
        who = await viewer(request, csrf=text(form, "csrf_token", limit=200))
        lang = language(request)
        case_id = request.match_info["case_id"]
        services = request.app[SERVICES]
        values = _values(spec, form)
        try:
            data = _validate(spec, values)
            async with services.db.session() as session:
                case = await load_case(session, who.principal, case_id, for_update=True)
                await spec.run(session, services.cases, who.principal, case, data)
                await session.flush()
                still_visible = sees_case(who.principal, case)
        except ValidationError as exc:
            message = _validation_message(lang, exc, spec.slug)
            return await render_case(
                request, who, case_id, status=422, error=message, failed=spec.slug, values=values
            )
        except NotFound:
            return render_error(request, 404, i18n.translate(lang, "error.404"), code="not_found", who=who)
        except (TiaojieError, StaleDataError) as exc:
            status = status_for(exc) if isinstance(exc, TiaojieError) else 409
            message = error_message(lang, exc, action=spec.slug)
            return await render_case(
                request, who, case_id, status=status, error=message, failed=spec.slug, values=values
            )
        if still_visible:
            return redirect(f"{case_path(case_id)}?done={spec.slug}")
        return redirect(f"{INBOX}?done={spec.slug}")

    act.__name__ = f"console_{spec.slug}"
    return act


def register_actions(app: web.Application) -> None:
    for spec in ACTIONS:
        app.router.add_post(f"/console/cases/{{case_id}}/{spec.slug}", _handler(spec))


# --- materials -----------------------------------------------------------------------------------------


async def download_material(request: web.Request) -> web.StreamResponse:
    """A case material, only for the court and the mediator handling the case (as the API allows)."""
    who = await viewer(request)
    lang = language(request)
    services = request.app[SERVICES]
    try:
        async with services.db.read() as session:
            case = await load_case(session, who.principal, request.match_info["case_id"])
            ensure(who.principal, Action.READ_MATERIAL, case)
            material_id = request.match_info["material_id"]
            # An id not even shaped like one names nothing (and PostgreSQL refuses NUL in a lookup).
            material = await session.get(Material, material_id) if is_id(material_id, "mat") else None
            if material is None or material.case_id != case.id:
                raise NotFound("material not found", resource="material")
    except NotFound:
        return render_error(request, 404, i18n.translate(lang, "error.404"), code="not_found", who=who)
    except TiaojieError as exc:
        return render_error(request, status_for(exc), error_message(lang, exc), code=exc.code, who=who)
    path = services.files.path(material.storage_key)
    return web.FileResponse(
        path,
        headers={
            "Content-Type": material.content_type,
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(material.filename)}",
            "Cache-Control": "private, no-store",
            "X-Content-SHA256": material.sha256,
        },
    )
