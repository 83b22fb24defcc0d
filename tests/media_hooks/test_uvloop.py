"""The hooks on uvloop, the server's default event loop (tiaojie/event_loop.py): the fast receive path, the
synchronous send path and RTCP work the same on libuv's UDP transports as on asyncio's."""

from __future__ import annotations

import asyncio

import pytest
from aiortc import RTCPeerConnection
from aiortc.rtp import RTCP_PSFB_PLI, AnyRtcpPacket, RtcpPsfbPacket
from av import VideoFrame

from media.aiortc_hooks import observe_rtcp, request_keyframe, rtc_configuration
from tests.media_hooks.peers import FirstValue, PublisherLeg, TestForwarder, ViewerLeg, within
from tiaojie import event_loop

pytest.importorskip("uvloop")


async def _forward_through_the_hooks() -> tuple[str, list[VideoFrame], RtcpPsfbPacket]:
    peers: list[RTCPeerConnection] = []

    def new_peer() -> RTCPeerConnection:
        peer = RTCPeerConnection(rtc_configuration())
        peers.append(peer)
        return peer

    try:
        viewer = ViewerLeg(new_peer)
        forwarder = TestForwarder(viewer.raw)
        await viewer.connect()
        publisher = PublisherLeg(new_peer, forwarder.on_rtp)
        pli = FirstValue[RtcpPsfbPacket]()

        def at_publisher(packet: AnyRtcpPacket) -> None:
            if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_PLI:
                pli(packet)

        observe_rtcp(publisher.sender, at_publisher)
        await publisher.connect()
        frames = [await within(viewer.track.recv()) for _ in range(30)]
        negotiated = publisher.tap.negotiated
        assert negotiated is not None
        assert negotiated.ssrc is not None
        await request_keyframe(publisher.receiver, negotiated.ssrc)
        return (
            type(asyncio.get_running_loop()).__module__,
            [frame for frame in frames if isinstance(frame, VideoFrame)],
            await pli.wait(),
        )
    finally:
        for peer in peers:
            await peer.close()


@pytest.mark.timeout(30)
def test_forwarding_works_on_uvloop() -> None:
    loop_module, frames, pli = event_loop.run(_forward_through_the_hooks(), "uvloop")

    assert loop_module.startswith("uvloop")
    assert len(frames) == 30
    assert {(frame.width, frame.height) for frame in frames} == {(320, 240)}
    assert pli.fmt == RTCP_PSFB_PLI
