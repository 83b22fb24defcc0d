"""The engine's API contract without media flowing: errors, one codec per room, offers only when needed."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from aiortc import RTCPeerConnection, RTCRtpSender, VideoStreamTrack

from media.aiortc_hooks import rtc_configuration
from media.codecs import Codec
from media.engine import MediaConfig, RoomMedia
from tests.media_engine.conftest import Groups
from tiaojie.errors import Conflict, InvalidInput, NotFound

LOOPBACK = MediaConfig(announced_addresses=("127.0.0.1",))


@pytest.fixture
async def engine() -> AsyncIterator[RoomMedia]:
    media = RoomMedia("session-1", Groups(alice="main", bob="main"), LOOPBACK)
    yield media
    await media.close()


@pytest.fixture
async def client_pc() -> AsyncIterator[RTCPeerConnection]:
    pc = RTCPeerConnection(rtc_configuration())
    yield pc
    await pc.close()


async def offer(pc: RTCPeerConnection, *kinds: str, codec: str | None = None) -> str:
    for kind in kinds:
        transceiver = pc.addTransceiver(VideoStreamTrack() if kind == "video" else kind, "sendonly")
        if codec is not None and kind == "video":
            capabilities = RTCRtpSender.getCapabilities("video").codecs
            transceiver.setCodecPreferences([c for c in capabilities if c.mimeType == codec])
    await pc.setLocalDescription(await pc.createOffer())
    return str(pc.localDescription.sdp)


def rtpmaps(sdp: str, kind: str) -> list[str]:
    section = sdp.split(f"m={kind} ")[1].split("\r\nm=")[0]
    return re.findall(r"^a=rtpmap:\d+ ([^/\r]+)/", section, re.M)


@pytest.mark.timeout(20)
async def test_unknown_and_duplicate_participants_are_refused(engine: RoomMedia) -> None:
    await engine.add_participant("alice")
    with pytest.raises(Conflict):
        await engine.add_participant("alice")
    with pytest.raises(NotFound):
        await engine.publish_offer("mallory", "v=0\r\n")
    with pytest.raises(NotFound):
        await engine.subscribe_offer("mallory")
    with pytest.raises(NotFound):
        engine.set_muted("mallory", "audio", True)
    with pytest.raises(NotFound):
        await engine.remove_participant("mallory")
    with pytest.raises(InvalidInput):
        engine.set_muted("alice", "smell", True)
    await engine.remove_participant("alice")
    with pytest.raises(NotFound):
        await engine.subscribe_offer("alice")


@pytest.mark.timeout(20)
async def test_the_answer_accepts_only_the_rooms_codecs(
    engine: RoomMedia, client_pc: RTCPeerConnection
) -> None:
    await engine.add_participant("alice")
    sdp = await offer(client_pc, "audio", "video")
    assert "H264" in rtpmaps(sdp, "video")  # aiortc offers VP8 and H.264 ...
    answer = await engine.publish_offer("alice", sdp)
    assert rtpmaps(answer, "video") == ["VP8", "rtx"]  # ... the room takes VP8 only
    assert rtpmaps(answer, "audio") == ["opus"]
    assert re.search(r"^a=recvonly", answer, re.M)
    assert sorted(engine.published("alice")) == [("alice", "audio", "audio"), ("alice", "camera", "video")]


@pytest.mark.timeout(20)
async def test_a_publisher_without_the_rooms_codec_is_refused(
    engine: RoomMedia, client_pc: RTCPeerConnection
) -> None:
    await engine.add_participant("alice")
    sdp = await offer(client_pc, "video", codec="video/H264")
    with pytest.raises(InvalidInput) as refused:
        await engine.publish_offer("alice", sdp)
    assert refused.value.code == "bad_sdp"


@pytest.mark.timeout(20)
async def test_malformed_offers_and_answers_are_refused(engine: RoomMedia) -> None:
    await engine.add_participant("alice")
    with pytest.raises(InvalidInput):
        await engine.publish_offer("alice", "v=0\r\ns=-\r\n")  # no media
    with pytest.raises(InvalidInput):
        await engine.publish_offer("alice", "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n")  # no mid
    with pytest.raises(Conflict):
        await engine.subscribe_answer("alice", "v=0\r\n")  # nothing was offered


@pytest.mark.timeout(20)
async def test_sources_name_the_sections(engine: RoomMedia, client_pc: RTCPeerConnection) -> None:
    await engine.add_participant("alice")
    sdp = await offer(client_pc, "video", "video")
    with pytest.raises(InvalidInput):
        await engine.publish_offer("alice", sdp, sources={"0": "audio"})
    await engine.publish_offer("alice", sdp, sources={"0": "screen"})
    assert sorted(engine.published("alice")) == [("alice", "camera", "video"), ("alice", "screen", "video")]
    assert [info.source for info in engine.published("alice") if info.source == "screen"] == ["screen"]


@pytest.mark.timeout(20)
async def test_no_subscribe_offer_while_there_is_nothing_to_see(engine: RoomMedia) -> None:
    renegotiate: list[str] = []
    engine.on_renegotiate = renegotiate.append
    await engine.add_participant("alice")
    assert await engine.subscribe_offer("alice") is None
    assert engine.subscriptions("alice") == {}
    await engine.add_participant("bob")
    assert renegotiate == []  # bob publishes nothing yet


@pytest.mark.timeout(20)
async def test_a_new_track_asks_its_audience_to_renegotiate_once(
    engine: RoomMedia, client_pc: RTCPeerConnection
) -> None:
    renegotiate: list[str] = []
    engine.on_renegotiate = renegotiate.append
    await engine.add_participant("alice")
    await engine.add_participant("bob")
    await engine.publish_offer("alice", await offer(client_pc, "audio", "video"))
    assert renegotiate == ["bob"]
    await engine.refresh_audience()
    assert renegotiate == ["bob"]  # not again until bob takes the offer
    sdp = await engine.subscribe_offer("bob")
    assert sdp is not None
    assert rtpmaps(sdp, "video") == ["VP8", "rtx"]
    assert sorted((i.publisher_id, i.source, i.kind) for i in engine.subscriptions("bob").values()) == [
        ("alice", "audio", "audio"),
        ("alice", "camera", "video"),
    ]
    assert await engine.subscribe_offer("bob") is None  # one offer at a time


def test_a_room_has_one_video_codec() -> None:
    assert MediaConfig().video_codec is Codec.VP8
    assert MediaConfig(video_codec=Codec.H264).video_codec is Codec.H264
    with pytest.raises(ValueError, match="VP8 or H264"):
        MediaConfig(video_codec=Codec.OPUS)


@pytest.mark.timeout(20)
async def test_a_closed_room_refuses_everything(engine: RoomMedia) -> None:
    await engine.add_participant("alice")
    await engine.close()
    with pytest.raises(Conflict):
        await engine.add_participant("bob")
    with pytest.raises(Conflict):
        await engine.subscribe_offer("alice")
    await engine.close()  # idempotent
