"""check_compatible() and the hooks' own guards: an aiortc/aioice change is reported by name, not silently."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aioice.ice
import aiortc
import pytest
from aiortc import RTCBundlePolicy, RTCPeerConnection, RTCRtpReceiver, RTCRtpSender, VideoStreamTrack
from aiortc.mediastreams import MediaStreamError
from aiortc.rate import RemoteBitrateEstimator
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtp import AnyRtcpPacket, RtpPacket

from media import aiortc_hooks
from media.aiortc_hooks import (
    AIORTC_VERSION,
    AiortcIncompatibleError,
    RawRtpSender,
    SilentTrack,
    TappedPacket,
    announce_addresses,
    attach_rtp_tap,
    check_compatible,
    rtc_configuration,
)
from tests.media_hooks.peers import ViewerLeg, within

PeerFactory = Callable[[], RTCPeerConnection]


def ignore_rtp(packet: TappedPacket, datagram: bytes, arrival_time_ms: int) -> None:
    pass


def test_check_compatible_passes_on_the_pinned_aiortc() -> None:
    assert aiortc.__version__ == AIORTC_VERSION
    check_compatible()


def test_another_aiortc_version_is_reported_unless_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aiortc, "__version__", "1.17.0")
    with pytest.raises(AiortcIncompatibleError, match=r"aiortc 1\.17\.0 is installed"):
        check_compatible()
    check_compatible(allow_other_version=True)


async def _send_rtp_with_address(self: RTCDtlsTransport, data: bytes, address: str) -> None:
    pass


def _sync_handle_rtcp(self: RTCRtpSender, packet: AnyRtcpPacket) -> None:
    pass


async def _run_rtcp_without_counters(self: RTCRtpSender) -> None:
    pass


def _init_without_jitter_buffer(self: RTCRtpReceiver, kind: str, transport: RTCDtlsTransport) -> None:
    pass


def _flush_jitter_buffer(self: RTCRtpReceiver) -> None:
    # A (fake) new receiver method using the jitter buffer, which the tap's stand-in does not support.
    self._RTCRtpReceiver__jitter_buffer.remove(1)  # type: ignore[attr-defined]


async def _gather_elsewhere(self: aioice.ice.Connection) -> None:
    pass


async def _send_rtp_elsewhere(self: RTCDtlsTransport, data: bytes) -> None:
    pass


async def _sendto_elsewhere(self: aioice.ice.Connection, data: bytes, component: int) -> None:
    pass


async def _handle_rtp_without_rtcp(self: RTCRtpReceiver, packet: RtpPacket, arrival_time_ms: int) -> None:
    pass


async def _recv_elsewhere(self: RTCDtlsTransport) -> None:
    pass


async def _stop_without_waiting(self: RTCRtpSender) -> None:
    pass


def _estimate_without_bitrate(
    self: RemoteBitrateEstimator, arrival_time_ms: int, abs_send_time: int, payload_size: int, ssrc: int
) -> None:
    pass


@pytest.mark.parametrize(
    ("owner", "name", "replacement", "message"),
    [
        (RTCRtpReceiver, "_handle_rtp_packet", None, r"RTCRtpReceiver\._handle_rtp_packet is missing"),
        (RTCRtpReceiver, "_RTCRtpReceiver__stop_decoder", None, r"__stop_decoder is missing"),
        (RTCDtlsTransport, "_send_rtp", _send_rtp_with_address, r"_send_rtp signature changed"),
        (RTCRtpSender, "_handle_rtcp_packet", _sync_handle_rtcp, r"Sender\._handle_rtcp_packet is no longer"),
        (RTCRtpSender, "_run_rtcp", _run_rtcp_without_counters, r"_run_rtcp no longer refers to '_RTCRtp"),
        (RTCRtpReceiver, "__init__", _init_without_jitter_buffer, r"'_RTCRtpReceiver__jitter_buffer'"),
        (RTCRtpReceiver, "_flush", _flush_jitter_buffer, r"jitter buffer is used by \['__init__', '_flush'"),
        (aioice.ice.Connection, "gather_candidates", _gather_elsewhere, r"'get_host_addresses'"),
        (RTCDtlsTransport, "_send_rtp", _send_rtp_elsewhere, r"_send_rtp no longer refers to '_tx_srtp'"),
        (aioice.ice.Connection, "sendto", _sendto_elsewhere, r"sendto no longer refers to '_nominated'"),
        (RTCRtpReceiver, "_send_rtcp", None, r"RTCRtpReceiver\._send_rtcp is missing"),
        (RTCRtpReceiver, "_handle_rtp_packet", _handle_rtp_without_rtcp, r"'_send_rtcp' \(its estimator's"),
        (
            RTCRtpSender,
            "stop",
            _stop_without_waiting,
            r"stop no longer refers to '_RTCRtpSender__rtcp_started'",
        ),
        (
            RemoteBitrateEstimator,
            "add",
            _estimate_without_bitrate,
            r"add no longer refers to 'incoming_bitrate'",
        ),
        (
            RTCDtlsTransport,
            "_recv_next",
            _recv_elsewhere,
            r"_recv_next no longer refers to '_handle_rtp_data'",
        ),
    ],
)
def test_a_changed_internal_is_named(
    monkeypatch: pytest.MonkeyPatch,
    owner: type,
    name: str,
    replacement: Callable[..., object] | None,
    message: str,
) -> None:
    if replacement is None:
        monkeypatch.delattr(owner, name)
    else:
        monkeypatch.setattr(owner, name, replacement, raising=False)
    with pytest.raises(AiortcIncompatibleError, match=message):
        check_compatible()


async def test_hooks_check_the_instances_they_are_given(
    new_peer: PeerFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    transceiver = new_peer().addTransceiver("video", direction="sendrecv")
    monkeypatch.delattr(transceiver.receiver, "_RTCRtpReceiver__jitter_buffer")
    monkeypatch.delattr(transceiver.sender, "_RTCRtpSender__octet_count")
    with pytest.raises(AiortcIncompatibleError, match="_RTCRtpReceiver__jitter_buffer"):
        attach_rtp_tap(transceiver.receiver, ignore_rtp)
    with pytest.raises(AiortcIncompatibleError, match="_RTCRtpSender__octet_count"):
        RawRtpSender(transceiver.sender)


async def test_hooks_refuse_to_attach_twice_or_too_late(new_peer: PeerFactory) -> None:
    fresh = new_peer().addTransceiver("video", direction="sendrecv")
    attach_rtp_tap(fresh.receiver, ignore_rtp)
    with pytest.raises(RuntimeError, match="already has an RTP tap"):
        attach_rtp_tap(fresh.receiver, ignore_rtp)
    with pytest.raises(ValueError, match="real track"):
        RawRtpSender(new_peer().addTransceiver(VideoStreamTrack(), direction="sendonly").sender)

    leg = ViewerLeg(new_peer)
    await leg.connect()
    with pytest.raises(RuntimeError, match="before the receiver starts"):
        attach_rtp_tap(leg.receiver, ignore_rtp)
    with pytest.raises(RuntimeError, match="before the sender starts"):
        RawRtpSender(leg.server.getTransceivers()[0].sender)


async def test_silent_track_yields_nothing_until_stopped() -> None:
    track = SilentTrack("audio")
    assert track.kind == "audio"
    receiving = asyncio.ensure_future(track.recv())
    track.stop()
    with pytest.raises(MediaStreamError):
        await within(receiving)
    with pytest.raises(ValueError, match="kind"):
        SilentTrack("data")


def test_announced_addresses_replace_aioice_host_discovery() -> None:
    # The autouse fixture announces 127.0.0.1; put it back the way it found it afterwards.
    previous = announce_addresses(["127.0.0.1", "::1", "192.0.2.7"])
    try:
        assert previous == ("127.0.0.1",)
        assert aioice.ice.get_host_addresses(True, False) == ["127.0.0.1", "192.0.2.7"]
        assert aioice.ice.get_host_addresses(False, True) == ["::1"]
        with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 address"):
            announce_addresses(["localhost"])
        with pytest.raises(ValueError, match="at least one"):
            announce_addresses([])
        assert announce_addresses(None) == ("127.0.0.1", "::1", "192.0.2.7")
        assert aioice.ice.get_host_addresses is aiortc_hooks._ORIGINAL_GET_HOST_ADDRESSES
    finally:
        announce_addresses(previous)


def test_configuration_never_uses_the_default_public_stun_server() -> None:
    configuration = rtc_configuration()
    assert configuration.iceServers == []
    assert configuration.bundlePolicy == RTCBundlePolicy.MAX_BUNDLE
    turn = aiortc.RTCIceServer("turn:turn.example:3478", username="u", credential="p")
    assert rtc_configuration([turn]).iceServers == [turn]
