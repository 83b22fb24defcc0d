"""The media engine with real aiortc peers on loopback: who receives whose media, and that it decodes.

Every publisher's camera is browser-like (:class:`~tests.media_engine.clients.PliCamera`): it makes
keyframes only first and on a PLI, so a viewer that decodes anything after joining, resuming or merging
proves that the engine relayed a keyframe request upstream.
"""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from aiortc.rtp import AnyRtcpPacket, RtcpSrPacket

from media.aiortc_hooks import observe_rtcp
from media.codecs import Codec, vp8_is_frame_start, vp8_picture_ids
from media.rtcp import ntp_to_unix
from media.rtp import RtpHeader
from rooms.room import MAIN, Role, Room
from tests.media_engine.clients import VIDEO_CLOCK, Client, Harness, PliCamera
from tests.media_engine.conftest import Groups, HarnessFactory

PEOPLE = ("alice", "bob", "carol")


def camera(client: Client) -> PliCamera:
    assert isinstance(client.camera, PliCamera)
    return client.camera


def total_frames(client: Client) -> int:
    return sum(client.frames.values())


def frames_on(client: Client, mids: set[str]) -> int:
    return sum(client.frames[mid] for mid in mids)


async def see_each_other(harness: Harness, clients: dict[str, Client], frames: int, audio: int = 0) -> None:
    def done() -> bool:
        return all(
            viewer.seen(publisher, "camera") >= frames and viewer.seen(publisher, "audio") >= audio
            for viewer in clients.values()
            for publisher in clients
            if publisher != viewer.pid
        )

    await harness.until(done)


@pytest.mark.timeout(30)
async def test_three_participants_each_decode_the_other_two(make_harness: HarnessFactory) -> None:
    harness = make_harness(Groups(alice="main", bob="main", carol="main"))
    clients = {pid: await harness.join(pid) for pid in PEOPLE}

    await see_each_other(harness, clients, frames=15, audio=5)

    engine = harness.engine
    for viewer, client in clients.items():
        assert client.sizes == {(160, 120)}
        assert client.received[(viewer, "camera")] == 0
        # One m-section per visible track, announced with the publisher's id (msid) and in the mid map.
        assert {(i.publisher_id, i.source, i.kind) for i in client.mapping.values()} == {
            (p, s, k) for p in PEOPLE if p != viewer for s, k in (("audio", "audio"), ("camera", "video"))
        }
        sdp = client.subscribe_pc.remoteDescription.sdp
        for mid, info in client.mapping.items():
            section = sdp.split(f"a=mid:{mid}\r\n")[1].split("m=")[0]
            assert f"a=msid:{info.publisher_id} " in section
        assert (None, None) not in client.received
        assert sorted(engine.published(viewer)) == sorted(
            [(viewer, "audio", "audio"), (viewer, "camera", "video")]
        )
        for publisher in PEOPLE:
            if publisher != viewer:
                assert engine.forwarded(publisher, viewer, "camera") > 0
                assert engine.forwarded(publisher, viewer, "audio") > 0
    stats = engine.stats
    assert stats.packets_forwarded > stats.packets_received  # each packet goes to two viewers
    assert stats.send_failures == 0
    assert stats.plis_sent >= 1
    assert stats.rtx_sent == stats.nack_misses == 0  # no loss on loopback


