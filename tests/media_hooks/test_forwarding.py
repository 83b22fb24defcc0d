"""The aiortc hooks with real peers on loopback: publisher -> server (tap) -> server (raw sender) -> viewer.

These tests fail when an aiortc upgrade moves or changes an internal the hooks use: packets stop reaching
the tap, the viewer stops decoding, feedback stops arriving.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pytest
from aiortc import MediaStreamTrack, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    AnyRtcpPacket,
    RtcpByePacket,
    RtcpPsfbPacket,
    RtcpReceiverInfo,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSrPacket,
    RtpPacket,
    unpack_remb_fci,
)
from av import AudioFrame, VideoFrame

from media.aiortc_hooks import TappedPacket, observe_rtcp, request_keyframe, send_remb
from tests.media_hooks.peers import (
    FirstValue,
    PublisherLeg,
    TestForwarder,
    ViewerLeg,
    candidate_addresses,
    is_vp8_keyframe_start,
    sdp_ssrcs,
    within,
)

PeerFactory = Callable[[], RTCPeerConnection]
NTP_UNIX_OFFSET = 2_208_988_800


def decoder_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.endswith("-decoder")]


def assert_loopback_only(*peers: RTCPeerConnection) -> None:
    for peer in peers:
        assert candidate_addresses(peer.localDescription.sdp) == {"127.0.0.1"}


@pytest.mark.timeout(30)
async def test_tap_gets_every_rtp_packet_and_nothing_is_decoded(new_peer: PeerFactory) -> None:
    packets: list[tuple[TappedPacket, int]] = []
    datagrams: list[bytes] = []
    enough = asyncio.Event()

    def on_rtp(packet: TappedPacket, datagram: bytes, arrival_time_ms: int) -> None:
        packets.append((packet, arrival_time_ms))
        datagrams.append(datagram)
        if len(packets) >= 60:
            enough.set()

    leg = PublisherLeg(new_peer, on_rtp)
    await leg.connect()
    await within(enough.wait())

    assert_loopback_only(leg.publisher, leg.server)
    negotiated = leg.tap.negotiated
    assert negotiated is not None
    # The SSRCs the publisher announced are what the receiver negotiated and what arrives.
    assert [negotiated.ssrc, negotiated.rtx_ssrc] == sdp_ssrcs(leg.publisher.localDescription.sdp)
    assert negotiated.codecs[0].mimeType == "video/VP8"
    assert {packet.ssrc for packet, _ in packets} == {negotiated.ssrc}
    assert {packet.payload_type for packet, _ in packets} == {negotiated.codecs[0].payloadType}
    # In order, none missing, extensions parsed with the negotiated ids, starting with a keyframe.
    sequence = [packet.sequence_number for packet, _ in packets]
    assert sequence == [(sequence[0] + i) & 0xFFFF for i in range(len(sequence))]
    assert {packet.extensions.mid for packet, _ in packets} == {negotiated.mid}
    assert all(packet.extensions.abs_send_time is not None for packet, _ in packets)
    assert is_vp8_keyframe_start(packets[0][0].payload)
    # The datagram is the decrypted packet as it arrived (with the abs-send-time and mid extensions).
    for (packet, _), datagram in zip(packets, datagrams, strict=True):
        parsed = RtpPacket.parse(datagram)
        assert (parsed.ssrc, parsed.sequence_number, parsed.timestamp) == (
            packet.ssrc,
            packet.sequence_number,
            packet.timestamp,
        )
        assert parsed.payload == packet.payload
        assert datagram[0] & 0x10  # header extension present
    arrivals = [arrival for _, arrival in packets]
    assert arrivals == sorted(arrivals)
    assert leg.tap.packets >= len(packets)

    # Nothing is decoded on the server: no decoder thread, and the receiver's track ends without a frame.
    assert decoder_threads() == []
    with pytest.raises(MediaStreamError):
        await within(leg.server_track.recv())


@pytest.mark.timeout(30)
async def test_forwarded_rtp_is_decoded_by_a_plain_aiortc_viewer(new_peer: PeerFactory) -> None:
    viewer = ViewerLeg(new_peer)
    forwarder = TestForwarder(viewer.raw)
    await viewer.connect()
    publisher = PublisherLeg(new_peer, forwarder.on_rtp)
    await publisher.connect()

    frames = [await within(viewer.track.recv()) for _ in range(30)]

    assert_loopback_only(viewer.server, viewer.viewer)
    sizes = {(frame.width, frame.height) for frame in frames if isinstance(frame, VideoFrame)}
    assert sizes == {(320, 240)}
    pts = [frame.pts or 0 for frame in frames]
    assert pts == sorted(pts)
    assert frames[0].pts == 0
    # The viewer knows our SSRC (announced in our SDP) and counted our packets under it.
    negotiated = viewer.raw.negotiated
    assert negotiated is not None
    assert [negotiated.ssrc, negotiated.rtx_ssrc] == sdp_ssrcs(viewer.server.localDescription.sdp)
    stats = await viewer.receiver.getStats()
    inbound = [s for s in stats.values() if s.type == "inbound-rtp"]
    assert [s.ssrc for s in inbound] == [viewer.raw.ssrc]
    # Only the viewer decodes.
    assert [thread.name for thread in decoder_threads()] == ["video-decoder"]


@pytest.mark.timeout(30)
async def test_keyframe_requests_travel_viewer_to_server_to_publisher(new_peer: PeerFactory) -> None:
    viewer = ViewerLeg(new_peer)
    forwarder = TestForwarder(viewer.raw, start_at_keyframe=True)
    # Without aiortc's REMB the aiortc publisher never changes bitrate, so it makes keyframes only on request
    # (like a browser); with it, its encoder would also make one whenever the estimate moves.
    publisher = PublisherLeg(new_peer, forwarder.on_rtp, aiortc_remb=False)
    pli_at_server = FirstValue[RtcpPsfbPacket]()
    pli_at_publisher = FirstValue[RtcpPsfbPacket]()

    async def relay(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_PLI:
            pli_at_server(packet)
            negotiated = publisher.tap.negotiated
            assert negotiated is not None
            assert negotiated.ssrc is not None
            assert await request_keyframe(publisher.receiver, negotiated.ssrc)

    def publisher_feedback(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_PLI:
            pli_at_publisher(packet)

    observe_rtcp(viewer.raw.sender, relay)
    observe_rtcp(publisher.sender, publisher_feedback)

    # The publisher is already sending when the viewer joins (a late joiner): its first keyframe is gone.
    await publisher.connect()
    await viewer.connect()
    keyframes_before = forwarder.keyframes_seen
    assert not forwarder.forwarding.is_set()

    assert await request_keyframe(viewer.receiver, viewer.raw.ssrc)
    seen_by_server = await pli_at_server.wait()
    assert seen_by_server.media_ssrc == viewer.raw.ssrc
    seen_by_publisher = await pli_at_publisher.wait()
    assert seen_by_publisher.media_ssrc == publisher.tap.negotiated.ssrc  # type: ignore[union-attr]
    assert seen_by_publisher.ssrc == sdp_ssrcs(publisher.server.localDescription.sdp)[0]

    # The publisher answers with a keyframe; forwarding starts there and the viewer decodes.
    await within(forwarder.forwarding.wait())
    assert forwarder.keyframes_seen > keyframes_before
    frames = [await within(viewer.track.recv()) for _ in range(5)]
    assert all(isinstance(frame, VideoFrame) for frame in frames)


@pytest.mark.timeout(30)
async def test_nack_from_viewer_is_answered_with_rtx(new_peer: PeerFactory) -> None:
    viewer = ViewerLeg(new_peer)
    forwarder = TestForwarder(viewer.raw)
    forwarder.drop_indexes = {40}
    nack = FirstValue[RtcpRtpfbPacket]()

    async def answer_nacks(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            nack(packet)
            for sequence_number in packet.lost:
                await forwarder.retransmit(sequence_number)

    observe_rtcp(viewer.raw.sender, answer_nacks)
    await viewer.connect()
    publisher = PublisherLeg(new_peer, forwarder.on_rtp)
    await publisher.connect()

    lost = await nack.wait()
    [dropped] = forwarder.dropped
    assert lost.media_ssrc == viewer.raw.ssrc
    assert dropped.sequence_number in lost.lost
    assert dropped.sequence_number in forwarder.retransmitted

    # Without the RTX the viewer's jitter buffer would stall on the hole for 512 packets.
    assert forwarder.first_timestamp is not None
    expected = (dropped.timestamp - forwarder.first_timestamp) & 0xFFFFFFFF
    decoded: list[int] = []
    while not decoded or decoded[-1] < expected:
        frame = await within(viewer.track.recv())
        assert isinstance(frame, VideoFrame)
        assert frame.pts is not None
        decoded.append(frame.pts)
    assert expected in decoded


@pytest.mark.timeout(30)
async def test_reports_and_bandwidth_feedback_keep_flowing(new_peer: PeerFactory) -> None:
    viewer = ViewerLeg(new_peer)
    forwarder = TestForwarder(viewer.raw)
    publisher = PublisherLeg(new_peer, forwarder.on_rtp)
    receiver_report = FirstValue[RtcpReceiverInfo]()
    aiortc_remb = FirstValue[tuple[int, list[int]]]()
    our_remb = FirstValue[tuple[int, list[int]]]()
    sender_report = FirstValue[RtcpSrPacket]()
    ours = 123_000

    def at_publisher(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, (RtcpRrPacket, RtcpSrPacket)):
            for report in packet.reports:
                if report.ssrc == publisher.tap.negotiated.ssrc:  # type: ignore[union-attr]
                    receiver_report(report)
        elif isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
            bitrate, ssrcs = unpack_remb_fci(packet.fci)
            (our_remb if bitrate == ours else aiortc_remb)((bitrate, ssrcs))

    def at_viewer(packet: AnyRtcpPacket) -> None:
        if not isinstance(packet, RtcpSrPacket) or packet.ssrc != viewer.raw.ssrc:
            return
        if packet.sender_info.packet_count > 0:
            sender_report(packet)

    observe_rtcp(publisher.sender, at_publisher)
    await viewer.connect()
    observe_rtcp(viewer.receiver, at_viewer)  # the viewer's receiver exists once it has the offer
    await publisher.connect()
    publisher_ssrc = publisher.tap.negotiated.ssrc  # type: ignore[union-attr]

    # The server's receiver still counts what the tap takes: the publisher gets receiver reports.
    report = await receiver_report.wait()
    assert report.highest_sequence > 0
    assert report.packets_lost == 0

    # Our raw sends feed the counters of the viewer-facing sender's reports.
    sr = await sender_report.wait()
    info = sr.sender_info
    assert 0 < info.packet_count <= forwarder.forwarded
    sent = list(forwarder.history.values())[: info.packet_count]  # no drops here: history = what was sent
    assert info.octet_count == sum(len(packet.payload) for packet in sent)  # payload octets (RFC 3550)
    assert info.rtp_timestamp == sent[-1].timestamp
    assert abs((info.ntp_timestamp >> 32) - NTP_UNIX_OFFSET - time.time()) < 5

    # REMB upstream: ours on demand, and aiortc's own estimate (needs about 3 s of abs-send-time data).
    assert publisher_ssrc is not None
    assert await send_remb(publisher.receiver, ours, [publisher_ssrc])
    assert await our_remb.wait() == (ours, [publisher_ssrc])
    bitrate, ssrcs = await aiortc_remb.wait()
    assert bitrate > 0
    assert ssrcs == [publisher_ssrc]


@pytest.mark.timeout(30)
async def test_audio_is_tapped_and_forwarded_like_video(new_peer: PeerFactory) -> None:
    viewer = ViewerLeg(new_peer, kind="audio")
    forwarder = TestForwarder(viewer.raw)
    await viewer.connect()
    tapped: list[TappedPacket] = []

    async def on_rtp(packet: TappedPacket, datagram: bytes, arrival_time_ms: int) -> None:
        tapped.append(packet)
        await forwarder.on_rtp(packet, datagram, arrival_time_ms)

    publisher = PublisherLeg(new_peer, on_rtp, kind="audio")
    await publisher.connect()
    frames = [await within(viewer.track.recv()) for _ in range(10)]

    negotiated = publisher.tap.negotiated
    assert negotiated is not None
    assert negotiated.codecs[0].mimeType == "audio/opus"
    assert {packet.payload_type for packet in tapped} == {negotiated.codecs[0].payloadType}
    assert all(packet.extensions.audio_level is not None for packet in tapped)
    assert all(isinstance(frame, AudioFrame) for frame in frames)
    assert [thread.name for thread in decoder_threads()] == ["audio-decoder"]  # the viewer's


@pytest.mark.timeout(30)
async def test_publisher_rtx_reaches_the_tap_as_the_original_packet(new_peer: PeerFactory) -> None:
    tapped: list[TappedPacket] = []
    datagrams: dict[int, bytes] = {}
    recovered = asyncio.Event()
    lost = FirstValue[int]()
    nack_at_publisher = FirstValue[RtcpRtpfbPacket]()

    def on_rtp(packet: TappedPacket, datagram: bytes, arrival_time_ms: int) -> None:
        tapped.append(packet)
        datagrams[packet.sequence_number] = datagram
        if lost.done() and packet.sequence_number == lost.value():
            recovered.set()

    def lose_the_30th_datagram(track: MediaStreamTrack) -> None:
        # Simulated network loss: the publisher's 30th RTP datagram never leaves it (its sender keeps the
        # packet for retransmission). The server gets it by the fast path or not at all.
        transport = publisher.sender.transport
        send = transport._send_rtp
        sent = 0

        async def send_rtp(data: bytes) -> None:
            nonlocal sent
            if not 191 < data[1] < 209:  # RTP, not RTCP
                sent += 1
                if sent == 30:
                    lost(int.from_bytes(data[2:4], "big"))
                    return
            await send(data)

        transport._send_rtp = send_rtp  # type: ignore[method-assign]  # test-only fault injection

    def at_publisher(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            nack_at_publisher(packet)

    publisher = PublisherLeg(new_peer, on_rtp)
    publisher.server.on("track", lose_the_30th_datagram)
    observe_rtcp(publisher.sender, at_publisher)
    await publisher.connect()

    sequence_number = await lost.wait()
    # The server's NACK generator still runs behind the tap, the publisher resends the packet as RTX,
    # and aiortc unwraps it: the tap sees the original packet, late.
    assert sequence_number in (await nack_at_publisher.wait()).lost
    await within(recovered.wait())
    negotiated = publisher.tap.negotiated
    assert negotiated is not None
    [late] = [packet for packet in tapped if packet.sequence_number == sequence_number]
    assert late.ssrc == negotiated.ssrc
    assert late.payload_type == negotiated.codecs[0].payloadType
    assert tapped.index(late) > 0
    assert tapped[tapped.index(late) - 1].sequence_number != (sequence_number - 1) & 0xFFFF
    # Its datagram is rebuilt from the RTX one: the original header fields, extensions and payload.
    rebuilt = RtpPacket.parse(datagrams[sequence_number])
    assert (rebuilt.ssrc, rebuilt.payload_type, rebuilt.sequence_number) == (
        negotiated.ssrc,
        negotiated.codecs[0].payloadType,
        sequence_number,
    )
    assert (rebuilt.timestamp, rebuilt.marker, rebuilt.payload) == (late.timestamp, late.marker, late.payload)
    assert datagrams[sequence_number][0] & 0x10  # header extension kept


@pytest.mark.timeout(30)
async def test_sender_reports_go_out_with_the_packets_and_bye_at_the_end(new_peer: PeerFactory) -> None:
    viewer = ViewerLeg(new_peer)
    forwarder = TestForwarder(viewer.raw)
    reports: list[RtcpSrPacket] = []
    two_reports = asyncio.Event()
    bye = FirstValue[RtcpByePacket]()

    def at_viewer(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpSrPacket) and packet.ssrc == viewer.raw.ssrc:
            reports.append(packet)
            if len(reports) >= 2:
                two_reports.set()
        elif isinstance(packet, RtcpByePacket) and viewer.raw.ssrc in packet.sources:
            bye(packet)

    await viewer.connect()
    observe_rtcp(viewer.receiver, at_viewer)
    # Nothing sent, nothing reported: longer than aiortc's longest interval between reports (1.5 s).
    await asyncio.sleep(1.6)
    assert reports == []

    # The first packet goes out with a report that counts it; later reports follow every 0.5-1.5 s.
    publisher = PublisherLeg(new_peer, forwarder.on_rtp)
    await publisher.connect()
    await within(forwarder.forwarding.wait())

    await within(two_reports.wait())
    first, second = reports[0].sender_info, reports[1].sender_info
    assert first.packet_count == 1
    assert first.rtp_timestamp == forwarder.first_timestamp
    assert second.packet_count > first.packet_count
    assert second.octet_count > first.octet_count

    # The viewer's receiver reports answer them: the sender knows the round-trip time.
    async def round_trip_time() -> float:
        while True:
            stats = await viewer.raw.sender.getStats()
            times = [s.roundTripTime for s in stats.values() if s.type == "remote-inbound-rtp"]
            if times and times[0] is not None:
                return float(times[0])
            await asyncio.sleep(0.1)

    assert 0 <= await within(round_trip_time()) < 1

    # Stopping the sender ends its stand-in RTCP task (stop() waits for it) with a BYE.
    await within(viewer.raw.sender.stop())
    assert (await bye.wait()).sources == [viewer.raw.ssrc]


@pytest.mark.timeout(30)
async def test_reports_carry_a_set_clock_forward_to_their_own_time(new_peer: PeerFactory) -> None:
    """With the NTP/RTP pair set by the caller (the publisher's SR, as the forwarder does), each report moves
    it along the same timeline to the time it is sent: lip sync unchanged, and every report distinct."""
    viewer = ViewerLeg(new_peer, auto_report_clock=False)
    forwarder = TestForwarder(viewer.raw)
    reports: list[RtcpSrPacket] = []
    three = asyncio.Event()

    def at_viewer(packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpSrPacket) and packet.ssrc == viewer.raw.ssrc:
            reports.append(packet)
            if len(reports) >= 3:
                three.set()

    await viewer.connect()
    observe_rtcp(viewer.receiver, at_viewer)
    anchor_ntp = (int(time.time()) + NTP_UNIX_OFFSET - 10) << 32  # ten seconds ago
    anchor_rtp = 4_000_000_000
    viewer.raw.set_report_clock(anchor_ntp, anchor_rtp)
    publisher = PublisherLeg(new_peer, forwarder.on_rtp)
    await publisher.connect()
    await within(three.wait())

    ntps = [r.sender_info.ntp_timestamp for r in reports[:3]]
    assert ntps == sorted(set(ntps))  # each its own time, later each time
    for report in reports[:3]:
        info = report.sender_info
        elapsed = (info.ntp_timestamp - anchor_ntp) / (1 << 32)
        assert 9 < elapsed < 30
        expected = anchor_rtp + round(elapsed * 90_000)
        assert abs((info.rtp_timestamp - expected + (1 << 31)) % (1 << 32) - (1 << 31)) <= 1  # (rounding)
