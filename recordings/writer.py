"""The recorder's file side: forwarded RTP packets in on the event loop, WebM segments out on one thread.

:class:`RecordingWriter` takes each recorded track's packets as the forwarder has already parsed them
(:meth:`RecordingWriter.sink`: sequence number, timestamp, marker and payload; cheap, on the event loop): it
reassembles frames (:mod:`recordings.frames`), places them on the recording's timeline, decides segment
cuts and keyframe requests (:class:`~recordings.segments.SegmentPlan`), and hands the muxing to a single
writer thread, so that a slow disk never stalls the media. What is queued for the thread is bounded
(:data:`MAX_BACKLOG_BYTES`): beyond it frames are dropped, counted and the track waits for a keyframe, so
memory stays flat whatever the disk does.

What runs per packet is kept to the least, because it runs next to the forwarding of every packet: a video
packet arriving in order is appended to its frame's list (:class:`~recordings.frames.Vp8Assembler`), and an
audio packet (50 a second per microphone) is checked for duplicates and set aside; the work per frame
(timeline, segment plan, backlog) is done once per video frame as it completes and once per
:data:`BATCH_SECONDS` for the audio frames set aside, and the frames go to the writer thread in one job per
:data:`BATCH_SECONDS`: waking the thread costs more than muxing a frame (on this project's virtual machines
≈80 µs of CPU per wake-up, against ≈2 µs per frame), so it is woken four times a second, not for each of a
room's ≈240 frames. A frame waits at most that long before it is muxed; the muxer then holds it until its
cluster closes (:data:`~recordings.segments.CLUSTER_MS`), which bounds what a crash can lose.

Timeline: each track's RTP clock is tied to the recording's clock by arrival times (the earliest arrival
relative to the RTP clock over the track's first second), and frames are placed by their RTP timestamps
from there (extended past wrap-around), so all tracks of a recording share one clock and audio stays with
video even when the first packets came late.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from media.rtp import RtpHeader
from recordings.frames import EncodedFrame, OpusFrames, Vp8Assembler
from recordings.segments import SegmentInfo, SegmentPlan, TrackFile, TrackKind

__all__ = ["MAX_BACKLOG_BYTES", "PacketSink", "RecordingWriter", "TrackStats"]

log = logging.getLogger(__name__)

MAX_BACKLOG_BYTES = 8 << 20
ANCHOR_MS = 1000
BATCH_SECONDS = 0.25
_CLOCK_RATES = {TrackKind.AUDIO: 48_000, TrackKind.VIDEO: 90_000}

PacketSink = Callable[[int, int, int, bytes], None]
"""``sink(sequence number, RTP timestamp, marker, payload)``: one packet of a recorded track, its payload
without padding (what :class:`media.forwarder.SourceTrack` hands its recorder)."""


@dataclass
class TrackStats:
    """Counters of one recorded track, for the manifest's notes and the metrics."""

    frames: int = 0
    dropped_backlog: int = 0
    keyframe_requests: int = 0


class _Track:
    """One recorded track: its packets' way in (:meth:`on_video` / :meth:`on_audio`, the sink), its place on
    the timeline and its segment file (the file and ``segments``/``failed`` only on the writer thread)."""

    __slots__ = (
        "anchoring",
        "assembler",
        "failed",
        "file",
        "id",
        "kind",
        "live",
        "opus",
        "origin",
        "outbox",
        "plan",
        "rate",
        "ready",
        "segments",
        "stats",
        "writer",
    )

    def __init__(self, writer: RecordingWriter, track_id: str, kind: TrackKind, file: TrackFile) -> None:
        self.writer = writer
        self.id = track_id
        self.kind = kind
        self.rate = _CLOCK_RATES[kind]
        self.assembler = Vp8Assembler()
        self.opus = OpusFrames()
        self.plan = SegmentPlan(kind, writer.segment_ms)
        self.file = file
        self.stats = TrackStats()
        self.live = True  # False once the recording is closed: packets are ignored
        self.origin: tuple[int, int] | None = None  # (extended RTP timestamp, its time on the timeline in ms)
        # Until the origin is fixed: the first frames with their arrival times (see RecordingWriter._place).
        self.anchoring: list[tuple[EncodedFrame, int]] = []
        self.ready: list[EncodedFrame] = []  # audio frames waiting for the next hand-over
        # Frames placed since the last hand-over, for the thread: (pts, keyframe, data, opens a segment).
        self.outbox: list[tuple[int, bool, bytes, bool]] = []
        self.segments: list[SegmentInfo] = []
        self.failed: BaseException | None = None

    def on_video(self, seq: int, timestamp: int, marker: int, payload: bytes) -> None:
        if not self.live:
            return
        frames = self.assembler.take(seq, timestamp, marker, payload)
        if frames:
            self.writer._place(self, frames)
        if marker:  # once per frame: time to ask for a keyframe (the next segment's, or one still missing)?
            writer = self.writer
            if self.plan.wants_keyframe(writer.elapsed_ms, needed=self.assembler.waiting_for_keyframe):
                writer._ask_keyframe(self)

    def on_audio(self, seq: int, timestamp: int, marker: int, payload: bytes) -> None:
        if not self.live:
            return
        frame = self.opus.take(seq, timestamp, payload)
        if frame is not None:
            if self.origin is None:
                self.writer._place(self, (frame,))
            else:
                self.ready.append(frame)


