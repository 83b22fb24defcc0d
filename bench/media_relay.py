"""The baseline: the same rooms through aiortc's own decode-and-re-encode relay, in a child process.

What a server built on aiortc's public API does: each publisher's tracks are received and **decoded**
(aiortc's receiver, jitter buffer and decoder thread), shared with :class:`aiortc.contrib.media.MediaRelay`,
and sent to every other member of the room through a normal ``RTCRtpSender``, which **encodes** each frame
again for each viewer. Same topology as tiaojie's engine (a publish and a subscribe connection per person),
same clients (:class:`~bench.media_clients.Participant`), but the subscribe offer comes once, when the
whole room has published. Signaling is a pipe (:mod:`bench.pipe_rpc`), not socket.io.

    python -m bench.media_relay --serve     (started by bench.media; not meant to be run by hand)
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.contrib.media import MediaRelay

from bench.media_clients import Participant
from bench.pipe_rpc import Emit, PipeServer, serve_lines
from media.aiortc_hooks import announce_addresses, rtc_configuration

__all__ = ["PipeSignaling", "RelayServer", "main"]


class RelayServer:
    """The child's state: rooms of publishers, each person's two connections."""

    def __init__(self) -> None:
        self.relay = MediaRelay()
        self.connections: dict[str, RTCPeerConnection] = {}
        self.rooms: dict[str, dict[str, list[MediaStreamTrack]]] = {}
        self.subscribers: dict[str, RTCPeerConnection] = {}

    async def handle(self, op: str, request: dict[str, Any], emit: Emit) -> Any:
        if op == "publish":
            return await self.publish(
                request["pid"], request["room"], int(request["size"]), request["sdp"], emit
            )
        if op == "answer":
            await self.subscribers[request["pid"]].setRemoteDescription(
                RTCSessionDescription(sdp=request["sdp"], type="answer")
            )
            return None
        raise ValueError(f"unknown op {op!r}")

    async def publish(self, pid: str, room: str, size: int, sdp: str, emit: Emit) -> str:
        pc = RTCPeerConnection(rtc_configuration())
        self.connections[pid] = pc
        tracks: list[MediaStreamTrack] = []
        pc.on("track", tracks.append)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        members = self.rooms.setdefault(room, {})
        members[pid] = tracks
        if len(members) == size:
            for subscriber in members:
                await self._offer(subscriber, members, emit)
        return pc.localDescription.sdp

    async def _offer(self, subscriber: str, members: dict[str, list[MediaStreamTrack]], emit: Emit) -> None:
        pc = RTCPeerConnection(rtc_configuration())
        self.subscribers[subscriber] = pc
        owners: dict[int, str] = {}
        for publisher, tracks in members.items():
            if publisher == subscriber:
                continue
            for track in tracks:
                sender = pc.addTrack(self.relay.subscribe(track))
                owners[id(sender)] = publisher
        await pc.setLocalDescription(await pc.createOffer())
        mapping = {
            str(t.mid): {"publisher_id": owners[id(t.sender)], "kind": t.kind} for t in pc.getTransceivers()
        }
        emit({"event": "offer", "pid": subscriber, "sdp": pc.localDescription.sdp, "tracks": mapping})

    async def close(self) -> None:
        for pc in (*self.subscribers.values(), *self.connections.values()):
            await pc.close()


class PipeSignaling:
    """A participant's signaling to the relay child: publish over the pipe, offers back as events."""

    def __init__(self, server: PipeServer, participant: Participant, room: str, size: int) -> None:
        self.server = server
        self.participant = participant
        self.room = room
        self.size = size
        participant.id = participant.name
        participant.signaling = self

    async def publish(self, sdp: str, sources: dict[str, str]) -> str:
        pid = self.participant.name
        answer = await self.server.call("publish", pid=pid, room=self.room, size=self.size, sdp=sdp)
        return str(answer)

    async def subscribe_answer(self, sdp: str) -> None:
        await self.server.call("answer", pid=self.participant.name, sdp=sdp)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--serve", action="store_true", required=True)
    parser.parse_args(argv)
    announce_addresses(["127.0.0.1"])
    server = RelayServer()
    asyncio.run(serve_lines(server.handle, server.close))


if __name__ == "__main__":
    main()