@pytest.mark.timeout(40)
async def test_caucus_isolates_media_and_merging_back_restores_it_promptly(
    make_harness: HarnessFactory,
) -> None:
    room = Room("session-1")
    room.join("alice", Role.MEDIATOR, "调解员", now=0)
    for pid, role in (("bob", Role.APPLICANT), ("carol", Role.RESPONDENT)):
        room.join(pid, role, pid, now=0)
        room.acknowledge(pid, consent=True, warning=True)
        room.check_identity("alice", pid, method="id_card", result="verified")
        room.admit("alice", pid)
    harness = make_harness(room.audience)
    engine = harness.engine
    clients = {pid: await harness.join(pid) for pid in PEOPLE}
    alice, bob, carol = clients.values()
    await see_each_other(harness, clients, frames=5, audio=3)

    carol_mids = {
        viewer: {clients[viewer].mid_of("carol", s) for s in ("audio", "camera")}
        for viewer in ("alice", "bob")
    }

    # Caucus: carol alone in a sub-room, alice and bob in the main room.
    room.open_subroom("alice", "caucus-1", "背对背")
    room.move("alice", "carol", "caucus-1")
    await engine.refresh_audience()
    # Forwarding across the boundary has stopped before refresh_audience returned, renegotiation or not.
    pairs = [("alice", "carol"), ("bob", "carol"), ("carol", "alice"), ("carol", "bob")]
    frozen = {pair: engine.forwarded(*pair) for pair in pairs}

    # Let time pass, measured in frames alice keeps sending to bob; in-flight frames drain meanwhile.
    mark = bob.seen("alice")
    await harness.until(lambda: bob.seen("alice") >= mark + 15 and alice.seen("bob") >= 1)
    assert carol.mapping == {}  # carol's subscribe connection now announces nothing
    assert all(info.publisher_id != "carol" for c in (alice, bob) for info in c.mapping.values())
    carol_frames = total_frames(carol)
    from_carol = {viewer: frames_on(clients[viewer], carol_mids[viewer]) for viewer in ("alice", "bob")}
    mark = bob.seen("alice")
    await harness.until(lambda: bob.seen("alice") >= mark + 20 and alice.seen("bob") >= 20)

    assert {pair: engine.forwarded(*pair) for pair in pairs} == frozen
    assert total_frames(carol) == carol_frames
    assert {
        viewer: frames_on(clients[viewer], carol_mids[viewer]) for viewer in ("alice", "bob")
    } == from_carol

    # Back together: carol gets both videos again, from fresh keyframes the engine asked for.
    plis = {pid: camera(clients[pid]).plis for pid in PEOPLE}
    keyframes = {pid: camera(clients[pid]).keyframes for pid in PEOPLE}
    seen = {(viewer, publisher): clients[viewer].seen(publisher) for viewer, publisher in pairs}
    room.close_subrooms("alice")
    await engine.refresh_audience()
    waited = await harness.until(
        lambda: all(
            clients[viewer].seen(publisher) > seen[(viewer, publisher)] for viewer, publisher in pairs
        )
    )
    assert waited < 5.0
    for pid in PEOPLE:
        assert camera(clients[pid]).plis > plis[pid]
        assert camera(clients[pid]).keyframes > keyframes[pid]
    assert room.seat("carol").location == MAIN


@pytest.mark.timeout(30)
async def test_late_joiners_decode_a_browser_like_publisher_through_relayed_plis(
    make_harness: HarnessFactory,
) -> None:
    harness = make_harness(Groups(alice="main", bob="main", carol="main", dave="main"))
    alice = await harness.join("alice", microphone=False)
    cam = camera(alice)
    # alice has been sending for a while with nobody watching: her only keyframe is long gone.
    await harness.until(lambda: cam.sent >= 30 and harness.engine.stats.packets_received >= 30)
    assert cam.keyframes == 1

    bob = await harness.join("bob", camera=False, microphone=False)
    waited = await harness.until(lambda: bob.seen("alice") >= 5)
    assert waited < 3.0
    assert cam.plis >= 1
    assert cam.keyframes >= 2

    # Two more join at once: each needs a keyframe; PLIs reach alice rate-limited (merged), none lost.
    before = len(cam.pli_times)
    carol, dave = await asyncio.gather(
        harness.join("carol", camera=False, microphone=False),
        harness.join("dave", camera=False, microphone=False),
    )
    await harness.until(lambda: carol.seen("alice") >= 5 and dave.seen("alice") >= 5)
    times = cam.pli_times[before:]
    assert times
    assert all(later - earlier >= 0.25 for earlier, later in itertools.pairwise(times))
    stats = harness.engine.stats
    assert stats.plis_sent <= stats.keyframe_requests


@pytest.mark.timeout(30)
async def test_a_keyframe_without_its_start_code_is_dropped_and_another_asked_for(
    make_harness: HarnessFactory, caplog: pytest.LogCaptureFixture
) -> None:
    harness = make_harness(Groups(alice="main", bob="main"))
    alice = await harness.join("alice", microphone=False)
    cam = camera(alice)
    await harness.until(lambda: cam.sent >= 10 and harness.engine.stats.packets_received >= 10)
    cam.damage_keyframes = 1  # the keyframe made for bob is broken

    bob = await harness.join("bob", camera=False, microphone=False)
    await harness.until(lambda: bob.seen("alice") >= 5)

    # The broken keyframe never reached bob (he would have decoded nothing from it); the server dropped
    # it, asked again, and bob started on the next, whole one.
    assert cam.damage_keyframes == 0
    assert not [record for record in caplog.records if "failed to decode" in record.getMessage()]
    assert cam.keyframes >= 3
    assert cam.plis >= 2
    assert harness.engine.stats.packets_dropped > 0

    # A broken keyframe in the middle of the stream, which bob is not waiting for: it is dropped whole (its
    # other packets would leave bob a broken picture) and the server asks for a whole one at once.
    plis, keyframes = cam.plis, cam.keyframes
    cam.damage_keyframes = 1
    cam.make_keyframe()
    await harness.until(lambda: cam.plis > plis and cam.keyframes >= keyframes + 2)
    seen = bob.seen("alice")
    await harness.until(lambda: bob.seen("alice") >= seen + 5)


