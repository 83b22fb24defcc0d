"""The fast receive path: after aiortc has routed the first packet of an SSRC to a tap, the hooks handle the
rest of that SSRC themselves (parse, statistics, NACK, REMB estimate) and hand anything unexpected back to
aiortc; SRTCP is decrypted and handled in the datagram callback too."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import time
from collections.abc import Callable

import pytest
from aiortc import RTCPeerConnection
from aiortc.rtp import RtpPacket

from media import aiortc_hooks
from media.aiortc_hooks import TappedPacket, keep_consent
from media.window_rate import WindowRate
from tests.media_hooks.peers import FirstValue, PublisherLeg, TestForwarder, ViewerLeg, within

PeerFactory = Callable[[], RTCPeerConnection]


def _path(leg: PublisherLeg) -> aiortc_hooks._ReceivePath:
    path = aiortc_hooks.receive_path_of(leg.receiver.transport)
    assert path is not None
    return path


class Collect:
    """An RTP tap callback that keeps what it gets; :meth:`wait` returns once ``count`` packets came."""

    def __init__(self) -> None:
        self.packets: list[tuple[TappedPacket, bytes]] = []
        self._enough: tuple[int, asyncio.Event] | None = None

    def __call__(self, packet: TappedPacket, datagram: bytes, arrival_time_ms: int) -> None:
        self.packets.append((packet, datagram))
        if self._enough is not None and len(self.packets) >= self._enough[0]:
            self._enough[1].set()

    async def wait(self, count: int) -> None:
        self._enough = (count, asyncio.Event())
        if len(self.packets) >= count:
            return
        await within(self._enough[1].wait())


@pytest.mark.timeout(30)
async def test_aiortc_parses_only_the_first_packet_and_its_statistics_still_count_every_one(
    new_peer: PeerFactory,
) -> None:
    collect = Collect()
    leg = PublisherLeg(new_peer, collect)
    await leg.connect()
    await collect.wait(60)
    tapped = collect.packets

    # One packet per SSRC went through aiortc's parser and router; the rest came the fast way. (Should
    # loopback lose one, its RTX comes by aiortc's way too: count the media SSRC's original packets only.)
    negotiated = leg.tap.negotiated
    assert negotiated is not None
    first = tapped[0][0]
    assert isinstance(first, RtpPacket)
    assert first.ssrc == negotiated.ssrc
    originals = [packet for packet, datagram in tapped if datagram[8:12] == first.ssrc.to_bytes(4, "big")]
    assert sum(isinstance(packet, RtpPacket) for packet in originals[1:]) == 0
    for packet, datagram in tapped:
        parsed = RtpPacket.parse(datagram, leg.receiver.transport._rtp_header_extensions_map)
        assert (packet.ssrc, packet.sequence_number, packet.timestamp, packet.marker) == (
            parsed.ssrc,
            parsed.sequence_number,
            parsed.timestamp,
            parsed.marker,
        )
        assert (packet.payload_type, packet.payload, packet.padding_size) == (
            parsed.payload_type,
            parsed.payload,
            parsed.padding_size,
        )
        assert packet.extensions.abs_send_time == parsed.extensions.abs_send_time
        assert packet.extensions.mid == parsed.extensions.mid

    # aiortc's receive statistics (receiver reports, getStats) saw every packet the tap got.
    report = await leg.receiver.getStats()
    delivered = leg.tap.packets
    inbound = [stats for stats in report.values() if stats.type == "inbound-rtp"]
    assert sum(stats.packetsReceived for stats in inbound) == delivered
    assert leg.receiver.getSynchronizationSources()[0].source == tapped[0][0].ssrc

    # The REMB estimator counts the incoming bitrate in a WindowRate (aiortc's RateCounter steps through
    # every elapsed millisecond), and it has been fed.
    estimator = leg.receiver._RTCRtpReceiver__remote_bitrate_estimator  # type: ignore[attr-defined]
    leg.tap.estimate_now()
    assert isinstance(estimator.incoming_bitrate, WindowRate)
    now_ms = int((time.time() + aiortc_hooks._NTP_UNIX_OFFSET) * 1000)  # the receive path's arrival clock
    rate = estimator.incoming_bitrate.rate(now_ms)
    assert rate is not None
    assert rate > 0


def _rtp(ssrc: int, seq: int, payload_type: int, extension: bytes = b"") -> bytes:
    first = 0x90 if extension else 0x80
    return struct.pack("!BBHII", first, payload_type, seq, 1234, ssrc) + extension + b"\x10" + bytes(40)


@pytest.mark.timeout(30)
async def test_what_the_fast_path_does_not_expect_goes_to_aiortc(new_peer: PeerFactory) -> None:
    collect = Collect()
    leg = PublisherLeg(new_peer, collect)
    await leg.connect()
    await collect.wait(5)
    path = _path(leg)
    negotiated = leg.tap.negotiated
    assert negotiated is not None
    assert negotiated.ssrc is not None
    route = path.routes[negotiated.ssrc]
    ssrc, payload_type = route.ssrc, route.payload_type
    last = collect.packets[-1][0].sequence_number
    seen = len(collect.packets)

    # What the route expects (its SSRC and payload type; a repeated sequence number) is handed on.
    path.handle_rtp(_rtp(ssrc, last, payload_type), 0)
    # Another payload type of the same SSRC: aiortc's router decides (it knows no codec 50: dropped).
    path.handle_rtp(_rtp(ssrc, last, 50), 0)
    # A header the fast parser refuses (extension block longer than the packet): aiortc refuses it too.
    path.handle_rtp(_rtp(ssrc, last, payload_type, extension=struct.pack("!HH", 0xBEDE, 200)), 0)
    # Too short to be RTP at all.
    path.handle_rtp(b"\x80\x60", 0)
    injected = [packet for packet, _ in collect.packets[seen:] if packet.payload == b"\x10" + bytes(40)]
    assert [(packet.sequence_number, packet.payload_type) for packet in injected] == [(last, payload_type)]
    assert not isinstance(injected[0], RtpPacket)  # the fast path took it

    # Once aiortc no longer routes the SSRC to the receiver, neither does the fast path.
    await leg.receiver.stop()
    stopped_at = leg.tap.packets
    arrived: list[bytes] = []
    twenty_more = asyncio.Event()
    handle = path.handle_rtp

    def count(data: bytes, arrival_time_ms: int) -> None:
        arrived.append(data)
        if len(arrived) >= 20:
            twenty_more.set()
        handle(data, arrival_time_ms)

    path.handle_rtp = count
    await within(twenty_more.wait())
    assert leg.tap.packets == stopped_at


@pytest.mark.timeout(30)
async def test_rtcp_is_handled_in_the_datagram_callback(new_peer: PeerFactory) -> None:
    leg = PublisherLeg(new_peer, lambda packet, datagram, _: None)
    await leg.connect()
    transport = leg.receiver.transport
    handled = FirstValue[asyncio.Task[object] | None]()
    original = transport._handle_rtcp_data

    async def handle_rtcp_data(data: bytes) -> None:
        handled(asyncio.current_task())
        await original(data)

    transport._handle_rtcp_data = handle_rtcp_data  # type: ignore[method-assign]
    # The publisher's sender reports arrive within 1.5 s; aiortc's own way would run in its DTLS task.
    assert await handled.wait() is None


def _read_sizes(peer: RTCPeerConnection) -> set[int]:
    connection = peer.getTransceivers()[0].receiver.transport.transport._connection
    return {getattr(protocol.transport, "max_size", 0) for protocol in connection._protocols}


@pytest.mark.timeout(30)
async def test_asyncio_transports_of_hooked_connections_read_small_datagrams(new_peer: PeerFactory) -> None:
    """asyncio reads each datagram into a 256 KiB buffer shrunk afterwards, which fragments the heap under
    media load; the connections the hooks serve read at most 2,048 bytes (this test runs on asyncio's
    loop)."""
    viewer = ViewerLeg(new_peer)
    forwarder = TestForwarder(viewer.raw)
    await viewer.connect()
    leg = PublisherLeg(new_peer, forwarder.on_rtp)
    await leg.connect()
    await within(forwarder.forwarding.wait())

    assert _read_sizes(leg.server) == {2048}  # tapped: the receive path
    assert _read_sizes(viewer.server) == {2048}  # sending through RawRtpSender: the send path
    assert _read_sizes(leg.publisher) == {256 * 1024}  # a plain aiortc peer keeps asyncio's default


def _server_address(peer: RTCPeerConnection) -> tuple[str, int]:
    connection = peer.getTransceivers()[0].receiver.transport.transport._connection
    pair = connection._nominated[1]
    address: tuple[str, int] = pair.protocol.transport.get_extra_info("sockname")[:2]
    return address


@pytest.mark.timeout(30)
async def test_datagrams_too_short_to_be_anything_do_not_close_a_connection(
    new_peer: PeerFactory, caplog: pytest.LogCaptureFixture
) -> None:
    """aiortc's receive task dies on an empty datagram (IndexError), and anyone who reaches the port can send
    one: every connection of the engine (``keep_consent``) drops them first."""
    viewer = ViewerLeg(new_peer)
    keep_consent(viewer.server)  # as media.engine does for each of its connections
    forwarder = TestForwarder(viewer.raw)
    await viewer.connect()
    leg = PublisherLeg(new_peer, forwarder.on_rtp)
    keep_consent(leg.server)
    await leg.connect()
    await within(viewer.track.recv())

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as outsider:
        for peer in (viewer.server, leg.server):
            for junk in (b"", b"\x80", b"\x80\xc8", bytes(11)):
                outsider.sendto(junk, _server_address(peer))
    # The junk arrived before the next media (one socket, in order): both legs still carry frames.
    frames = [await within(viewer.track.recv()) for _ in range(10)]
    assert len(frames) == 10
    assert viewer.server.connectionState == leg.server.connectionState == "connected"
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]  # dropped quietly


@pytest.mark.timeout(30)
async def test_a_later_retransmission_is_unwrapped_by_the_fast_path(new_peer: PeerFactory) -> None:
    """The publisher's 30th and 90th RTP datagrams are lost: the first RTX packet takes aiortc's way (and
    teaches the RTX SSRC's route), the second is unwrapped by the fast path into the original packet."""
    lost: list[int] = []
    recovered = asyncio.Event()
    tapped: list[tuple[TappedPacket, bytes]] = []

    def on_rtp(packet: TappedPacket, datagram: bytes, arrival_time_ms: int) -> None:
        tapped.append((packet, datagram))
        if len(lost) == 2 and {p.sequence_number for p, _ in tapped} >= set(lost):
            recovered.set()

    leg = PublisherLeg(new_peer, on_rtp)
    transport = leg.sender.transport
    send = transport._send_rtp
    sent = 0

    async def lossy(data: bytes) -> None:
        nonlocal sent
        if not 191 < data[1] < 209:
            sent += 1
            if sent in (30, 90):
                lost.append(int.from_bytes(data[2:4], "big"))
                return
        await send(data)

    transport._send_rtp = lossy  # type: ignore[method-assign]  # test-only fault injection
    await leg.connect()
    await within(recovered.wait())

    negotiated = leg.tap.negotiated
    assert negotiated is not None
    assert negotiated.rtx_ssrc is not None
    assert negotiated.rtx_ssrc in _path(leg).routes
    late = [(packet, datagram) for packet, datagram in tapped if packet.sequence_number == lost[1]]
    [(packet, datagram)] = late
    assert not isinstance(packet, RtpPacket)  # the fast path unwrapped it
    assert (packet.ssrc, packet.payload_type) == (negotiated.ssrc, negotiated.codecs[0].payloadType)
    parsed = RtpPacket.parse(datagram)
    assert (parsed.ssrc, parsed.sequence_number, parsed.payload) == (negotiated.ssrc, lost[1], packet.payload)
