"""The agreement in the session room over the real protocol (socket.io clients against the in-process
server): the mediator shows the current version, the parties read and comment, a caucus showing stays in
the caucus, bad and out-of-order events get error codes, and the comments are stored and in the console."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import select

from agreements.comment_tables import AgreementComment
from rooms.tables import SessionRecord
from tests.apihelp import PDF, upload_form
from tests.signaling.test_room_protocol import NS, Peer, admitted, close_all, scene  # noqa: F401
from tests.test_console import login, logout_locally
from tests.transcripts.test_room_and_api import code, ok
from web.services import Services

Client = TestClient[Any, Any]


def listen(peer: Peer) -> asyncio.Queue[dict[str, Any]]:
    said: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    peer.sio.on("agreement_comment", said.put_nowait, namespace=NS)
    return said


async def draft(client: Client, scene: dict[str, Any], facts: str = "拖欠工资三个月") -> dict[str, Any]:  # noqa: F811
    response = await client.put(
        f"/api/v1/cases/{scene['case_id']}/agreement/draft",
        json={"facts": facts, "disputed_issues": ["工资数额"], "settlement": "full"},
        headers={"X-CSRF-Token": scene["csrf"]},
    )
    body: dict[str, Any] = await response.json()
    assert response.status == 200, body
    return body


async def test_the_mediator_shows_the_draft_and_the_parties_comment(
    scene: dict[str, Any],  # noqa: F811
    client: Client,
    services: Services,
) -> None:
    peers = await admitted(scene, "worker", "employer")
    mediator, worker, employer = peers["mediator"], peers["worker"], peers["employer"]
    said = {name: listen(peer) for name, peer in peers.items()}
    assert await code(mediator, "agreement_show", {}) == "no_agreement"
    first = await draft(client, scene)

    assert await code(worker, "agreement_show", {"version_id": first["id"]}) == "not_host"
    assert await code(mediator, "agreement_show", {"version_id": "agv_01NOSUCHVERSION0000000000"}) == (
        "unknown_version"
    )
    assert await code(mediator, "agreement_show", {"part": "c9"}) == "unknown_subroom"
    assert await code(worker, "agreement_comment", {"version_id": first["id"], "text": "x"}) == (
        "agreement_not_shown"
    )
    shown = await ok(mediator, "agreement_show", {})  # the current version by default
    assert (shown["version_id"], shown["number"], shown["part"]) == (first["id"], 1, "main")
    for peer in (worker, employer):
        room = await peer.latest_room(lambda r: r["agreement"] is not None)
        assert room["agreement"]["show_id"] == shown["show_id"]
        assert "agreements" not in room  # only the mediator sees every part's showing
    view = (await ok(worker, "agreement_sync"))["agreement"]
    assert (view["status"], view["has_pdf"], view["comments"]) == ("draft", False, [])
    assert view["document"]["title"] == "调解协议书"
    sections = {s["heading"]: s["paragraphs"] for s in view["document"]["sections"]}
    assert sections["主要事实"] == ["拖欠工资三个月"]
    assert sections["争议事项"] == ["一、工资数额"]

    # A comment reaches everyone in the room (the mediator too) and is read back with the showing.
    reply = await ok(worker, "agreement_comment", {"version_id": first["id"], "text": "支付期限太长"})
    for name in ("worker", "employer", "mediator"):
        comment = await asyncio.wait_for(said[name].get(), 5)
        assert (comment["id"], comment["text"], comment["role"]) == (reply["id"], "支付期限太长", "applicant")
        assert (comment["version_id"], comment["number"], comment["part"]) == (first["id"], 1, "main")
    again = (await ok(employer, "agreement_sync"))["agreement"]
    assert [c["text"] for c in again["comments"]] == ["支付期限太长"]

    # Bad and out-of-order comments: too long, NUL, on another version, from the lobby-free mediator.
    assert await code(worker, "agreement_comment", {"version_id": first["id"], "text": "长" * 1001}) == (
        "malformed_message"
    )
    assert await code(worker, "agreement_comment", {"version_id": first["id"], "text": "a\x00b"}) == (
        "malformed_message"
    )
    assert await code(worker, "agreement_comment", {"version_id": "agv_other", "text": "x"}) == (
        "version_not_shown"
    )
    assert (
        await code(mediator, "agreement_comment", {"version_id": first["id"], "text": "x"}) == "not_allowed"
    )

    # An offline PDF becomes the current version: the draft can no longer be shown; the PDF can.
    response = await client.post(
        f"/api/v1/cases/{scene['case_id']}/agreement/uploads",
        data=upload_form(),
        headers={"X-CSRF-Token": scene["csrf"]},
    )
    assert response.status == 201
    upload = await response.json()
    assert await code(mediator, "agreement_show", {"version_id": first["id"]}) == "version_not_current"
    assert await code(worker, "agreement_pdf") == "not_frozen"  # still the draft's showing
    second = await ok(mediator, "agreement_show", {"version_id": upload["id"]})
    assert second["show_id"] != shown["show_id"]
    await worker.latest_room(lambda r: (r["agreement"] or {}).get("show_id") == second["show_id"])
    view = (await ok(worker, "agreement_sync"))["agreement"]
    assert (view["document"], view["has_pdf"], view["comments"]) == (None, True, [])
    pdf = await ok(employer, "agreement_pdf")
    assert pdf["pdf"] == PDF
    assert pdf["sha256"] == hashlib.sha256(PDF).hexdigest() == upload["pdf_sha256"]

    assert (await ok(mediator, "agreement_hide")) == {"ok": True}
    await employer.latest_room(lambda r: r["agreement"] is None)
    assert (await ok(employer, "agreement_sync"))["agreement"] is None
    assert await code(mediator, "agreement_hide") == "agreement_not_shown"
    assert await code(employer, "agreement_pdf") == "agreement_not_shown"
    await close_all(peers)

    # Stored: the comment with its version, author and time; the showings in the session record.
    async with services.db.read() as session:
        [row] = (await session.scalars(select(AgreementComment))).all()
        kinds = [
            k
            for k in (await session.scalars(select(SessionRecord.kind).order_by(SessionRecord.id))).all()
            if k.startswith("agreement_")
        ]
    assert (row.version_id, row.revision, row.part, row.role, row.text) == (
        first["id"],
        1,
        "main",
        "applicant",
        "支付期限太长",
    )
    assert row.participant_id == scene["ids"]["worker"]
    assert row.created_at is not None
    assert kinds == ["agreement_shown", "agreement_commented", "agreement_shown", "agreement_hidden"]

    # The mediator reads it in the console; the court does not.
    logout_locally(client)
    await login(client, "mediator1")
    page = await (await client.get(f"/console/cases/{scene['case_id']}")).text()
    assert "支付期限太长" in page
    logout_locally(client)
    await login(client, "clerk_a")
    page = await (await client.get(f"/console/cases/{scene['case_id']}")).text()
    assert "支付期限太长" not in page


async def test_a_caucus_showing_and_its_comments_stay_in_the_caucus(
    scene: dict[str, Any],  # noqa: F811
    client: Client,
) -> None:
    peers = await admitted(scene, "worker", "employer")
    mediator, worker, employer = peers["mediator"], peers["worker"], peers["employer"]
    said = {name: listen(peer) for name, peer in peers.items()}
    version = await draft(client, scene)
    assert (await mediator.call("open_subroom", {"subroom": "c1", "label": "与申请人背对背"}))["ok"]
    for pid in (scene["ids"]["worker"], scene["ids"]["mediator"]):
        assert (await mediator.call("move", {"participant_id": pid, "subroom": "c1"}))["ok"]
    shown = await ok(mediator, "agreement_show", {"part": "c1"})
    await worker.latest_room(lambda r: (r["agreement"] or {}).get("show_id") == shown["show_id"])
    host_view = await mediator.latest_room(lambda r: "c1" in r.get("agreements", {}))
    assert host_view["agreements"]["c1"]["version_id"] == version["id"]

    # The respondent, left in the main room, sees nothing of it and cannot reach it.
    assert (await ok(employer, "sync"))["room"]["agreement"] is None
    assert (await ok(employer, "agreement_sync"))["agreement"] is None
    assert await code(employer, "agreement_sync", {"part": "c1"}) == "not_host"
    assert await code(employer, "agreement_comment", {"version_id": version["id"], "text": "我也要说"}) == (
        "agreement_not_shown"
    )
    assert await code(employer, "agreement_pdf", {"part": "c1"}) == "not_host"

    assert (await ok(worker, "agreement_comment", {"version_id": version["id"], "text": "只对调解员说"}))[
        "ok"
    ]
    for name in ("worker", "mediator"):
        comment = await asyncio.wait_for(said[name].get(), 5)
        assert (comment["text"], comment["part"]) == ("只对调解员说", "c1")
    await asyncio.sleep(0)
    assert said["employer"].empty()

    # Everyone back in the main room: the caucus showing is gone; a new one in main has no comments.
    assert (await mediator.call("close_subrooms"))["ok"]
    back = await worker.latest_room(lambda r: r["location"] == "main")
    assert back["agreement"] is None
    await ok(mediator, "agreement_show", {"part": "main"})
    view = (await ok(employer, "agreement_sync"))["agreement"]
    assert view["comments"] == []  # the caucus's comments stay with the caucus showing
    await asyncio.sleep(0)
    assert said["employer"].empty()
    await close_all(peers)


async def test_comments_made_while_someone_was_away_are_not_read_back_to_them(
    scene: dict[str, Any],  # noqa: F811
    client: Client,
) -> None:
    """The draft is shown in the main room; the employer is moved to a caucus; the worker comments in the
    main room; the employer comes back: their sync does not include what was said while they were away (the
    worker's and the mediator's do)."""
    peers = await admitted(scene, "worker", "employer")
    mediator, worker, employer = peers["mediator"], peers["worker"], peers["employer"]
    version = await draft(client, scene)
    shown = await ok(mediator, "agreement_show", {"part": "main"})
    await employer.latest_room(lambda r: (r["agreement"] or {}).get("show_id") == shown["show_id"])
    assert (await mediator.call("open_subroom", {"subroom": "c2", "label": "与被申请人背对背"}))["ok"]
    assert (await mediator.call("move", {"participant_id": scene["ids"]["employer"], "subroom": "c2"}))["ok"]
    await employer.latest_room(lambda r: r["location"] == "c2")
    said = "对方不在，我们可以接受五千元"
    assert (await ok(worker, "agreement_comment", {"version_id": version["id"], "text": said}))["ok"]
    assert (await mediator.call("move", {"participant_id": scene["ids"]["employer"], "subroom": "main"}))[
        "ok"
    ]
    back = await employer.latest_room(lambda r: r["location"] == "main")
    assert (back["agreement"] or {}).get("show_id") == shown["show_id"]  # the same showing, still on
    theirs = (await ok(employer, "agreement_sync"))["agreement"]
    assert [c["text"] for c in theirs["comments"]] == []
    mine = (await ok(worker, "agreement_sync"))["agreement"]
    assert [c["text"] for c in mine["comments"]] == [said]
    hosts = (await ok(mediator, "agreement_sync", {"part": "main"}))["agreement"]
    assert [c["text"] for c in hosts["comments"]] == [said]
    await close_all(peers)
