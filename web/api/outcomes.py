"""Routes: recording a case's outcome, the report to the court and its acknowledgement, and judicial
confirmation."""

from __future__ import annotations

from accounts.principal import PrincipalKind
from cases import judicial, outcomes
from cases.access import load_case
from cases.outcome_schemas import (
    AcknowledgeIn,
    JcApplicationOut,
    JcResultIn,
    JcStartIn,
    OutcomeIn,
    ReportOut,
    UnacknowledgedOut,
    UnacknowledgedQuery,
)
from cases.tables import Case
from tiaojie.errors import NotFound, PermissionDenied
from web.api.sms import sms_after_commit
from web.router import ApiCall, ApiRouter
from web.services import Services

__all__ = ["link_policy", "register"]


async def _case(call: ApiCall, *, for_update: bool = False) -> Case:
    return await load_case(call.session, call.principal, call.path["case_id"], for_update=for_update)


def link_policy(services: Services) -> judicial.LinkPolicy:
    """How confirmation links are signed and where they point."""
    assert services.settings.secret_key is not None
    return judicial.LinkPolicy(services.settings.secret_key, services.settings.base_url())


def register(api: ApiRouter) -> None:
    tags = ["outcomes"]
    errors = (403, 404, 409, 422)

    @api.route(
        "POST",
        "/cases/{case_id}/outcome",
        summary="Record the outcome and report it to the court",
        tags=tags,
        body=OutcomeIn,
        response=ReportOut,
        status=201,
        errors=errors,
    )
    async def record_outcome(call: ApiCall) -> ReportOut:
        """The mediator, once per case: `agreed` (full or partial, with the signed agreement uploaded as a
        material; for a 委托 case whether the parties ask for a 调解书 or the plaintiff withdraws) or
        `terminated` with one OMR 25 reason and the OMR 21 report. A case still under mediation is closed
        first. The court receives `case.closed` and `case.reported` webhooks."""
        case = await _case(call, for_update=True)
        report = await outcomes.record_outcome(
            call.session, call.services.cases, call.principal, case, call.body_as(OutcomeIn)
        )
        return outcomes.report_out(case, report, call.services.cases)

    @api.route(
        "GET",
        "/cases/{case_id}/outcome",
        summary="The reported outcome",
        tags=tags,
        response=ReportOut,
        errors=(404,),
    )
    async def get_outcome(call: ApiCall) -> ReportOut:
        case = await _case(call)
        report = await outcomes.load_report(call.session, call.principal, case)
        return outcomes.report_out(case, report, call.services.cases)

    @api.route(
        "POST",
        "/cases/{case_id}/outcome/acknowledge",
        summary="Acknowledge receipt of the result",
        tags=tags,
        body=AcknowledgeIn,
        response=ReportOut,
        errors=errors,
    )
    async def acknowledge_outcome(call: ApiCall) -> ReportOut:
        """The court of the case. For an agreed 委托 case the parties' request in the report (调解书 or
        withdrawal) then stands."""
        case = await _case(call, for_update=True)
        report = await outcomes.acknowledge(
            call.session, call.services.cases, call.principal, case, call.body_as(AcknowledgeIn).note
        )
        return outcomes.report_out(case, report, call.services.cases)

    @api.route(
        "GET",
        "/outcomes/unacknowledged",
        summary="Results not yet acknowledged by the court",
        tags=tags,
        query=UnacknowledgedQuery,
        response=list[UnacknowledgedOut],
    )
    async def list_unacknowledged(call: ApiCall) -> list[UnacknowledgedOut]:
        """Oldest first, among the cases the caller sees (a court: its own; a mediator or union: theirs)."""
        return await outcomes.unacknowledged(
            call.session, call.services.cases, call.principal, call.query_as(UnacknowledgedQuery).limit
        )

    @api.route(
        "POST",
        "/cases/{case_id}/judicial-confirmation",
        summary="Start a joint application for judicial confirmation",
        tags=tags,
        body=JcStartIn,
        response=JcApplicationOut,
        status=201,
        errors=errors,
    )
    async def start_judicial_confirmation(call: ApiCall) -> JcApplicationOut:
        """CPL 205: within 30 days of the agreement taking effect, both parties apply jointly to the court
        that invited the mediator. Each principal party gets a signed link to confirm in the browser (in the
        answer, and by SMS once the application is stored: a refusing gateway undoes nothing);
        the application reaches the court (`judicial_confirmation.applied`) once all have confirmed. Started
        by the mediator of an agreed 委派 case, or by the court for an uploaded offline agreement."""
        case = await _case(call, for_update=True)
        return await judicial.start(
            call.session,
            call.services.cases,
            call.principal,
            case,
            call.body_as(JcStartIn),
            policy=link_policy(call.services),
            notifier=sms_after_commit(call),
        )

    @api.route(
        "GET",
        "/cases/{case_id}/judicial-confirmation",
        summary="The application for judicial confirmation",
        tags=tags,
        response=JcApplicationOut,
        errors=(403, 404),
    )
    async def get_judicial_confirmation(call: ApiCall) -> JcApplicationOut:
        """With the parties' identity and contact details: for the court and the mediator of the case."""
        case = await _case(call)
        if call.principal.kind not in (PrincipalKind.COURT, PrincipalKind.MEDIATOR):
            raise PermissionDenied("only the court and the mediator see the application", code="forbidden")
        application = await judicial.current_application(call.session, case)
        if application is None:
            raise NotFound("no application for judicial confirmation", resource="jc_application")
        return await judicial.application_out(call.session, call.services.cases, case, application)

    @api.route(
        "POST",
        "/cases/{case_id}/judicial-confirmation/result",
        summary="Record the court's decision on judicial confirmation",
        tags=tags,
        body=JcResultIn,
        response=JcApplicationOut,
        errors=errors,
    )
    async def record_judicial_confirmation_result(call: ApiCall) -> JcApplicationOut:
        """`confirmed`, `rejected` (with the reason) or `withdrawn`."""
        case = await _case(call, for_update=True)
        return await judicial.record_result(
            call.session, call.services.cases, call.principal, case, call.body_as(JcResultIn)
        )