@pytest.mark.timeout(30)
async def test_host_mute_stops_and_unmute_resumes_that_publishers_audio(make_harness: HarnessFactory) -> None:
    harness = make_harness(Groups(alice="main", bob="main"))
    alice = await harness.join("alice")
    bob = await harness.join("bob")
    engine = harness.engine
    await harness.until(lambda: bob.seen("alice", "audio") >= 10 and bob.seen("alice") >= 5)
    offers = bob.offers

    engine.set_muted("alice", "audio", True)
    forwarded = engine.forwarded("alice", "bob", "audio")
    mark = bob.seen("alice")
    await harness.until(lambda: bob.seen("alice") >= mark + 10)  # drain what was in flight
    heard = bob.seen("alice", "audio")
    bob_heard_by_alice = alice.seen("bob", "audio")
    mark = bob.seen("alice")
    await harness.until(lambda: bob.seen("alice") >= mark + 15)
    assert bob.seen("alice", "audio") == heard
    assert engine.forwarded("alice", "bob", "audio") == forwarded
    assert engine.forwarded("alice", "bob", "camera") > 0
    assert alice.seen("bob", "audio") > bob_heard_by_alice  # only alice's audio is muted
    assert bob.offers == offers  # no renegotiation for a mute

    engine.set_muted("alice", "audio", False)
    await harness.until(lambda: bob.seen("alice", "audio") >= heard + 10)
    assert engine.forwarded("alice", "bob", "audio") > forwarded
    assert bob.offers == offers


@pytest.mark.timeout(30)
async def test_removal_stops_their_media_and_closes_their_connections(make_harness: HarnessFactory) -> None:
    groups = Groups(alice="main", bob="main", carol="main")
    harness = make_harness(groups)
    clients = {pid: await harness.join(pid, microphone=False) for pid in PEOPLE}
    alice, bob, carol = clients.values()
    engine = harness.engine
    await see_each_other(harness, clients, frames=5)
    alice_mid = bob.mid_of("alice", "camera")

    del groups.groups["alice"]  # the room removed her
    await engine.remove_participant("alice")
    frozen = {viewer: engine.forwarded("alice", viewer) for viewer in ("bob", "carol")}

    # Her connections are closed by the server: the client sees both end.
    closed = ("closed", "failed")
    await harness.until(
        lambda: alice.publish_pc.connectionState in closed and alice.subscribe_pc.connectionState in closed
    )
    assert "alice" not in engine.participants
    # The others renegotiate (her m-sections become inactive) and keep seeing each other.
    await harness.until(
        lambda: all(info.publisher_id != "alice" for c in (bob, carol) for info in c.mapping.values())
    )
    decoded = bob.frames[alice_mid]
    mark = bob.seen("carol")
    await harness.until(lambda: bob.seen("carol") >= mark + 15 and carol.seen("bob") >= 15)
    assert bob.frames[alice_mid] <= decoded + 2  # at most what was already in flight
    assert {viewer: engine.forwarded("alice", viewer) for viewer in ("bob", "carol")} == frozen
    assert engine.stats.send_failures == 0


@pytest.mark.timeout(30)
async def test_a_lost_packet_is_repaired_by_rtx_from_the_engine(make_harness: HarnessFactory) -> None:
    harness = make_harness(Groups(alice="main", bob="main"))
    engine = harness.engine
    sent: list[tuple[int, int]] = []  # (sequence number, timestamp) forwarded to bob, in order
    lost: list[tuple[int, int]] = []

    def lose_the_40th_video_packet_to_bob(subscriber: str, track: object, packet: bytes) -> bool:
        if subscriber != "bob" or getattr(track, "kind", None) != "video":
            return False
        seq, timestamp = int.from_bytes(packet[2:4], "big"), int.from_bytes(packet[4:8], "big")
        sent.append((seq, timestamp))
        if len(sent) == 40:
            lost.append((seq, timestamp))
            return True
        return False

    engine.loss_hook = lose_the_40th_video_packet_to_bob
    await harness.join("alice", microphone=False)
    bob = await harness.join("bob", camera=False, microphone=False)

    mid = bob.mid_of("alice", "camera")
    reports: list[RtcpSrPacket] = []

    def sender_report(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpSrPacket) and packet.sender_info.packet_count > 0:
            reports.append(packet)
            harness.changed()

    observe_rtcp(bob.transceivers[mid].receiver, sender_report)
    await harness.until(lambda: bool(lost) and engine.stats.rtx_sent >= 1)
    [(_, timestamp)] = lost
    first_timestamp = sent[0][1]
    expected_pts = (timestamp - first_timestamp) & 0xFFFFFFFF
    # aiortc's jitter buffer would stall on the hole for 512 packets; the RTX fills it and the frame decodes.
    await harness.until(lambda: expected_pts in bob.pts.get(mid, []))
    stats = engine.stats
    assert stats.nacks_received >= 1
    assert stats.nack_misses == 0
    pts = bob.pts[mid]
    assert pts == sorted(pts)

    # The viewer's sender reports describe what it was sent: packets, and an NTP/RTP pair on the stream's
    # timeline (from alice's own reports, shifted into bob's timestamps).
    await harness.until(lambda: bool(reports))
    info = reports[-1].sender_info
    assert 0 < info.packet_count <= len(sent)
    assert abs(ntp_to_unix(info.ntp_timestamp) - time.time()) < 5
    timestamps = [ts for _, ts in sent]
    assert min(timestamps) - VIDEO_CLOCK <= info.rtp_timestamp <= max(timestamps) + VIDEO_CLOCK


