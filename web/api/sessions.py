"""Routes: scheduling mediation sessions and managing their personal join links."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from cases.access import load_case
from rooms import sessions
from rooms.notify import AfterCommit, Outcomes
from rooms.schemas import SessionCreate, SessionOut
from web.api.sms import sms_after_commit
from web.router import ApiCall, ApiRouter

__all__ = ["register"]


def _invite_after_commit(call: ApiCall, answers: list[SessionOut]) -> AfterCommit:
    """Join links by SMS after the commit: whether each arrived goes into the session's record (the
    ``invitation`` of its participant) and into the answer, once it is in ``answers``."""

    async def record(unit: AsyncSession, outcomes: Outcomes) -> None:
        await sessions.record_invitations(
            unit, outcomes, actor=call.principal.label, at=call.services.clock.now()
        )
        for answer in answers:
            sessions.note_invitations(answer, outcomes)

    return sms_after_commit(call, record)


def register(api: ApiRouter) -> None:
    tags = ["sessions"]
    errors = (403, 404, 409, 422)

    @api.route(
        "POST",
        "/cases/{case_id}/sessions",
        summary="Schedule a video session",
        tags=tags,
        body=SessionCreate,
        response=SessionOut,
        status=201,
        idempotent=True,
        errors=errors,
    )
    async def schedule_session(call: ApiCall) -> SessionOut:
        """The mediator handling the case schedules a session and invites parties, agents and observers.
        The answer carries each person's personal join link (only here and when a link is re-issued)."""
        case = await load_case(call.session, call.principal, call.path["case_id"])
        answers: list[SessionOut] = []
        answer = await sessions.schedule_session(
            call.session,
            call.principal,
            case,
            call.body_as(SessionCreate),
            now=call.services.clock.now(),
            policy=call.services.links,
            notifier=_invite_after_commit(call, answers),
        )
        answers.append(answer)
        return answer

    @api.route(
        "GET",
        "/cases/{case_id}/sessions",
        summary="List a case's sessions",
        tags=tags,
        response=list[SessionOut],
        errors=(404,),
    )
    async def list_sessions(call: ApiCall) -> list[SessionOut]:
        case = await load_case(call.session, call.principal, call.path["case_id"])
        return await sessions.list_sessions(call.session, case)

    @api.route(
        "POST",
        "/cases/{case_id}/sessions/{session_id}/participants/{participant_id}/revoke",
        summary="Revoke a participant's join link",
        tags=tags,
        response=SessionOut,
        errors=errors,
    )
    async def revoke_link(call: ApiCall) -> SessionOut:
        case = await load_case(call.session, call.principal, call.path["case_id"])
        return await sessions.revoke_link(
            call.session,
            call.principal,
            case,
            call.path["session_id"],
            call.path["participant_id"],
            now=call.services.clock.now(),
        )

    @api.route(
        "POST",
        "/cases/{case_id}/sessions/{session_id}/participants/{participant_id}/link",
        summary="Issue a new join link (earlier links stop working)",
        tags=tags,
        response=SessionOut,
        errors=errors,
    )
    async def reissue_link(call: ApiCall) -> SessionOut:
        """Sends it through the notifier when the participant has a phone number."""
        case = await load_case(call.session, call.principal, call.path["case_id"])
        answers: list[SessionOut] = []
        answer = await sessions.reissue_link(
            call.session,
            call.principal,
            case,
            call.path["session_id"],
            call.path["participant_id"],
            now=call.services.clock.now(),
            policy=call.services.links,
            notifier=_invite_after_commit(call, answers),
        )
        answers.append(answer)
        return answer

    @api.route(
        "POST",
        "/cases/{case_id}/sessions/{session_id}/cancel",
        summary="Cancel a session",
        tags=tags,
        response=SessionOut,
        errors=errors,
    )
    async def cancel_session(call: ApiCall) -> SessionOut:
        case = await load_case(call.session, call.principal, call.path["case_id"])
        return await sessions.cancel_session(
            call.session, call.principal, case, call.path["session_id"], now=call.services.clock.now()
        )
