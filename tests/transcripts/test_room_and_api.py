"""The transcript over the room protocol (real socket.io clients) and read back through the REST API."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Api
from tests.signaling.test_room_protocol import NS, Peer, admitted, close_all, scene  # noqa: F401
from transcripts.canonical import digest

Client = TestClient[Any, Any]


def watch(peer: Peer) -> asyncio.Queue[dict[str, Any]]:
    views: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    peer.sio.on("transcript", views.put_nowait, namespace=NS)
    return views


async def next_view(views: asyncio.Queue[dict[str, Any]], predicate: Any) -> dict[str, Any]:
    while True:
        view = await asyncio.wait_for(views.get(), 5)
        if predicate(view):
            return view


async def ok(peer: Peer, event: str, data: Any = None) -> dict[str, Any]:
    reply = await peer.call(event, data)
    assert reply["ok"], reply
    return reply


async def code(peer: Peer, event: str, data: Any = None) -> str:
    reply = await peer.call(event, data)
    assert not reply["ok"], reply
    return str(reply["error"]["code"])


async def test_mediator_keeps_the_transcript_parties_confirm_it_and_the_court_reads_it(
    scene: dict[str, Any],  # noqa: F811
    api: Api,
    client: Client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    peers = await admitted(scene, "worker", "employer")
    mediator, worker, employer = peers["mediator"], peers["worker"], peers["employer"]
    seen = {name: watch(peer) for name, peer in peers.items()}
    ids = scene["ids"]

    first = await ok(
        mediator,
        "transcript_add",
        {"speaker": "张三（申请人）", "speaker_id": ids["worker"], "text": "拖欠工资三个月"},
    )
    await ok(worker, "chat", {"text": "我要求支付 9000 元"})
    message = await asyncio.wait_for(mediator.chats.get(), 5)
    pulled = await ok(mediator, "transcript_pull_chat", {"record_id": message["id"]})
    assert (first["seq"], pulled["seq"]) == (1, 2)
    await ok(mediator, "transcript_edit", {"entry_id": first["entry_id"], "undisputed": True})
    view = await next_view(
        seen["mediator"], lambda v: len(v["entries"]) == 2 and v["entries"][0]["undisputed"]
    )
    assert [e["source"] for e in view["entries"]] == ["mediator", "chat"]
    assert view["entries"][1]["text"] == "我要求支付 9000 元"
    party_view = (await ok(worker, "transcript_sync"))["transcript"]
    assert party_view == {
        "status": "editing",
        "entries": [],
        "versions": [],
        "current": None,
    }  # drafts stay private

    assert (await ok(mediator, "transcript_save"))["version"] == 1
    opened = await ok(mediator, "transcript_open_review", {"version": 1})
    assert set(opened["reviewers"]) == {ids["worker"], ids["employer"]}
    review = await next_view(seen["worker"], lambda v: v["status"] == "in_review")
    assert [e["text"] for e in review["current"]["entries"]] == ["拖欠工资三个月", "我要求支付 9000 元"]
    assert (
        await code(worker, "transcript_review", {"version": 1, "decision": "dispute"}) == "comment_required"
    )
    disputed = await ok(
        worker, "transcript_review", {"version": 1, "decision": "dispute", "comment": "金额是 9600 元"}
    )
    assert disputed["status"] == "disputed"
    view = await next_view(
        seen["mediator"], lambda v: v["status"] == "editing" and v["current"]["status"] == "disputed"
    )
    assert view["current"]["reviews"][0]["comment"] == "金额是 9600 元"

    await ok(mediator, "transcript_edit", {"entry_id": pulled["entry_id"], "text": "我要求支付 9600 元"})
    await ok(mediator, "transcript_save")
    assert (await ok(mediator, "transcript_open_review"))["version"] == 2  # the latest by default
    assert await code(mediator, "transcript_add", {"speaker": "x", "text": "y"}) == "transcript_in_review"
    assert (await ok(employer, "transcript_review", {"version": 2, "decision": "confirm"}))[
        "status"
    ] == "in_review"
    locked = await ok(worker, "transcript_review", {"version": 2, "decision": "confirm"})
    assert locked["status"] == "locked"
    final = await next_view(seen["employer"], lambda v: v["status"] == "locked")
    assert final["current"]["sha256"] == locked["sha256"]
    assert final["current"]["sha256"] == digest(scene["session_id"], 2, final["current"]["entries"])
    assert (
        await code(mediator, "transcript_edit", {"entry_id": first["entry_id"], "text": "改"})
        == "transcript_locked"
    )
    await close_all(peers)

    # The court of the case, the mediator (console cookie) and the union read it; another court cannot.
    base = f"/cases/{scene['case_id']}/sessions/{scene['session_id']}/transcript"
    listed = await api.as_("court_a").get(base, expect=200)
    assert listed["status"] == "locked"
    assert [(v["number"], v["status"]) for v in listed["versions"]] == [(1, "disputed"), (2, "locked")]
    body = await api.as_("union1").get(base + "/locked", expect=200)
    assert body["sha256"] == locked["sha256"]
    assert body["entries"][0]["undisputed"] is True
    assert [r["decision"] for r in body["reviews"]] == ["confirmed", "confirmed"]
    response = await client.get("/api/v1" + base + "/versions/" + listed["versions"][0]["id"])
    assert response.status == 200, await response.text()
    assert (await response.json())["reviews"][0]["decision"] == "disputed"
    for path in (base, base + "/locked", base + "/versions/" + body["id"]):
        assert (await api.as_("court_b").get(path, expect=404))["error"]["code"] == "not_found"
    assert body["id"] == listed["versions"][1]["id"]
    missing = await api.as_("court_a").get(base + "/versions/trv_01M8HZBVP3MB415T4J0K38ABCD", expect=404)
    assert missing["error"]["code"] == "unknown_version"
    await api.as_("court_a").get(base + "/versions/2", expect=404)
    other = f"/cases/{scene['case_id']}/sessions/ses_nothing/transcript"
    await api.as_("court_a").get(other, expect=404)


async def test_transcript_messages_out_of_order_and_malformed(
    scene: dict[str, Any],  # noqa: F811
    api: Api,
) -> None:
    peers = await admitted(scene, "worker")
    mediator, worker = peers["mediator"], peers["worker"]
    assert await code(worker, "transcript_add", {"speaker": "x", "text": "y"}) == "not_host"
    assert await code(worker, "transcript_review", {"version": 1, "decision": "confirm"}) == "unknown_version"
    assert await code(mediator, "transcript_save") == "transcript_empty"
    assert await code(mediator, "transcript_open_review", {"version": 1}) == "unknown_version"
    assert await code(mediator, "transcript_open_review") == "transcript_empty"
    assert await code(mediator, "transcript_pull_chat", {"record_id": 1}) == "unknown_chat_message"
    assert await code(mediator, "transcript_edit", {"entry_id": "tre_x", "text": "y"}) == "unknown_entry"
    bad = [
        ("transcript_add", {"speaker": "x", "text": "a\x00b"}),
        ("transcript_add", {"speaker": "x", "text": ""}),
        ("transcript_add", {"speaker": "x", "text": "y", "at": "2026-03-02T09:00:00"}),  # no offset
        ("transcript_add", {"speaker": "x" * 101, "text": "y"}),
        ("transcript_edit", {"entry_id": "tre_x"}),
        ("transcript_edit", {"entry_id": "tre_x", "text": None}),
        ("transcript_pull_chat", {"record_id": "one"}),
        ("transcript_review", {"version": 1, "decision": "maybe"}),
        ("transcript_open_review", {"version": -1}),
    ]
    for event, data in bad:
        assert await code(mediator, event, data) == "malformed_message", (event, data)
    entry = await ok(
        mediator, "transcript_add", {"speaker": "调解员", "text": "开始", "at": "2026-03-02T09:00:00+08:00"}
    )
    await ok(mediator, "transcript_save")
    assert await code(mediator, "transcript_review", {"version": 1, "decision": "confirm"}) == "not_in_review"
    await ok(mediator, "transcript_open_review", {"version": 1})
    assert (
        await code(mediator, "transcript_review", {"version": 1, "decision": "confirm"}) == "not_a_reviewer"
    )
    assert await code(mediator, "transcript_open_review", {"version": 1}) == "transcript_in_review"
    await ok(worker, "transcript_review", {"version": 1, "decision": "confirm"})
    assert await code(worker, "transcript_review", {"version": 1, "decision": "confirm"}) == "not_in_review"
    assert (
        await code(mediator, "transcript_edit", {"entry_id": entry["entry_id"], "text": "y"})
        == "transcript_locked"
    )
    locked = await api.as_("court_a").get(
        f"/cases/{scene['case_id']}/sessions/{scene['session_id']}/transcript/locked", expect=200
    )
    assert locked["entries"][0]["at"].startswith("2026-03-02T01:00:00")
    await close_all(peers)


async def test_before_a_lock_the_api_says_so(scene: dict[str, Any], api: Api) -> None:  # noqa: F811
    base = f"/cases/{scene['case_id']}/sessions/{scene['session_id']}/transcript"
    assert (await api.as_("court_a").get(base, expect=200)) == {
        "session_id": scene["session_id"],
        "status": "editing",
        "versions": [],
    }
    assert (await api.as_("court_a").get(base + "/locked", expect=404))["error"][
        "code"
    ] == "transcript_not_locked"