@pytest.mark.timeout(30)
async def test_screen_share_comes_and_goes_by_renegotiation(make_harness: HarnessFactory) -> None:
    harness = make_harness(Groups(alice="main", bob="main"))
    engine = harness.engine
    alice = await harness.join("alice", microphone=False)
    bob = await harness.join("bob", camera=False, microphone=False)
    await harness.until(lambda: bob.seen("alice") >= 5)
    offers = bob.offers

    screen = alice.add_screen()
    await alice.publish()
    await harness.until(lambda: bob.seen("alice", "screen") >= 5)
    assert bob.offers == offers + 1
    assert sorted(info.source for info in bob.mapping.values()) == ["camera", "screen"]
    assert sorted(engine.published("alice")) == [("alice", "camera", "video"), ("alice", "screen", "video")]

    screen.direction = "inactive"  # the browser stops sharing: renegotiates with the m-section inactive
    await alice.publish()
    await harness.until(lambda: [info.source for info in bob.mapping.values()] == ["camera"])
    assert engine.published("alice") == [("alice", "camera", "video")]
    stopped = engine.forwarded("alice", "bob", "screen")
    mark = bob.seen("alice")
    await harness.until(lambda: bob.seen("alice") >= mark + 15)
    assert engine.forwarded("alice", "bob", "screen") == stopped


@pytest.mark.timeout(30)
async def test_an_h264_room_forwards_h264_to_a_late_joiner(make_harness: HarnessFactory) -> None:
    harness = make_harness(Groups(alice="main", bob="main"), video_codec=Codec.H264)
    alice = await harness.join("alice", microphone=False, codec="libx264")
    cam = camera(alice)
    await harness.until(lambda: cam.sent >= 30)
    answer = alice.publish_pc.remoteDescription.sdp
    assert "H264/90000" in answer
    assert "VP8" not in answer
    assert "profile-level-id=42e01f" in answer  # constrained baseline

    bob = await harness.join("bob", camera=False, microphone=False)
    await harness.until(lambda: bob.seen("alice") >= 10)
    assert bob.sizes == {(160, 120)}
    assert cam.plis >= 1  # bob joined after the first IDR: the engine asked for another one
    assert "VP8" not in bob.subscribe_pc.remoteDescription.sdp


@pytest.mark.timeout(30)
async def test_a_reconnecting_publisher_comes_back_on_the_same_m_sections(
    make_harness: HarnessFactory,
) -> None:
    harness = make_harness(Groups(alice="main", bob="main"))
    engine = harness.engine
    picture_ids: list[int] = []  # of each frame bob is sent, in order

    def note_picture_ids(subscriber: str, track: object, packet: bytes) -> bool:
        header = RtpHeader(packet)
        if header.payload_size and vp8_is_frame_start(packet, header.payload_offset, header.payload_end):
            picture_ids.append(vp8_picture_ids(packet, header.payload_offset, header.payload_end)[0])
        return False

    engine.loss_hook = note_picture_ids
    first = await harness.join("alice", microphone=False)
    bob = await harness.join("bob", camera=False, microphone=False)
    await harness.until(lambda: bob.seen("alice") >= 5)
    mid = bob.mid_of("alice", "camera")
    before = len(picture_ids)

    # Reconnection is a new pair of connections: remove, then add and publish again.
    await engine.remove_participant("alice")
    await first.close()
    del harness.clients["alice"]
    second = await harness.join("alice", microphone=False)
    decoded = bob.frames[mid]
    await harness.until(lambda: bob.frames[mid] >= decoded + 10)

    assert bob.mid_of("alice", "camera") == mid  # the same m-section (and our SSRC) carries her again
    assert len(bob.subscribe_pc.getTransceivers()) == 1
    assert camera(second).sent > 0
    assert bob.sizes == {(160, 120)}
    # Her new encoder numbers its pictures afresh; bob's stream continues without a jump back.
    steps = [(later - earlier) & 0x7FFF for earlier, later in itertools.pairwise(picture_ids)]
    assert len(picture_ids) >= before + 10
    assert all(0 < step < 0x4000 for step in steps)
