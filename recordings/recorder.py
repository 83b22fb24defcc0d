"""The recorder: a system participant of each room that records what the room's consent plan allows.

The room decides *what* may be recorded (:meth:`rooms.room.Room.recording_plan`: for each part of the
session, main room or caucus sub-room, that is being recorded, the people whose media may be in it); the
recorder makes it so, the way the media engine follows the room. For each part it keeps one recording (its
own row, directory and manifest: sub-rooms are never mixed into the main room), and for each permitted
person's published track a tap on the forwarded packets (stream copy, nothing decoded). People who leave the
part, or withdraw, stop being recorded at once; their earlier segments stay in the recording. When a part
stops, its files are closed and the recording sealed with its manifest.

The media side is reached through :class:`RecordableMedia`, which the room's media engine implements.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from recordings.segments import TrackKind
from recordings.service import (
    HEARTBEAT_SECONDS,
    add_track,
    heartbeat,
    recording_directory,
    seal,
    start_recording,
)
from recordings.tables import Recording
from recordings.writer import PacketSink, RecordingWriter, TrackStats
from rooms.tables import MediationSession
from store.database import Database
from tiaojie.clock import Clock
from tiaojie.errors import NotFound

__all__ = [
    "PacketSink",
    "PublishedTrack",
    "RecordableMedia",
    "Recorder",
    "RecorderConfig",
    "RecorderLoad",
]

log = logging.getLogger(__name__)


class PublishedTrack(Protocol):
    @property
    def publisher_id(self) -> str: ...

    @property
    def source(self) -> str:
        """``audio``, ``camera`` or ``screen``."""

    @property
    def kind(self) -> str:
        """``audio`` or ``video``."""


class RecordableMedia(Protocol):
    """What the recorder needs from a room's media engine."""

    @property
    def video_codec(self) -> str:
        """The room's video codec by its SDP name; only VP8 video is recorded."""

    def published(self, participant_id: str) -> Collection[PublishedTrack]: ...

    def set_recorder(self, publisher_id: str, source: str, sink: PacketSink | None) -> None:
        """Give every RTP packet of this track to ``sink`` as already parsed (sequence number, timestamp,
        marker, payload without padding); None stops it."""

    def request_keyframe(self, publisher_id: str, source: str) -> None: ...


@dataclass(frozen=True, slots=True)
class RecorderConfig:
    media_root: Path
    node: str
    segment_seconds: int = 60
    retention_days: int = 180


@dataclass(frozen=True, slots=True)
class RecorderLoad:
    """What this process's recorder is doing, and has done since it started (for the metrics)."""

    recordings: int  # parts being recorded now
    tracks: int  # tracks being written now
    backlog_bytes: int  # frames handed to the writer threads and not yet written
    frames: int  # frames written (or queued to be), since the start
    frames_dropped: int  # frames dropped because the disk was too slow, since the start
    keyframe_requests: int


@dataclass
class _Part:
    recording_id: str
    writer: RecordingWriter
    tracks: dict[tuple[str, str], str] = field(default_factory=dict)  # (publisher, source) → track id
    tapped: set[tuple[str, str]] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    # The published track each recorded one was last fed from: a new one is a new stream (a reconnect).
    sources: dict[tuple[str, str], PublishedTrack] = field(default_factory=dict)