class RecordingWriter:
    """Writes the tracks of one recording under ``directory``; see the module's docstring.

    ``request_keyframe(track_id)`` is called (on the loop) when a video track needs a keyframe: at the start,
    after a loss, and just before a segment is due. ``now()`` is a monotonic clock in seconds. Create it and
    add its tracks on the event loop that will run it.
    """

    def __init__(
        self,
        directory: Path,
        *,
        segment_ms: int,
        now: Callable[[], float],
        request_keyframe: Callable[[str], None],
    ) -> None:
        self.directory = directory
        self.segment_ms = segment_ms
        self._now = now
        self._request_keyframe = request_keyframe
        self._start = now()
        self._tracks: dict[str, _Track] = {}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="recorder")
        # Bytes handed to the thread and bytes it has finished with: each counter has one writer (the loop,
        # the thread), so neither needs a lock, and their difference is the backlog.
        self._queued = 0
        self._done = 0
        self._handed = 0  # bytes handed to the thread so far (of _queued)
        self._closed = False
        self._ticker: asyncio.TimerHandle | None = None

    @property
    def elapsed_ms(self) -> int:
        return round((self._now() - self._start) * 1000)

    @property
    def backlog_bytes(self) -> int:
        return self._queued - self._done

    def stats(self, track_id: str) -> TrackStats:
        return self._tracks[track_id].stats

    def add_track(self, track_id: str, kind: TrackKind, *, channels: int = 2) -> None:
        if self._closed:
            raise RuntimeError("the recording is closed")
        if track_id in self._tracks:
            raise ValueError(f"track {track_id} is already recorded")
        track = _Track(self, track_id, kind, TrackFile(self.directory, track_id, kind, channels=channels))
        self._tracks[track_id] = track
        if self._ticker is None:
            self._ticker = asyncio.get_running_loop().call_later(BATCH_SECONDS, self._tick)
        if kind is TrackKind.VIDEO:
            self._ask_keyframe(track)

    def restart_track(self, track_id: str) -> None:
        """The track's stream starts again (its publisher reconnected: a new SSRC, new sequence numbers and
        timestamps). What was assembled of the old stream is placed first; then the new one is assembled from
        its first keyframe and anchored afresh by arrival time, on the same timeline, into the same file."""
        track = self._tracks.get(track_id)
        if track is None or not track.live:
            return
        if track.anchoring:
            self._end_anchoring(track)
        if track.ready:
            self._emit(track, track.ready)
            track.ready = []
        track.assembler = Vp8Assembler()
        track.opus = OpusFrames()
        track.origin = None
        if track.kind is TrackKind.VIDEO:
            self._ask_keyframe(track)

    def sink(self, track_id: str) -> PacketSink:
        """The function to give every packet of a recorded track to (see :data:`PacketSink`)."""
        track = self._tracks[track_id]
        return track.on_video if track.kind is TrackKind.VIDEO else track.on_audio

    def on_packet(self, track_id: str, packet: RtpHeader) -> None:
        """One packet of a recorded track, parsed (unknown tracks and a closed recording ignore it)."""
        track = self._tracks.get(track_id)
        if track is not None:
            self.sink(track_id)(packet.sequence_number, packet.timestamp, packet.marker, packet.payload)

    def _ask_keyframe(self, track: _Track) -> None:
        track.stats.keyframe_requests += 1
        self._request_keyframe(track.id)

    def _place(self, track: _Track, frames: Sequence[EncodedFrame]) -> None:
        """Put frames on the recording's timeline and hand them on.

        A track's RTP clock is tied to the timeline by arrival times: over its first :data:`ANCHOR_MS`, the
        earliest arrival relative to the RTP clock wins (a first packet that came late, or a sender that was
        catching up, would otherwise shift the whole track later). Those first frames wait until then.
        """
        if track.origin is not None:
            self._emit(track, frames)
            return
        now = self.elapsed_ms
        track.anchoring += [(frame, now) for frame in frames]
        if now - track.anchoring[0][1] >= ANCHOR_MS:
            self._end_anchoring(track)

    def _end_anchoring(self, track: _Track) -> None:
        first_ts = track.anchoring[0][0].timestamp
        origin_ms = min(
            arrival - (f.timestamp - first_ts) * 1000 // track.rate for f, arrival in track.anchoring
        )
        track.origin = (first_ts, max(origin_ms, 0))
        waiting, track.anchoring = track.anchoring, []
        self._emit(track, [frame for frame, _ in waiting])

    def _emit(self, track: _Track, frames: Sequence[EncodedFrame]) -> None:
        assert track.origin is not None
        first_ts, first_ms = track.origin
        rate = track.rate
        accept = track.plan.accept
        outbox = track.outbox
        broken = False  # a video frame was dropped: the frames after it need it, until a keyframe
        for frame in frames:
            pts = first_ms + (frame.timestamp - first_ts) * 1000 // rate
            size = len(frame.data)
            if broken and not frame.keyframe:
                track.stats.dropped_backlog += 1
                continue
            if self._queued - self._done + size > MAX_BACKLOG_BYTES:
                track.stats.dropped_backlog += 1
                if track.kind is TrackKind.VIDEO:
                    broken = True
                    track.assembler.require_keyframe()
                    self._ask_keyframe(track)
                continue
            broken = False
            action = accept(pts, frame.keyframe)
            if action is None:
                continue
            track.stats.frames += 1
            self._queued += size
            outbox.append((pts, frame.keyframe, frame.data, action != "write"))

    def _tick(self) -> None:
        self._ticker = None
        self._hand_over()
        if not self._closed:
            self._ticker = asyncio.get_running_loop().call_later(BATCH_SECONDS, self._tick)

    def _hand_over(self) -> None:
        """Place the audio frames set aside and give the frames gathered since the last hand-over to the
        writer thread in one job."""
        jobs = []
        for track in self._tracks.values():
            if track.ready:
                ready, track.ready = track.ready, []
                self._emit(track, ready)
            if track.outbox:
                jobs.append((track, track.outbox))
                track.outbox = []
        if jobs:
            size, self._handed = self._queued - self._handed, self._queued
            self._executor.submit(self._write_jobs, jobs, size)

    def _write_jobs(self, jobs: list[tuple[_Track, list[tuple[int, bool, bytes, bool]]]], size: int) -> None:
        """On the writer thread: each track's frames (``size`` bytes in all)."""
        try:
            for track, frames in jobs:
                if track.failed is not None:
                    continue
                try:
                    track.segments += track.file.write_frames(frames)
                except Exception as exc:  # a full disk, a vanished directory: keep what is written, say so
                    log.exception("recording track %s stopped writing", track.id)
                    track.failed = exc
        finally:
            self._done += size

    def _close_all(self) -> None:
        for track in self._tracks.values():
            try:
                last = track.file.close()
            except Exception as exc:
                log.exception("recording track %s could not be closed", track.id)
                track.failed = track.failed or exc
                continue
            if last is not None:
                track.segments.append(last)

    async def flush(self) -> None:
        """Wait until every frame taken so far is in the files."""
        if not self._closed:
            self._hand_over()
            await asyncio.wrap_future(self._executor.submit(lambda: None))

    async def close(self) -> dict[str, list[SegmentInfo]]:
        """Finish every track's last segment and return the segments of every track, by track id."""
        if not self._closed:
            for track in self._tracks.values():
                track.live = False
                if track.origin is None and track.anchoring:  # tracks shorter than the anchoring window
                    self._end_anchoring(track)
            self._closed = True
            if self._ticker is not None:
                self._ticker.cancel()
                self._ticker = None
            self._hand_over()
            await asyncio.wrap_future(self._executor.submit(self._close_all))
            self._executor.shutdown(wait=True)
        return {track_id: list(track.segments) for track_id, track in self._tracks.items()}

    def failures(self) -> dict[str, str]:
        """Tracks that stopped writing, with the reason (read after :meth:`close`)."""
        return {t.id: repr(t.failed) for t in self._tracks.values() if t.failed is not None}
