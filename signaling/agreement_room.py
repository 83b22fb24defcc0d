"""The agreement in the session room, for the socket.io adapter: the mediator shows the current version in a
part of the room, the people there read it (its text laid out as in the PDF, or the frozen PDF itself) and
the parties comment; the mediator reads every comment, here and in the console.

Decisions are :class:`rooms.showing.Stage`'s; this module reads the versions, stores the comments
(:mod:`agreements.comments`) and the session record, and tells whom it concerns. Agreement text and
comments are confidential: never logged.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from agreements import comments
from agreements.layout import layout
from agreements.tables import AgreementVersion
from agreements.text import AgreementText
from agreements.versions import VersionStatus
from rooms.sessions import record
from rooms.showing import Showing
from rooms.tables import SessionParticipant
from signaling import messages as m
from signaling.hub import Connection, LiveRoom
from tiaojie.errors import Conflict, NotFound, RateLimited
from tiaojie.ids import is_id, new_id

if TYPE_CHECKING:
    from signaling.namespace import RoomNamespace

__all__ = ["AgreementEvents"]

Handler = Callable[[Connection, LiveRoom, Any], Awaitable[dict[str, Any]]]


class AgreementEvents:
    """The handlers of ``agreement_show``, ``agreement_hide``, ``agreement_sync``, ``agreement_pdf`` and
    ``agreement_comment`` (docs/protocol.md, *The agreement in the room*)."""

    def __init__(self, ns: RoomNamespace) -> None:
        self.ns = ns

    def handlers(self) -> dict[type[Any], Handler]:
        return {
            m.AgreementShow: self.show,
            m.AgreementHide: self.hide,
            m.AgreementSync: self.sync,
            m.AgreementPdf: self.pdf,
            m.AgreementComment: self.comment,
        }

    # --- reading versions ---------------------------------------------------------------------------

    async def _version(self, case_id: str, version_id: str | None) -> AgreementVersion:
        """The case's current (latest) version, which ``version_id`` must name if given."""
        async with self.ns.services.db.read() as session:
            latest = await session.scalar(
                select(AgreementVersion.id)
                .where(AgreementVersion.case_id == case_id)
                .order_by(AgreementVersion.number.desc())
                .limit(1)
            )
            if version_id is not None:
                row = await session.get(AgreementVersion, version_id) if is_id(version_id, "agv") else None
                if row is None or row.case_id != case_id:
                    raise NotFound("no such agreement version", code="unknown_version")
                if row.id != latest:
                    raise Conflict("only the current version is shown", code="version_not_current")
                return row
            if latest is None:
                raise NotFound("the case has no agreement yet", code="no_agreement")
            row = await session.get(AgreementVersion, latest)
            assert row is not None
            return row

    async def _shown_version(self, shown: Showing) -> AgreementVersion:
        async with self.ns.services.db.read() as session:
            row = await session.get(AgreementVersion, shown.version_id)
        if row is None:
            raise NotFound("no such agreement version", code="unknown_version")
        return row

    # --- showing ------------------------------------------------------------------------------------

    async def show(self, conn: Connection, live: LiveRoom, msg: m.AgreementShow) -> dict[str, Any]:
        row = await self.ns._db_work(self._version(conn.case_id, msg.version_id))
        async with live.lock:
            shown = live.stage.show(
                live.room,
                conn.participant_id,
                msg.part,
                version_id=row.id,
                number=row.number,
                show_id=new_id("shw"),
            )
        await self.ns._store(conn, "agreement_shown", data={**shown.summary(), "revision": row.revision})
        await self.ns._deliver(live, [])
        return {"ok": True, **shown.summary()}

    async def hide(self, conn: Connection, live: LiveRoom, msg: m.AgreementHide) -> dict[str, Any]:
        async with live.lock:
            shown = live.stage.hide(live.room, conn.participant_id, msg.part)
        await self.ns._store(conn, "agreement_hidden", data=shown.summary())
        await self.ns._deliver(live, [])
        return {"ok": True}

    async def sync(self, conn: Connection, live: LiveRoom, msg: m.AgreementSync) -> dict[str, Any]:
        """The version shown to the sender: its summary, its text laid out (null for an uploaded PDF), and
        the comments of this showing."""
        shown = live.stage.visible_to(live.room, conn.participant_id, msg.part)
        if shown is None:
            return {"ok": True, "agreement": None}
        reader = None if conn.participant_id in live.room.hosts() else conn.participant_id
        return {"ok": True, "agreement": await self.ns._db_work(self._view(shown, reader))}

    async def _view(self, shown: Showing, reader: str | None) -> dict[str, Any]:
        """``reader``: whose comments to give back (those written while they were there); None for the
        mediator, who reads them all."""
        row = await self._shown_version(shown)
        text = AgreementText.model_validate(row.text) if row.text is not None else None
        async with self.ns.services.db.read() as session:
            said = await comments.for_show(session, shown.show_id, reader)
        return {
            **shown.summary(),
            "status": row.status,
            "source": row.source,
            "revision": row.revision,
            "pdf_sha256": row.pdf_sha256,
            "has_pdf": row.pdf_key is not None and row.status != VersionStatus.DRAFT,
            "document": layout(text).as_json() if text is not None else None,
            "comments": [comments.as_json(c, shown.number) for c in said],
        }

    async def pdf(self, conn: Connection, live: LiveRoom, msg: m.AgreementPdf) -> dict[str, Any]:
        """The frozen PDF of the version shown to the sender, as binary data, with its SHA-256."""
        shown = live.stage.visible_to(live.room, conn.participant_id, msg.part)
        if shown is None:
            raise Conflict("no agreement is shown to you", code="agreement_not_shown")
        row = await self.ns._db_work(self._shown_version(shown))
        if row.pdf_key is None or row.status == VersionStatus.DRAFT:
            raise NotFound("the version shown is a draft: it has no PDF yet", code="not_frozen")
        data = await asyncio.to_thread(self.ns.services.files.path(row.pdf_key).read_bytes)
        return {"ok": True, "version_id": row.id, "sha256": row.pdf_sha256, "pdf": data}

    # --- comments -----------------------------------------------------------------------------------

    async def comment(self, conn: Connection, live: LiveRoom, msg: m.AgreementComment) -> dict[str, Any]:
        shown = live.stage.commenting(live.room, conn.participant_id, msg.version_id)
        if not conn.chat.allow(self.ns.monotonic()):
            raise RateLimited("too many messages; slow down", code="rate_limited")
        seat = live.room.seat(conn.participant_id)
        audience = live.stage.audience(live.room, shown) | {conn.participant_id}
        payload = await self.ns._db_work(
            self._store_comment(conn, shown, seat.role.value, msg.text, audience)
        )
        for pid in audience:
            target = live.sids.get(pid)
            if target is not None:
                await self.ns.emit("agreement_comment", payload, to=target)
        return {"ok": True, "id": payload["id"]}

    async def _store_comment(
        self, conn: Connection, shown: Showing, role: str, text: str, audience: frozenset[str]
    ) -> dict[str, Any]:
        now = self.ns.services.clock.now()
        async with self.ns.services.db.session() as session:
            version = await session.get(AgreementVersion, shown.version_id)
            seat = await session.get(SessionParticipant, conn.participant_id)
            if version is None or seat is None:
                raise NotFound("no such agreement version", code="unknown_version")
            row = await comments.add(
                session,
                version,
                session_id=conn.session_id,
                show_id=shown.show_id,
                part=shown.part,
                participant_id=conn.participant_id,
                author=seat.display_name,
                role=role,
                text=text,
                audience=audience,
                now=now,
            )
            await record(
                session,
                session_id=conn.session_id,
                participant_id=conn.participant_id,
                kind="agreement_commented",
                actor=seat.display_name,
                at=now,
                data={"comment_id": row.id, "version_id": version.id, "show_id": shown.show_id},
            )
            return comments.as_json(row, shown.number)
