"""The socket.io adapter of the room protocol: authenticate joins, feed the pure room, tell everyone.

Thin on purpose: messages are parsed by :mod:`signaling.messages`, decisions are made by
:class:`rooms.room.Room`, and what happened is stored as session records. After every change each connected
client gets its own view of the room (``room`` event); a connection that must end gets ``closed`` with a
reason code first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any, TypeVar

import socketio
from pydantic import ValidationError

from accounts.principal import AuthMethod, Principal, PrincipalKind
from cases.lifecycle import CaseEvent, CaseState
from cases.tables import Case
from cases.workflow import apply_event
from media.engine import RoomMedia
from rooms.recording_sync import RecordingSync
from rooms.room import PARTY_ROLES, Capability, CloseReason, Event, ParticipantState, Role
from rooms.sessions import JoinContext, record, resolve_join
from rooms.tables import MediationSession, SessionParticipant
from signaling import messages as m
from signaling.agreement_room import AgreementEvents
from signaling.hub import Connection, Hub, LiveRoom
from tiaojie.errors import Conflict, InvalidInput, NotFound, PermissionDenied, RateLimited, TiaojieError
from transcripts import service as transcripts
from transcripts.model import Decision, Reviewer
from web.services import Services
from webhooks.events import EventType, session_data
from webhooks.outbox import emit, emit_for_case

__all__ = ["NAMESPACE", "RoomNamespace"]

log = logging.getLogger(__name__)

NAMESPACE = "/room"
T = TypeVar("T")
_STRIKES_BEFORE_CLOSE = 20
_TRANSCRIPT_MESSAGES = (
    m.TranscriptSync,
    m.TranscriptAdd,
    m.TranscriptEdit,
    m.TranscriptPullChat,
    m.TranscriptSave,
    m.TranscriptOpenReview,
    m.TranscriptReview,
)


def _published_kinds(sdp: str, sources: Mapping[str, str] | None) -> set[Capability]:
    """The rights an offer needs: audio for an audio section, video for the first video section, screen
    for a second one or one labelled ``screen``."""
    wanted: set[Capability] = set()
    videos = 0
    for line in sdp.splitlines():
        if line.startswith("m=audio"):
            wanted.add(Capability.AUDIO)
        elif line.startswith("m=video"):
            videos += 1
            wanted.add(Capability.VIDEO if videos == 1 else Capability.SCREEN)
    if sources and "screen" in sources.values():
        wanted.add(Capability.SCREEN)
    return wanted


def _error(exc: TiaojieError) -> dict[str, Any]:
    body: dict[str, Any] = {"code": exc.code, "message": exc.message}
    field = getattr(exc, "field", None)
    if field:
        body["field"] = field
    for key in ("current_state",):
        if key in exc.details:
            body[key] = exc.details[key]
    return {"ok": False, "error": body}


class RoomNamespace(socketio.AsyncNamespace):  # type: ignore[misc]
    def __init__(
        self,
        services: Services,
        hub: Hub,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        owns: Callable[[str], Awaitable[bool]] | None = None,
        recording: RecordingSync | None = None,
    ) -> None:
        super().__init__(NAMESPACE)
        self.services = services
        self.hub = hub
        self.monotonic = monotonic
        self.owns = owns  # whether this node owns (or may take) a room; None: every room is here
        self.recording = recording  # None: this server cannot record (proposing answers an error)
        self._recording_plans: dict[str, dict[str, frozenset[str]]] = {}  # last plan given, per session
        self._inflight: set[asyncio.Future[Any]] = set()
        self._closed = False
        self._handlers: dict[type[Any], Callable[[Connection, LiveRoom, Any], Awaitable[dict[str, Any]]]] = {
            m.Acknowledge: self._acknowledge,
            m.CheckIdentity: self._check_identity,
            m.Admit: self._admit,
            m.Deny: self._deny,
            m.Remove: self._remove,
            m.Mute: self._mute,
            m.Lock: self._lock,
            m.End: self._end,
            m.OpenSubroom: self._open_subroom,
            m.Move: self._move,
            m.CloseSubrooms: self._close_subrooms,
            m.Chat: self._chat,
            m.Leave: self._leave,
            m.Publish: self._publish,
            m.SubscribeAnswer: self._subscribe_answer,
            m.ProposeRecording: self._propose_recording,
            m.AnswerRecording: self._answer_recording,
            m.StopRecording: self._stop_recording,
            **dict.fromkeys(_TRANSCRIPT_MESSAGES, self._transcript),
            **AgreementEvents(self).handlers(),
        }

    # --- connect and disconnect ---------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _tracked(self) -> AsyncIterator[None]:
        """Refuse new work once shutting down."""
        if self._closed:
            raise Conflict("the server is shutting down", code="server_shutdown")
        yield

    async def _db_work(self, work: Awaitable[T]) -> T:
        """Run database work in a task of its own that the socket's handler being cancelled (the server
        closing websockets) cannot interrupt half-way, and that shutdown waits for."""
        task: asyncio.Task[T] = asyncio.ensure_future(work)
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        return await asyncio.shield(task)

    async def shutdown(self, wait_seconds: float = 5.0) -> None:
        """Close every connection (reason server_shutdown) and wait for handlers still running."""
        self._closed = True
        for sid in list(self.hub.connections):
            conn = self.hub.connections[sid]
            conn.closing = True
            await self.emit("closed", {"reason": CloseReason.SERVER_SHUTDOWN.value, "note": None}, to=sid)
            await self.disconnect(sid)
        if self._inflight:
            await asyncio.wait(list(self._inflight), timeout=wait_seconds)
        for session_id in list(self._recording_plans):
            await self._close_recording(session_id)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        try:
            async with self._tracked():
                return await self._connect(sid, auth)
        except Conflict as exc:
            if exc.code != "server_shutdown":
                raise
            raise socketio.exceptions.ConnectionRefusedError(exc.message, {"code": exc.code}) from None

    async def _connect(self, sid: str, auth: Any) -> bool:
        try:
            hello = m.Hello.model_validate(auth if isinstance(auth, dict) else {})
        except ValidationError:
            raise socketio.exceptions.ConnectionRefusedError(
                "connect with auth {token, protocol: 1}", {"code": "malformed_hello"}
            ) from None
        try:
            ctx, live, previous, events = await self._db_work(self._seat(sid, hello))
        except TiaojieError as exc:
            details = {k: v for k, v in exc.details.items() if isinstance(v, str | int)}
            raise socketio.exceptions.ConnectionRefusedError(
                exc.message, {"code": exc.code, **details}
            ) from None
        await self.enter_room(sid, ctx.session.id)
        if previous is not None and previous != sid:
            await self._close_sid(previous, CloseReason.REPLACED)
        await self._deliver(live, events, exclude=sid)
        return True

    async def _seat(self, sid: str, hello: m.Hello) -> tuple[JoinContext, LiveRoom, str | None, list[Event]]:
        """Check the link, seat its holder in the live room, and record the connection."""
        now = self.services.clock.now()
        async with self.services.db.session() as session:
            ctx = await resolve_join(session, hello.token, secret=self.services.links.secret, now=now)
            if self.owns is not None and not await self.owns(ctx.session.id):
                raise Conflict(
                    "this room lives on another node; connect with ?session=<id>", code="wrong_node"
                )
            live = self._live(ctx.session.id)
            async with live.lock:
                previous = live.sids.get(ctx.participant.id)
                events = live.room.join(
                    ctx.participant.id, ctx.role, ctx.participant.display_name, now=self.monotonic()
                )
                live.sids[ctx.participant.id] = sid
                self.hub.connections[sid] = Connection(
                    sid=sid,
                    session_id=ctx.session.id,
                    participant_id=ctx.participant.id,
                    case_id=ctx.case.id,
                )
            await record(
                session,
                session_id=ctx.session.id,
                participant_id=ctx.participant.id,
                kind="connected",
                actor=ctx.participant.display_name,
                at=now,
                data={"state": live.room.seat(ctx.participant.id).state.value},
            )
            if ctx.role is Role.MEDIATOR:
                await self._session_started(session, ctx.session, ctx.case, ctx.participant)
        return ctx, live, previous, events

    async def _session_started(
        self, session: Any, ms: MediationSession, case: Case, seat: SessionParticipant
    ) -> None:
        if ms.status != "scheduled":
            return
        now = self.services.clock.now()
        ms.status = "live"
        ms.started_at = now
        await emit(
            session,
            court_id=case.court_id,
            case_id=case.id,
            event_type=EventType.SESSION_STARTED,
            data=session_data(case_id=case.id, session_id=ms.id, mode=ms.mode, started_at=now),
            occurred_at=now,
        )
        if case.state == CaseState.ACCEPTED:
            mediator = Principal(
                kind=PrincipalKind.MEDIATOR,
                id=seat.id,
                label=seat.display_name,
                auth_method=AuthMethod.API_KEY,
                mediator_id=seat.mediator_id,
            )
            await apply_event(
                session,
                self.services.cases,
                mediator,
                case,
                CaseEvent.BEGIN_MEDIATION,
                data={"session_id": ms.id},
            )

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        if self._closed:
            self.hub.connections.pop(sid, None)
            return
        async with self._tracked():
            await self._disconnect(sid, reason)

    async def _disconnect(self, sid: str, reason: Any) -> None:
        conn = self.hub.connections.pop(sid, None)
        if conn is None:
            return
        live = self.hub.rooms.get(conn.session_id)
        if live is None:
            return
        async with live.lock:
            if live.sids.get(conn.participant_id) != sid:
                return  # replaced by a newer connection of the same person
            del live.sids[conn.participant_id]
            events = [] if conn.closing else live.room.disconnected(conn.participant_id, now=self.monotonic())
        if events:
            await self._store(conn, "disconnected", data={"reason": str(reason or "")})
        await self._deliver(live, events)
        self.hub.forget_if_empty(conn.session_id)

    # --- events -------------------------------------------------------------------------------------

    async def trigger_event(self, event: str, *args: Any) -> Any:
        if event in ("connect", "disconnect"):
            return await super().trigger_event(event, *args)
        sid = args[0]
        data = args[1] if len(args) > 1 else None
        task = asyncio.current_task()
        if task is not None:
            task.tiaojie_sid = sid  # type: ignore[attr-defined]
        try:
            async with self._tracked():
                return await self._dispatch(sid, event, data)
        except TiaojieError as exc:
            return _error(exc)
        except Exception:
            log.exception("room event %s failed", event)
            return {"ok": False, "error": {"code": "internal_error", "message": "internal error"}}

    async def _dispatch(self, sid: str, event: str, data: Any) -> dict[str, Any]:
        conn = self.hub.connections.get(sid)
        if conn is None or conn.closing:
            raise Conflict("join first", code="not_joined")
        if not conn.events.allow(self.monotonic()):
            conn.strikes += 1
            if conn.strikes >= _STRIKES_BEFORE_CLOSE:
                await self._close_sid(sid, CloseReason.RATE_LIMITED)
            raise RateLimited("too many messages; slow down", code="rate_limited")
        live = self.hub.rooms[conn.session_id]
        if event == "sync":
            first = not conn.ready
            conn.ready = True
            if first and live.media is not None and conn.participant_id in live.media.participants:
                self._spawn(self._renegotiate(live, conn.participant_id))
            return {
                "ok": True,
                "protocol": m.PROTOCOL_VERSION,
                "room": self._view(live, conn.participant_id),
                "ice_servers": self._ice_servers(),
            }
        message = m.parse(event, data)
        handler = self._handlers[type(message)]
        return await handler(conn, live, message)

    async def _apply(
        self,
        conn: Connection,
        live: LiveRoom,
        change: Callable[[], list[Event]],
        kind: str | None,
        data: dict[str, Any] | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Change the room; store what was asked (``kind``) unless the room's own events record it."""
        async with live.lock:
            events = change()
        if kind is not None:
            await self._store(conn, kind, data=data, note=note)
        await self._deliver(live, events)
        return {"ok": True}

    async def _acknowledge(self, conn: Connection, live: LiveRoom, msg: m.Acknowledge) -> dict[str, Any]:
        return await self._apply(
            conn,
            live,
            lambda: live.room.acknowledge(conn.participant_id, consent=msg.consent, warning=msg.warning),
            "acknowledged",
            {"consent_online_mediation": msg.consent, "false_mediation_warning": msg.warning},
        )

    async def _check_identity(self, conn: Connection, live: LiveRoom, msg: m.CheckIdentity) -> dict[str, Any]:
        return await self._apply(
            conn,
            live,
            lambda: live.room.check_identity(
                conn.participant_id, msg.participant_id, method=msg.method, result=msg.result
            ),
            "identity_checked",
            {"participant_id": msg.participant_id, "method": msg.method, "result": msg.result},
            msg.note,
        )

    async def _admit(self, conn: Connection, live: LiveRoom, msg: m.Admit) -> dict[str, Any]:
        return await self._apply(
            conn,
            live,
            lambda: live.room.admit(conn.participant_id, msg.participant_id),
            "admitted",
            {"participant_id": msg.participant_id},
        )

    async def _deny(self, conn: Connection, live: LiveRoom, msg: m.Deny) -> dict[str, Any]:
        return await self._apply(
            conn,
            live,
            lambda: live.room.deny(conn.participant_id, msg.participant_id, msg.reason),
            "denied",
            {"participant_id": msg.participant_id},
            msg.reason,
        )

    async def _remove(self, conn: Connection, live: LiveRoom, msg: m.Remove) -> dict[str, Any]:
        return await self._apply(
            conn,
            live,
            lambda: live.room.remove(conn.participant_id, msg.participant_id, msg.reason),
            "removed",
            {"participant_id": msg.participant_id},
            msg.reason,
        )

    async def _mute(self, conn: Connection, live: LiveRoom, msg: m.Mute) -> dict[str, Any]:
        return await self._apply(
            conn,
            live,
            lambda: live.room.mute(conn.participant_id, msg.participant_id, msg.muted),
            "muted",
            {"participant_id": msg.participant_id, "muted": msg.muted},
        )

    async def _lock(self, conn: Connection, live: LiveRoom, msg: m.Lock) -> dict[str, Any]:
        return await self._apply(
            conn,
            live,
            lambda: live.room.lock(conn.participant_id, msg.locked),
            "locked",
            {"locked": msg.locked},
        )

    async def _end(self, conn: Connection, live: LiveRoom, msg: m.End) -> dict[str, Any]:
        result = await self._apply(conn, live, lambda: live.room.end(conn.participant_id), "ended")
        await self._db_work(self._mark_ended(conn.session_id))
        self.hub.forget_if_empty(conn.session_id)
        return result

    # --- media --------------------------------------------------------------------------------------

    def _live(self, session_id: str) -> LiveRoom:
        live = self.hub.room(session_id)
        if live.media is None:

            async def renegotiate(pid: str) -> None:
                await self._renegotiate(live, pid)

            live.media = RoomMedia(
                session_id, live.room.audience, self.services.media, on_renegotiate=renegotiate
            )
            self.hub.media_totals.watch(live.media)
        return live

    def _ice_servers(self) -> list[dict[str, Any]]:
        return [
            {
                "urls": list(s.urls),
                **({"username": s.username} if s.username else {}),
                **({"credential": s.credential} if s.credential else {}),
            }
            for s in self.services.settings.ice_servers
        ]

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    async def _renegotiate(self, live: LiveRoom, pid: str) -> None:
        """Send the participant the server's next offer on their subscribe connection, if any."""
        media = live.media
        sid = live.sids.get(pid)
        conn = self.hub.connections.get(sid) if sid else None
        if media is None or conn is None or not conn.ready or pid not in media.participants:
            return  # sync sends the first offer; a participant without media needs none
        try:
            offer = await media.subscribe_offer(pid)
        except TiaojieError:
            log.info("no subscribe offer for %s", pid, exc_info=True)
            return
        if offer is not None:
            tracks = {
                mid: {"publisher_id": t.publisher_id, "source": t.source, "kind": t.kind}
                for mid, t in media.subscriptions(pid).items()
            }
            await self.emit("subscribe_offer", {"sdp": offer, "tracks": tracks}, to=sid)

    async def _sync_media(self, live: LiveRoom) -> None:
        """Make the media follow the room: connections for who is present, none for who is not, host
        mutes applied, and each track visible exactly to its audience."""
        media = live.media
        if media is None:
            return
        if live.room.ended:
            live.media = None
            await media.close()
            return
        present = {s.participant_id: s for s in live.room.present()}
        for pid in media.participants - present.keys():
            await media.remove_participant(pid)
        for pid in present.keys() - media.participants:
            await media.add_participant(pid)
        for pid, seat in present.items():
            media.set_muted(pid, "audio", seat.muted_by_host)
        await media.refresh_audience()

    async def _publish(self, conn: Connection, live: LiveRoom, msg: m.Publish) -> dict[str, Any]:
        seat = live.room.seat(conn.participant_id)
        if seat.state.value != "present" or live.media is None:
            raise Conflict("you can send media once admitted", code="not_admitted")
        missing = _published_kinds(msg.sdp, msg.sources) - seat.caps
        if missing:
            raise PermissionDenied(
                f"your role may not send {', '.join(sorted(c.value for c in missing))}", code="not_allowed"
            )
        answer = await live.media.publish_offer(conn.participant_id, msg.sdp, msg.sources)
        await self._sync_recording(live, tracks_changed=True)
        return {"ok": True, "sdp": answer}

    async def _subscribe_answer(
        self, conn: Connection, live: LiveRoom, msg: m.SubscribeAnswer
    ) -> dict[str, Any]:
        if live.media is None or conn.participant_id not in live.media.participants:
            raise Conflict("no offer is waiting for an answer", code="no_offer")
        await live.media.subscribe_answer(conn.participant_id, msg.sdp)
        return {"ok": True}

    async def _mark_ended(self, session_id: str) -> None:
        async with self.services.db.session() as session:
            ms = await session.get(MediationSession, session_id)
            if ms is not None:
                now = self.services.clock.now()
                ms.status = "ended"
                ms.ended_at = now
                ms.end_reason = "ended_by_mediator"
                await emit_for_case(
                    session,
                    case_id=ms.case_id,
                    event_type=EventType.SESSION_ENDED,
                    data=session_data(
                        case_id=ms.case_id,
                        session_id=ms.id,
                        mode=ms.mode,
                        started_at=ms.started_at,
                        ended_at=now,
                        end_reason=ms.end_reason,
                    ),
                    occurred_at=now,
                )

    async def _open_subroom(self, conn: Connection, live: LiveRoom, msg: m.OpenSubroom) -> dict[str, Any]:
        return await self._apply(
            conn,
            live,
            lambda: live.room.open_subroom(conn.participant_id, msg.subroom, msg.label),
            "subroom_opened",
            {"subroom": msg.subroom, "label": msg.label},
        )

    async def _move(self, conn: Connection, live: LiveRoom, msg: m.Move) -> dict[str, Any]:
        return await self._apply(
            conn,
            live,
            lambda: live.room.move(conn.participant_id, msg.participant_id, msg.subroom),
            "moved",
            {"participant_id": msg.participant_id, "subroom": msg.subroom},
        )

    async def _close_subrooms(self, conn: Connection, live: LiveRoom, msg: m.CloseSubrooms) -> dict[str, Any]:
        return await self._apply(
            conn, live, lambda: live.room.close_subrooms(conn.participant_id), "subrooms_closed"
        )

    async def _chat(self, conn: Connection, live: LiveRoom, msg: m.Chat) -> dict[str, Any]:
        seat = live.room.seat(conn.participant_id)
        if Capability.CHAT not in seat.caps or seat.state.value != "present":
            raise PermissionDenied("you cannot chat here", code="chat_not_allowed")
        if not conn.chat.allow(self.monotonic()):
            raise RateLimited("too many messages; slow down", code="rate_limited")
        now = self.services.clock.now()
        record_id = await self._store(conn, "chat", data={"text": msg.text, "subroom": seat.location})
        payload = {
            "id": record_id,
            "from": conn.participant_id,
            "name": seat.name,
            "role": seat.role.value,
            "text": msg.text,
            "subroom": seat.location,
            "at": now.isoformat(),
        }
        for pid in live.room.audience(conn.participant_id) | {conn.participant_id}:
            target = live.sids.get(pid)
            if target is not None:
                await self.emit("chat", payload, to=target)
        return {"ok": True}

    async def _leave(self, conn: Connection, live: LiveRoom, msg: m.Leave) -> dict[str, Any]:
        return await self._apply(conn, live, lambda: live.room.leave(conn.participant_id), "left")

    # --- delivery -----------------------------------------------------------------------------------

    async def _store(
        self, conn: Connection, kind: str, *, data: dict[str, Any] | None = None, note: str | None = None
    ) -> int:
        """Append a session record; its id."""
        return await self._db_work(self._store_now(conn, kind, data=data, note=note))

    async def _store_now(
        self, conn: Connection, kind: str, *, data: dict[str, Any] | None = None, note: str | None = None
    ) -> int:
        async with self.services.db.session() as session:
            seat = await session.get(SessionParticipant, conn.participant_id)
            row = await record(
                session,
                session_id=conn.session_id,
                participant_id=conn.participant_id,
                kind=kind,
                actor=seat.display_name if seat else conn.participant_id,
                at=self.services.clock.now(),
                data=data,
                note=note,
            )
            await session.flush()
            return row.id

    async def _close_sid(self, sid: str, reason: CloseReason, note: str | None = None) -> None:
        """Tell the client why, then end its connection. The connection whose own request causes the close
        (leave, end) must still receive its acknowledgement: it is told now and disconnected by the sweep,
        unless the client, as the protocol asks, disconnects first."""
        conn = self.hub.connections.get(sid)
        if conn is not None:
            conn.closing = True
        await self.emit("closed", {"reason": reason.value, "note": note}, to=sid)
        if sid == self._requester():
            self.hub.lingering.add(sid)
        else:
            await self.disconnect(sid)

    def _requester(self) -> str | None:
        task = asyncio.current_task()
        return getattr(task, "tiaojie_sid", None)

    def _view(self, live: LiveRoom, pid: str) -> dict[str, Any]:
        """``pid``'s view of the room, with what they see of the agreement shown (rooms/showing.py)."""
        return {**live.room.snapshot(pid), **live.stage.view(live.room, pid)}

    async def _deliver(self, live: LiveRoom, events: list[Event], exclude: str | None = None) -> None:
        """Close the connections the events end, then send every ready client its view of the room."""
        for event in events:
            if event.kind == "closed" and event.participant_id is not None:
                sid = live.sids.pop(event.participant_id, None)
                if sid is not None:
                    await self._close_sid(sid, CloseReason(str(event.data["reason"])), event.data.get("note"))  # type: ignore[arg-type]
            elif event.kind == "ended":
                for sid in list(live.sids.values()):
                    await self._close_sid(sid, CloseReason.ROOM_ENDED)
                live.sids.clear()
        for pid, sid in list(live.sids.items()):
            conn = self.hub.connections.get(sid)
            if sid == exclude or conn is None or not conn.ready or conn.closing:
                continue
            if pid in live.room.seats:
                await self.emit("room", self._view(live, pid), to=sid)
        await self._sync_media(live)
        await self._record_recording_events(live, events)
        await self._sync_recording(live)

    async def sweep(self) -> None:
        """Give up seats whose reconnect grace period has passed; end connections told to close."""
        for sid in list(self.hub.lingering):
            self.hub.lingering.discard(sid)
            await self.disconnect(sid)
        for live in list(self.hub.rooms.values()):
            async with live.lock:
                events = live.room.expire(now=self.monotonic())
            if events:
                await self._deliver(live, events)
                self.hub.forget_if_empty(live.room.session_id)

    # --- recording consent (OMR 18) -----------------------------------------------------------------

    async def _propose_recording(
        self, conn: Connection, live: LiveRoom, msg: m.ProposeRecording
    ) -> dict[str, Any]:
        if self.recording is None:
            raise Conflict("this server cannot record sessions", code="recording_unavailable")
        return await self._apply(
            conn, live, lambda: live.room.propose_recording(conn.participant_id, msg.part), None
        )

    async def _answer_recording(
        self, conn: Connection, live: LiveRoom, msg: m.AnswerRecording
    ) -> dict[str, Any]:
        return await self._apply(
            conn, live, lambda: live.room.answer_recording(conn.participant_id, consent=msg.consent), None
        )

    async def _stop_recording(self, conn: Connection, live: LiveRoom, msg: m.StopRecording) -> dict[str, Any]:
        return await self._apply(
            conn, live, lambda: live.room.stop_recording(conn.participant_id, msg.part), None
        )

    async def _record_recording_events(self, live: LiveRoom, events: list[Event]) -> None:
        """Every proposal, answer, start and stop goes into the session record: who (or ``system``), when."""
        wanted = [e for e in events if e.kind.startswith("recording_")]
        if wanted:
            await self._db_work(self._store_recording_events(live, wanted))

    async def _store_recording_events(self, live: LiveRoom, events: list[Event]) -> None:
        now = self.services.clock.now()
        async with self.services.db.session() as session:
            for event in events:
                seat = live.room.seats.get(event.participant_id or "")
                await record(
                    session,
                    session_id=live.room.session_id,
                    participant_id=event.participant_id,
                    kind=event.kind,
                    actor=seat.name if seat else event.participant_id or "system",
                    at=now,
                    data=dict(event.data),
                )

    async def _sync_recording(self, live: LiveRoom, *, tracks_changed: bool = False) -> None:
        """Make the recorder follow the room's recording plan: when the plan changed, or when someone's
        published tracks did (a first publish, a screen share) while anything is being recorded."""
        if self.recording is None:
            return
        session_id = live.room.session_id
        if live.room.ended or not live.room.seats:  # ended, or everyone gone: the room is forgotten
            await self._close_recording(session_id)
            return
        plan = live.room.recording_plan()
        if plan == self._recording_plans.get(session_id, {}) and not (tracks_changed and plan):
            return
        self._recording_plans[session_id] = plan
        await self.recording.sync(session_id, plan, live.room.recording_labels())

    async def _close_recording(self, session_id: str) -> None:
        if self.recording is not None and self._recording_plans.pop(session_id, None) is not None:
            await self.recording.close(session_id)

    # --- the electronic transcript ------------------------------------------------------------------

    async def _transcript(self, conn: Connection, live: LiveRoom, msg: Any) -> dict[str, Any]:
        """The mediator keeps the transcript; the parties present review it. Text never goes to logs."""
        seat = live.room.seat(conn.participant_id)
        if seat.state is not ParticipantState.PRESENT:
            raise Conflict("you can use the transcript once admitted", code="not_admitted")
        keeper = Capability.HOST in seat.caps
        if not keeper and seat.role not in PARTY_ROLES:
            raise PermissionDenied("the transcript is for the mediator and the parties", code="not_allowed")
        if isinstance(msg, m.TranscriptSync):
            return {
                "ok": True,
                "transcript": await self._db_work(self._transcript_view(conn.session_id, keeper)),
            }
        if not keeper and not isinstance(msg, m.TranscriptReview):
            raise PermissionDenied("only the mediator keeps the transcript", code="not_host")
        reviewers = [
            Reviewer(s.participant_id, s.name, s.role.value)
            for s in live.room.present()
            if s.role in PARTY_ROLES
        ]
        answer = await self._db_work(self._transcript_change(conn, seat.name, msg, reviewers))
        await self._push_transcript(live)
        return {"ok": True, **answer}

    async def _transcript_view(self, session_id: str, keeper: bool) -> dict[str, Any]:
        async with self.services.db.read() as session:
            return await transcripts.room_view(session, session_id, keeper=keeper)

    async def _transcript_change(
        self, conn: Connection, actor: str, msg: Any, reviewers: list[Reviewer]
    ) -> dict[str, Any]:
        now = self.services.clock.now()
        async with self.services.db.session() as session:
            ms = await session.get(MediationSession, conn.session_id)
            if ms is None:
                raise NotFound("session not found", resource="session")
            answer: dict[str, Any]
            note = None
            if isinstance(msg, m.TranscriptAdd | m.TranscriptPullChat):
                if isinstance(msg, m.TranscriptAdd):
                    entry = await transcripts.add_entry(
                        session,
                        ms,
                        actor=actor,
                        speaker=msg.speaker,
                        speaker_id=msg.speaker_id,
                        text=msg.text,
                        said_at=msg.at or now,
                        undisputed=msg.undisputed,
                        now=now,
                    )
                else:
                    entry = await transcripts.pull_chat(session, ms, msg.record_id, actor=actor, now=now)
                kind, answer = "transcript_entry_added", {"entry_id": entry.id, "seq": entry.seq}
            elif isinstance(msg, m.TranscriptEdit):
                changes = {
                    ("said_at" if name == "at" else name): getattr(msg, name)
                    for name in msg.model_fields_set - {"entry_id"}
                }
                if not changes or any(changes[k] is None for k in changes.keys() - {"speaker_id"}):
                    raise InvalidInput("say what changes", code="malformed_message", field="entry_id")
                entry = await transcripts.edit_entry(session, ms, msg.entry_id, changes, now=now)
                kind, answer = "transcript_entry_edited", {"entry_id": entry.id, "seq": entry.seq}
            elif isinstance(msg, m.TranscriptSave):
                saved = await transcripts.save_version(session, ms, actor=actor, now=now)
                kind, answer = "transcript_version_saved", {"version": saved.number}
            elif isinstance(msg, m.TranscriptOpenReview):
                opened = await transcripts.open_review(session, ms, msg.version, reviewers, now=now)
                kind = "transcript_review_opened"
                answer = {"version": opened.number, "reviewers": [r.id for r in reviewers]}
            else:
                decision = Decision.CONFIRMED if msg.decision == "confirm" else Decision.DISPUTED
                reviewed = await transcripts.review(
                    session, ms, msg.version, conn.participant_id, decision, msg.comment, now=now
                )
                kind, note = "transcript_reviewed", msg.comment
                answer = {"version": reviewed.number, "decision": decision.value, "status": reviewed.status}
                if reviewed.sha256:
                    answer["sha256"] = reviewed.sha256
            await record(
                session,
                session_id=ms.id,
                participant_id=conn.participant_id,
                kind=kind,
                actor=actor,
                at=now,
                data=answer,
                note=note,
            )
        return answer

    async def _push_transcript(self, live: LiveRoom) -> None:
        """Everyone who sees the transcript gets their fresh view of it."""
        views: dict[bool, dict[str, Any]] = {}
        for pid, sid in list(live.sids.items()):
            seat = live.room.seats.get(pid)
            conn = self.hub.connections.get(sid)
            if seat is None or conn is None or not conn.ready or seat.state is not ParticipantState.PRESENT:
                continue
            keeper = Capability.HOST in seat.caps
            if not keeper and seat.role not in PARTY_ROLES:
                continue
            if keeper not in views:
                views[keeper] = await self._db_work(self._transcript_view(live.room.session_id, keeper))
            await self.emit("transcript", views[keeper], to=sid)