class Recorder:
    """Implements the rooms' recording sync over the media engines and the recordings tables."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: RecorderConfig,
        media_for: Callable[[str], RecordableMedia | None],
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self._media_for = media_for
        self._parts: dict[tuple[str, str], _Part] = {}  # (session id, part) → recording in progress
        self._beating: asyncio.Task[None] | None = None
        self._finished = TrackStats()  # the counters of the tracks of every part stopped so far
        self._closing: list[_Part] = []  # parts stopped whose files are being closed

    def load(self) -> RecorderLoad:
        """Read when the metrics are scraped (nothing is counted per packet here)."""
        totals = TrackStats(
            self._finished.frames, self._finished.dropped_backlog, self._finished.keyframe_requests
        )
        backlog = tracks = 0
        for part in (*self._parts.values(), *self._closing):
            backlog += part.writer.backlog_bytes
            tracks += len(part.tapped)
            for track_id in part.tracks.values():
                _add_stats(totals, part.writer.stats(track_id))
        return RecorderLoad(
            recordings=len(self._parts),
            tracks=tracks,
            backlog_bytes=backlog,
            frames=totals.frames,
            frames_dropped=totals.dropped_backlog,
            keyframe_requests=totals.keyframe_requests,
        )

    def active(self, session_id: str) -> dict[str, str]:
        """The parts of a session being recorded, with their recording ids."""
        return {part: rec.recording_id for (sid, part), rec in self._parts.items() if sid == session_id}

    async def sync(
        self, session_id: str, plan: Mapping[str, Collection[str]], labels: Mapping[str, str]
    ) -> None:
        """Make the recordings of a session match ``plan`` (part → people whose media may be recorded)."""
        for sid, part in [key for key in self._parts if key[0] == session_id]:
            if part not in plan:
                await self._stop(sid, part)
        media = self._media_for(session_id)
        for part, people in plan.items():
            current = self._parts.get((session_id, part))
            if current is None:
                current = await self._start(session_id, part, labels.get(part, part))
            await self._follow(current, media, set(people))

    async def close(self, session_id: str) -> None:
        """The session is over (or its room closed): stop and seal every part."""
        for sid, part in [key for key in self._parts if key[0] == session_id]:
            await self._stop(sid, part)

    async def shutdown(self) -> None:
        """The server stops: close and seal everything still recording."""
        for sid, part in list(self._parts):
            await self._stop(sid, part)
        if self._beating is not None:
            self._beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beating

    async def _beat(self) -> None:
        """Renew the heartbeat of the recordings in progress (a stale one is taken as cut off)."""
        while self._parts:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            try:
                await heartbeat(self.db, [p.recording_id for p in self._parts.values()], self.clock.now())
            except Exception:
                log.exception("recording heartbeat failed")

    # --- parts ----------------------------------------------------------------------------------------

    async def _start(self, session_id: str, part: str, label: str) -> _Part:
        async with self.db.session() as session:
            mediation = await session.get(MediationSession, session_id)
            if mediation is None:
                raise NotFound("session not found", resource="session")
            recording = await start_recording(
                session,
                mediation=mediation,
                part=part,
                label=label,
                node=self.config.node,
                at=self.clock.now(),
            )
            directory = recording_directory(self.config.media_root, recording)
        loop = asyncio.get_running_loop()
        writer = RecordingWriter(
            directory,
            segment_ms=self.config.segment_seconds * 1000,
            now=loop.time,
            request_keyframe=lambda track_id: self._keyframe(session_id, part, track_id),
        )
        entry = _Part(recording.id, writer)
        self._parts[(session_id, part)] = entry
        if self._beating is None or self._beating.done():
            self._beating = asyncio.create_task(self._beat())
        log.info("recording %s started (session %s, part %s)", recording.id, session_id, part)
        return entry

    def _keyframe(self, session_id: str, part: str, track_id: str) -> None:
        media = self._media_for(session_id)
        entry = self._parts.get((session_id, part))
        if media is None or entry is None:
            return
        for (publisher, source), known in entry.tracks.items():
            if known == track_id:
                media.request_keyframe(publisher, source)
                return

    async def _follow(self, entry: _Part, media: RecordableMedia | None, people: set[str]) -> None:
        """Tap exactly the published tracks of ``people``; untap everyone else's.

        Taps are set again on every call (cheap, and a publisher who renegotiated has new track objects).
        """
        wanted: dict[tuple[str, str], PublishedTrack] = {}
        if media is not None:
            for person in people:
                try:
                    published = media.published(person)
                except NotFound:
                    continue  # admitted, but no media connection yet: the next sync picks it up
                for track in published:
                    wanted[(track.publisher_id, track.source)] = track
        for key in entry.tapped - wanted.keys():
            if media is not None:
                media.set_recorder(key[0], key[1], None)
            entry.tapped.discard(key)
        if media is None:
            return
        for key, track in wanted.items():
            if track.kind == "video" and media.video_codec.upper() != "VP8":
                note = f"{track.source} of {track.publisher_id} not recorded: only VP8 video is recorded"
                if note not in entry.notes:
                    entry.notes.append(note)
                continue
            track_id = entry.tracks.get(key)
            if track_id is None:
                track_id = await self._new_track(entry, track)
                entry.tracks[key] = track_id
            elif entry.sources.get(key) is not track:
                # The publisher reconnected (or renegotiated): another SSRC, other sequence numbers and
                # timestamps. The same file goes on, anchored afresh from the next keyframe.
                entry.writer.restart_track(track_id)
            entry.sources[key] = track
            media.set_recorder(key[0], key[1], entry.writer.sink(track_id))
            entry.tapped.add(key)

    async def _new_track(self, entry: _Part, track: PublishedTrack) -> str:
        kind = TrackKind.VIDEO if track.kind == "video" else TrackKind.AUDIO
        async with self.db.session() as session:
            recording = await session.get(Recording, entry.recording_id)
            assert recording is not None
            row = await add_track(
                session,
                recording,
                participant_id=track.publisher_id,
                kind=kind,
                source=track.source,
                codec="vp8" if kind is TrackKind.VIDEO else "opus",
                at=self.clock.now(),
            )
            track_id = row.id
        entry.writer.add_track(track_id, kind)
        return track_id

    async def _stop(self, session_id: str, part: str) -> None:
        entry = self._parts.pop((session_id, part), None)
        if entry is None:
            return
        media = self._media_for(session_id)
        for publisher, source in entry.tapped:
            if media is not None:
                media.set_recorder(publisher, source, None)
        entry.tapped.clear()
        self._closing.append(entry)  # still counted by load() until its counters are final
        try:
            segments = await entry.writer.close()
        finally:
            self._closing.remove(entry)
            for track_id in entry.tracks.values():
                _add_stats(self._finished, entry.writer.stats(track_id))
        failures = entry.writer.failures()
        notes = [*entry.notes, *(f"track {t} stopped writing: {why}" for t, why in failures.items())]
        for track_id in entry.tracks.values():  # frames the disk could not take in time: say so
            dropped = entry.writer.stats(track_id).dropped_backlog
            if dropped:
                notes.append(f"track {track_id}: {dropped} frame(s) dropped, the disk was too slow")
        async with self.db.session() as session:
            recording = await session.get(Recording, entry.recording_id)
            if recording is None:
                return
            await seal(
                session,
                recording,
                segments=segments,
                ended_at=self.clock.now(),
                interrupted=False,
                retention_days=self.config.retention_days,
                note="; ".join(notes) or None,
            )
        log.info("recording %s sealed (session %s, part %s)", entry.recording_id, session_id, part)


def _add_stats(into: TrackStats, other: TrackStats) -> None:
    into.frames += other.frames
    into.dropped_backlog += other.dropped_backlog
    into.keyframe_requests += other.keyframe_requests
