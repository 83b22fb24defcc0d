"""The case page's agreement section (调解协议): the versions, the mediator's draft editor from the labor
template, freezing, the frozen PDF, an offline agreement uploaded as a PDF, and the parties' comments from
the session room.

Everything goes through :mod:`agreements.service` (the same checks as the API). The editor works without a
script: adding or removing an issue or a term re-renders the form with what was typed (nothing is saved);
a save names the version and revision it started from, so a draft changed meanwhile is reported (409) with
the user's text kept in the form. What still stops a draft from being frozen (``problems``) is shown next
to its field. The court sees the versions read-only; the union is not shown the agreement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from accounts.principal import Principal, PrincipalKind
from agreements import comments as comment_store
from agreements import service
from agreements.access import AgreementAction, ensure
from agreements.layout import Layout, layout
from agreements.pdf import DEFAULT_FONT
from agreements.schemas import VersionSummaryOut
from agreements.text import AgreementContent, AgreementText, PaymentMethod, Settlement
from agreements.versions import VersionStatus
from cases.access import load_case
from cases.context import CaseEnv
from cases.lifecycle import CaseState
from cases.tables import Case
from tiaojie.errors import NotFound, PermissionDenied, TiaojieError
from web.api.agreements import pdf_response
from web.console import i18n
from web.console.forms import Form, read_form, text
from web.console.pages import Viewer, error_message, language, redirect, render_error, viewer
from web.errors import status_for
from web.services import SERVICES
from web.uploads import file_part

__all__ = ["AgreementForm", "agreement_context", "register_agreement_routes"]

_BASE = "/console/cases/{case_id}/agreement"
_TERM_FIELDS = ("description", "amount", "due_date", "payment_method")
_FIELD = re.compile(r"^content\.(?:(facts|disputed_issues|unsettled_claims)|terms(?:\.(\d+)\.(\w+))?)$")


@dataclass(slots=True)
class AgreementForm:
    """The editor's values as the user sees them (strings), and where they came from (``based_on``, a
    :func:`agreements.service.version_tag`)."""

    based_on: str
    facts: str = ""
    issues: list[str] = field(default_factory=list)
    terms: list[dict[str, str]] = field(default_factory=list)
    settlement: str = Settlement.FULL.value
    unsettled_claims: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)  # form field -> messages
    message: str | None = None  # a sentence above the form (refusal or notice)
    status: str = "error"  # "error" or "notice": how ``message`` is shown

    @classmethod
    def of(cls, content: AgreementContent, based_on: str) -> AgreementForm:
        return cls(
            based_on=based_on,
            facts=content.facts,
            issues=list(content.disputed_issues),
            terms=[
                {
                    "description": t.description,
                    "amount": f"{t.amount:.2f}" if t.amount is not None else "",
                    "due_date": t.due_date.isoformat() if t.due_date else "",
                    "payment_method": t.payment_method.value if t.payment_method else "",
                }
                for t in content.terms
            ],
            settlement=content.settlement.value,
            unsettled_claims=content.unsettled_claims or "",
        )

    @classmethod
    def posted(cls, form: Form) -> AgreementForm:
        """What was submitted, as typed (nothing trimmed away that the user would miss)."""

        def every(name: str) -> list[str]:
            return [v[:20_001] for v in form.getall(name, []) if isinstance(v, str)]

        columns = [every(f"term_{name}") for name in _TERM_FIELDS]
        rows = max((len(c) for c in columns), default=0)
        terms = [
            {
                name: (column[i] if i < len(column) else "")
                for name, column in zip(_TERM_FIELDS, columns, strict=True)
            }
            for i in range(min(rows, 60))
        ]
        return cls(
            based_on=text(form, "based_on", limit=200) or "none",
            facts=text(form, "facts", strip=False) or "",
            issues=every("issue")[:60],
            terms=terms,
            settlement=text(form, "settlement", limit=20) or Settlement.FULL.value,
            unsettled_claims=text(form, "unsettled_claims", strip=False) or "",
        )

    def content(self) -> AgreementContent:
        """The model the service takes; blank issues and wholly blank terms are left out. Raises
        ValidationError like the API's body would."""
        terms = [
            {name: value.strip() or None for name, value in term.items()}
            for term in self.terms
            if any(value.strip() for value in term.values())
        ]
        return AgreementContent.model_validate(
            {
                "facts": self.facts,
                "disputed_issues": [issue for issue in self.issues if issue.strip()],
                "terms": terms,
                "settlement": self.settlement,
                "unsettled_claims": self.unsettled_claims.strip() or None,
            }
        )

    def blank_term(self) -> None:
        self.terms.append(dict.fromkeys(_TERM_FIELDS, ""))

    def error(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(message)


def _form_field(where: str) -> str:
    """The editor's field for a problem's or a validation error's ``field`` (``content.terms.0.amount``)."""
    match = _FIELD.match(where)
    if match is None:
        return "parties" if where == "parties" else "form"
    simple, index, name = match.groups()
    if simple:
        return "issues" if simple == "disputed_issues" else simple
    return f"term-{index}-{name}" if index is not None else "terms"


def _validation_errors(lang: str, exc: ValidationError, form: AgreementForm) -> None:
    for error in exc.errors(include_input=False, include_url=False):
        loc = [str(part) for part in error["loc"]]
        where = _form_field(".".join(["content", *loc[:1], *loc[1:3]]))
        name = loc[2] if len(loc) >= 3 and loc[0] == "terms" else loc[0] if loc else ""
        if error["type"] == "string_too_long":
            message = i18n.translate(lang, "error.field.too_long")
        elif name in ("amount", "due_date", "payment_method", "settlement"):
            message = i18n.translate(lang, f"agreement.invalid.{name}")
        else:
            message = i18n.translate(lang, "error.422")
        if message not in form.errors.get(where, []):
            form.error(where, message)


def _problems(lang: str, problems: list[Any], form: AgreementForm) -> None:
    for problem in problems:
        key = f"agreement.problem.{problem.code}"
        message = i18n.translate(lang, key) if key in i18n.MESSAGES else problem.message
        form.error(_form_field(problem.field), message)


@dataclass(frozen=True, slots=True)
class VersionRow:
    version: VersionSummaryOut
    pdf_url: str | None


def _drafting_allowed(actor: Principal, case: Case) -> bool:
    try:
        ensure(actor, AgreementAction.DRAFT, case)
    except PermissionDenied:
        return False
    return CaseState(case.state) in service.DRAFTING_STATES


async def agreement_context(
    session: AsyncSession,
    actor: Principal,
    case: Case,
    env: CaseEnv,
    lang: str,
    form: AgreementForm | None,
    case_url: str,
) -> dict[str, Any] | None:
    """What the agreement section shows this user, or None when they may not read the agreement."""
    try:
        out = await service.agreement_out(session, actor, case)
    except PermissionDenied:
        return None
    base = f"{case_url}/agreement"
    versions = [
        VersionRow(v, f"{base}/versions/{v.id}/pdf" if v.status is not VersionStatus.DRAFT else None)
        for v in reversed(out.versions)
    ]
    latest = await service.find_version(session, case, out.current.id) if out.current else None
    current = service.version_out(latest, env) if latest is not None else None
    document: Layout | None = layout(current.text) if current and current.text else None
    may_draft = _drafting_allowed(actor, case)
    if may_draft and form is None:
        tag = service.version_tag(latest)
        form = AgreementForm.of(current.text.content, tag) if current and current.text else AgreementForm(tag)
        if current is not None and current.status is VersionStatus.DRAFT:
            _problems(lang, current.problems, form)
    if form is not None and not form.terms:
        form.blank_term()
    if form is not None and not form.issues:
        form.issues.append("")
    may_comments = actor.kind is PrincipalKind.MEDIATOR  # what parties said in the room: not the court's
    return {
        "base": base,
        "versions": versions,
        "current": current,
        "document": document,
        "may_draft": may_draft,
        "form": form if may_draft else None,
        "message": form.message if form is not None and not may_draft else None,  # a refusal, no editor
        "draft": current if current and current.status is VersionStatus.DRAFT else None,
        "payment_methods": [m.value for m in PaymentMethod],
        "comments": await comment_store.for_case(session, case.id) if may_comments else None,
        "numbers": {v.id: v.number for v in out.versions},
    }


# --- routes --------------------------------------------------------------------------------------------


async def _page(
    request: web.Request, who: Viewer, *, status: int, form: AgreementForm | None = None
) -> web.Response:
    from web.console.case_page import render_case  # the case page includes this section

    return await render_case(request, who, request.match_info["case_id"], status=status, agreement=form)


def _done(request: web.Request, done: str) -> web.Response:
    from web.console.case_page import case_path

    return redirect(f"{case_path(request.match_info['case_id'])}?done={done}#agreement")


async def _refused(
    request: web.Request,
    who: Viewer,
    exc: TiaojieError,
    form: AgreementForm | None = None,
    failed: str = "agreement",
) -> web.Response:
    """404 and 403 as pages; anything else on the case page beside the agreement: with the editor (the
    user's input kept, problems beside their fields) when ``form`` is given."""
    from web.console.case_page import render_case

    lang = language(request)
    if isinstance(exc, NotFound) and exc.code != "unknown_version":
        return render_error(request, 404, i18n.translate(lang, "error.404"), code="not_found", who=who)
    status = status_for(exc)
    if status == 403:
        return render_error(request, 403, error_message(lang, exc), code=exc.code, who=who)
    key = f"agreement.error.{exc.code}"
    message = i18n.translate(lang, key) if key in i18n.MESSAGES else error_message(lang, exc)
    case_id = request.match_info["case_id"]
    if form is None:
        return await render_case(request, who, case_id, status=status, error=message, failed=failed)
    form.message = message
    problems = exc.details.get("problems")
    if isinstance(problems, list):
        for problem in problems:
            form.error(_form_field(str(problem["field"])), _problem_text(lang, problem))
    return await render_case(request, who, case_id, status=status, agreement=form)


def _problem_text(lang: str, problem: dict[str, Any]) -> str:
    key = f"agreement.problem.{problem['code']}"
    return i18n.translate(lang, key) if key in i18n.MESSAGES else str(problem["message"])


def _edit(form: AgreementForm, op: str) -> bool:
    """Add or remove an issue or a term in the form (no save); False for an unknown operation."""
    what, _, index = op.partition(".")
    if what == "add_issue" and len(form.issues) < 50:
        form.issues.append("")
    elif what == "add_term" and len(form.terms) < 50:
        form.blank_term()
    elif what in ("remove_issue", "remove_term") and index.isdigit():
        rows: list[Any] = form.issues if what == "remove_issue" else form.terms
        if int(index) < len(rows):
            del rows[int(index)]
    elif what not in ("add_issue", "add_term"):
        return False
    return True


async def _latest_tag(request: web.Request, who: Viewer) -> str:
    async with request.app[SERVICES].db.read() as session:
        case = await load_case(session, who.principal, request.match_info["case_id"])
        out = await service.agreement_out(session, who.principal, case)
        latest = await service.find_version(session, case, out.current.id) if out.current else None
        return service.version_tag(latest)


async def save_draft(request: web.Request) -> web.StreamResponse:
    posted = await read_form(request)
    who = await viewer(request, csrf=text(posted, "csrf_token", limit=200))
    lang = language(request)
    form = AgreementForm.posted(posted)
    op = text(posted, "op", limit=40) or "save"
    if op != "save":
        if not _edit(form, op):
            form.message = i18n.translate(lang, "error.400")
            return await _page(request, who, status=400, form=form)
        return await _page(request, who, status=200, form=form)
    services = request.app[SERVICES]
    try:
        content = form.content()
        async with services.db.session() as session:
            case = await load_case(session, who.principal, request.match_info["case_id"], for_update=True)
            await service.save_draft(
                session, services.cases, who.principal, case, content, based_on=form.based_on
            )
    except ValidationError as exc:
        form.message = i18n.translate(lang, "agreement.error.invalid")
        _validation_errors(lang, exc, form)
        return await _page(request, who, status=422, form=form)
    except TiaojieError as exc:
        if exc.code == "stale_revision":
            # Keep what the user typed; the next save overwrites the newer draft on purpose.
            form.based_on = await _latest_tag(request, who)
        return await _refused(request, who, exc, form)
    return _done(request, "agreement_saved")


async def prefill(request: web.Request) -> web.StreamResponse:
    """The editor filled from the case (nothing saved until the user saves)."""
    posted = await read_form(request)
    who = await viewer(request, csrf=text(posted, "csrf_token", limit=200))
    lang = language(request)
    services = request.app[SERVICES]
    try:
        async with services.db.read() as session:
            case = await load_case(session, who.principal, request.match_info["case_id"])
            content = await service.prefilled(session, who.principal, case)
        tag = await _latest_tag(request, who)
    except TiaojieError as exc:
        return await _refused(request, who, exc)
    form = AgreementForm.of(content, tag)
    form.message, form.status = i18n.translate(lang, "agreement.prefilled"), "notice"
    return await _page(request, who, status=200, form=form)


async def freeze(request: web.Request) -> web.StreamResponse:
    posted = await read_form(request)
    who = await viewer(request, csrf=text(posted, "csrf_token", limit=200))
    services = request.app[SERVICES]
    revision = text(posted, "revision", limit=12) or ""
    try:
        async with services.db.session() as session:
            case = await load_case(session, who.principal, request.match_info["case_id"], for_update=True)
            ensure(who.principal, AgreementAction.DRAFT, case)
            row = await service.find_version(session, case, request.match_info["version_id"])
            await service.freeze(
                session,
                services.cases,
                who.principal,
                case,
                row,
                revision=int(revision) if revision.isdigit() else -1,
                font=services.settings.render_font or DEFAULT_FONT,
            )
    except TiaojieError as exc:
        form = None
        if exc.code == "agreement_incomplete":
            async with services.db.read() as session:
                case = await load_case(session, who.principal, request.match_info["case_id"])
                row = await service.find_version(session, case, request.match_info["version_id"])
                assert row.text is not None
                form = AgreementForm.of(
                    AgreementText.model_validate(row.text).content, service.version_tag(row)
                )
        return await _refused(request, who, exc, form, failed="agreement_freeze")
    return _done(request, "agreement_frozen")


async def upload(request: web.Request) -> web.StreamResponse:
    services = request.app[SERVICES]
    values, content_type, chunks = await file_part(
        request, services.settings.max_upload_bytes, fields=("csrf_token",)
    )
    who = await viewer(request, csrf=values.get("csrf_token"))
    try:
        async with services.db.session() as session:
            case = await load_case(session, who.principal, request.match_info["case_id"], for_update=True)
            await service.upload(
                session, services.cases, who.principal, case, content_type=content_type, chunks=chunks
            )
    except TiaojieError as exc:
        return await _refused(request, who, exc, failed="agreement_upload")
    return _done(request, "agreement_uploaded")


async def download(request: web.Request) -> web.StreamResponse:
    """A frozen version's PDF: the court and the mediator of the case."""
    who = await viewer(request)
    services = request.app[SERVICES]
    try:
        async with services.db.read() as session:
            case = await load_case(session, who.principal, request.match_info["case_id"])
            ensure(who.principal, AgreementAction.READ, case)
            row = await service.find_version(session, case, request.match_info["version_id"])
            return pdf_response(services.files, case.id, row)
    except NotFound:
        lang = language(request)
        return render_error(request, 404, i18n.translate(lang, "error.404.page"), code="not_found", who=who)


def register_agreement_routes(app: web.Application) -> None:
    app.router.add_post(_BASE + "/draft", save_draft)
    app.router.add_post(_BASE + "/prefill", prefill)
    app.router.add_post(_BASE + "/versions/{version_id}/freeze", freeze)
    app.router.add_post(_BASE + "/uploads", upload)
    app.router.add_get(_BASE + "/versions/{version_id}/pdf", download)
