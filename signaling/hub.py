"""The rooms that live on this node, and who is connected to them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from media.engine import RoomMedia
from media.totals import ForwardingTotals
from rooms.room import Room
from rooms.showing import Stage
from signaling.ratelimit import TokenBucket

__all__ = ["Connection", "Hub", "LiveRoom"]


@dataclass(slots=True)
class Connection:
    sid: str
    session_id: str
    participant_id: str
    case_id: str
    ready: bool = False  # the client asked for its first snapshot (socket.io connects after the handler)
    closing: bool = False
    events: TokenBucket = field(default_factory=lambda: TokenBucket(rate=10.0, burst=30.0))
    chat: TokenBucket = field(default_factory=lambda: TokenBucket(rate=0.5, burst=5.0))
    strikes: int = 0


@dataclass(slots=True)
class LiveRoom:
    room: Room
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    sids: dict[str, str] = field(default_factory=dict)  # participant id -> socket id
    media: RoomMedia | None = None
    stage: Stage = field(default_factory=Stage)  # the agreement shown where (rooms/showing.py)


class Hub:
    def __init__(self, grace_seconds: float) -> None:
        self.grace_seconds = grace_seconds
        self.rooms: dict[str, LiveRoom] = {}
        self.connections: dict[str, Connection] = {}
        self.lingering: set[str] = set()  # told to close, disconnected by the next sweep
        self.media_totals = ForwardingTotals()  # the forwarding counters of every room this node had

    def room(self, session_id: str) -> LiveRoom:
        live = self.rooms.get(session_id)
        if live is None:
            live = LiveRoom(Room(session_id, grace_seconds=self.grace_seconds))
            self.rooms[session_id] = live
        return live

    def forget_if_empty(self, session_id: str) -> None:
        live = self.rooms.get(session_id)
        if live is not None and (live.room.ended or not live.room.seats):
            del self.rooms[session_id]
