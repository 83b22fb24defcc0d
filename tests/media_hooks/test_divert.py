"""divert_rtp: a load generator's receiver gets the decrypted datagrams, and aiortc none of them."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from aiortc import RTCPeerConnection

from media.aiortc_hooks import divert_rtp
from media.rtp import RtpHeader
from tests.media_hooks.peers import MovingPicture, negotiate, sdp_ssrcs, within

PeerFactory = Callable[[], RTCPeerConnection]


@pytest.mark.timeout(30)
async def test_diverted_rtp_arrives_decrypted_and_aiortc_sees_none_of_it(new_peer: PeerFactory) -> None:
    sender, viewer = new_peer(), new_peer()
    sender.addTransceiver(MovingPicture(), "sendonly")
    transceiver = viewer.addTransceiver("video", "recvonly")
    datagrams: list[bytes] = []
    enough = asyncio.Event()

    def on_datagram(data: bytes, arrival_time_ms: int) -> None:
        datagrams.append(data)
        if len(datagrams) >= 40:
            enough.set()

    divert_rtp(transceiver.receiver.transport, on_datagram)
    await negotiate(sender, viewer)
    await within(enough.wait())

    headers = [RtpHeader(data) for data in datagrams]
    ssrc = sdp_ssrcs(sender.localDescription.sdp)[0]
    assert {header.ssrc for header in headers} == {ssrc}
    seqs = [header.sequence_number for header in headers]
    assert seqs == sorted(seqs)  # in order (aiortc starts below 2^15: no wrap in 40 packets)
    assert len(set(seqs)) == len(seqs)  # each decrypted and delivered once
    # aiortc's receiver got nothing: no inbound statistics (so no receiver reports), no frame for its track.
    stats = await transceiver.receiver.getStats()
    assert [stat for stat in stats.values() if stat.type == "inbound-rtp"] == []
