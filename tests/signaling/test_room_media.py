"""Media through the room protocol: real aiortc participants publish and subscribe over socket.io."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiortc import (
    AudioStreamTrack,
    MediaStreamTrack,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError

from media.aiortc_hooks import announce_addresses, observe_rtcp, rtc_configuration
from tests.media_engine.clients import PliCamera
from tests.signaling.test_room_protocol import NS, Peer, admitted, close_all, scene  # noqa: F401
from tiaojie.settings import Settings, load_settings

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        {},
        overrides={
            "data_dir": tmp_path / "var",
            "secret_key": "test-secret-" + "x" * 40,
            "announced_addresses": ("127.0.0.1",),
        },
    )


@pytest.fixture(autouse=True)
def loopback_only() -> Iterator[None]:
    previous = announce_addresses(["127.0.0.1"])
    yield
    announce_addresses(previous)


class MediaPeer:
    """A participant's browser: publishes camera and microphone, answers the server's subscribe offers,
    and counts decoded video frames per publisher."""

    def __init__(self, peer: Peer) -> None:
        self.peer = peer
        self.publish_pc = RTCPeerConnection(rtc_configuration())
        self.subscribe_pc = RTCPeerConnection(rtc_configuration())
        self.tracks: dict[str, Any] = {}
        self.frames: Counter[str] = Counter()
        self.changed = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.subscribe_pc.on("track", self._on_track)
        peer.sio.on("subscribe_offer", self._on_offer, namespace=NS)

    async def publish(self) -> None:
        self.publish_pc.addTransceiver(AudioStreamTrack(), "sendonly")
        # A small browser-like camera: keyframes only at the start and on PLI, cheap to encode.
        camera = PliCamera()
        sender = self.publish_pc.addTransceiver(camera, "sendonly").sender
        observe_rtcp(sender, camera.watch)
        await self.publish_pc.setLocalDescription(await self.publish_pc.createOffer())
        reply = await self.peer.call("publish", {"sdp": self.publish_pc.localDescription.sdp})
        assert reply["ok"], reply
        await self.publish_pc.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"], type="answer"))

    async def _on_offer(self, data: dict[str, Any]) -> None:
        self.tracks = data["tracks"]
        await self.subscribe_pc.setRemoteDescription(RTCSessionDescription(sdp=data["sdp"], type="offer"))
        await self.subscribe_pc.setLocalDescription(await self.subscribe_pc.createAnswer())
        reply = await self.peer.call("subscribe_answer", {"sdp": self.subscribe_pc.localDescription.sdp})
        assert reply["ok"], reply

    def _on_track(self, track: MediaStreamTrack) -> None:
        transceiver = next(t for t in self.subscribe_pc.getTransceivers() if t.receiver.track is track)
        self._tasks.append(asyncio.ensure_future(self._consume(str(transceiver.mid), track)))

    async def _consume(self, mid: str, track: MediaStreamTrack) -> None:
        try:
            while True:
                await track.recv()
                info = self.tracks.get(mid)
                if info and info["kind"] == "video":
                    self.frames[info["publisher_id"]] += 1
                    self.changed.set()
        except MediaStreamError:
            pass

    async def until(self, condition: Callable[[], bool], seconds: float = 15) -> None:
        async def wait() -> None:
            while not condition():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(wait(), seconds)

    async def close(self) -> None:
        await self.publish_pc.close()
        await self.subscribe_pc.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def sees_everyone_else(peer: MediaPeer, others: list[str]) -> Callable[[], bool]:
    return lambda: all(peer.frames[x] >= 5 for x in others)


async def test_three_participants_see_each_other_and_a_caucus_cuts_media(scene: dict[str, Any]) -> None:  # noqa: F811
    peers = await admitted(scene, "worker", "employer")
    ids = scene["ids"]
    media = {name: MediaPeer(peer) for name, peer in peers.items()}
    try:
        for peer in media.values():
            await peer.publish()
        for name, peer in media.items():
            await peer.until(sees_everyone_else(peer, [ids[o] for o in media if o != name]))

        # A caucus: the mediator with the worker; the employer alone in the main room.
        mediator = peers["mediator"]
        assert (await mediator.call("open_subroom", {"subroom": "c1", "label": "c1"}))["ok"]
        for pid in (ids["worker"], ids["mediator"]):
            assert (await mediator.call("move", {"participant_id": pid, "subroom": "c1"}))["ok"]
        employer = media["employer"]
        frozen = {pid: employer.frames[pid] for pid in (ids["worker"], ids["mediator"])}
        worker = media["worker"]
        before = worker.frames[ids["mediator"]]
        await worker.until(lambda: worker.frames[ids["mediator"]] >= before + 10)
        # The employer got nothing more from the caucus while the worker kept receiving the mediator.
        assert all(employer.frames[pid] <= frozen[pid] + 2 for pid in frozen)

        assert (await mediator.call("close_subrooms"))["ok"]
        await employer.until(lambda: employer.frames[ids["worker"]] >= frozen[ids["worker"]] + 10)

        # A malformed publish offer is refused and the room goes on.
        reply = await peers["worker"].call("publish", {"sdp": "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n"})
        assert not reply["ok"]
        assert reply["error"]["code"] == "bad_sdp"
    finally:
        for peer in media.values():
            await peer.close()
        await close_all(peers)
