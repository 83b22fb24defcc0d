"""The recorder's file side: forwarded RTP packets in on the event loop, WebM segments out on one thread.

:class:`RecordingWriter` takes each recorded track's packets as the forwarder sees them (``on_packet``,
cheap, on the event loop): it reassembles frames (:mod:`recordings.frames`), places them on the recording's
timeline, decides segment cuts and keyframe requests (:class:`~recordings.segments.SegmentPlan`), and hands
the muxing to a single writer thread, so that a slow disk never stalls the media. What is queued for the
thread is bounded (:data:`MAX_BACKLOG_BYTES`): beyond it frames are dropped, counted and the track waits for
a keyframe, so memory stays flat whatever the disk does.

Timeline: each track's RTP clock is tied to the recording's clock by arrival times (the earliest arrival
relative to the RTP clock over the track's first second), and frames are placed by their RTP timestamps
from there (extended past wrap-around), so all tracks of a recording share one clock and audio stays with
video even when the first packets came late.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from media.rtp import RtpHeader
from recordings.frames import EncodedFrame, OpusFrames, Vp8Assembler
from recordings.segments import SegmentInfo, SegmentPlan, TrackFile, TrackKind

__all__ = ["MAX_BACKLOG_BYTES", "RecordingWriter", "TrackStats"]

log = logging.getLogger(__name__)

MAX_BACKLOG_BYTES = 8 << 20
ANCHOR_MS = 1000
BATCH_SECONDS = 0.1
_CLOCK_RATES = {TrackKind.AUDIO: 48_000, TrackKind.VIDEO: 90_000}


@dataclass
class TrackStats:
    """Counters of one recorded track, for the manifest's notes and the metrics."""

    frames: int = 0
    dropped_backlog: int = 0
    keyframe_requests: int = 0


@dataclass
class _Track:
    id: str
    kind: TrackKind
    assembler: Vp8Assembler | OpusFrames
    plan: SegmentPlan
    file: TrackFile
    stats: TrackStats = field(default_factory=TrackStats)
    origin: tuple[int, int] | None = None  # (extended RTP timestamp, its time on the timeline in ms)
    # Until the origin is fixed: the first frames with their arrival times (see _place).
    anchoring: list[tuple[EncodedFrame, int]] = field(default_factory=list)
    segments: list[SegmentInfo] = field(default_factory=list)  # only touched on the writer thread
    failed: BaseException | None = None  # likewise


class RecordingWriter:
    """Writes the tracks of one recording under ``directory``; see the module's docstring.

    ``request_keyframe(track_id)`` is called (on the loop) when a video track needs a keyframe: at the start,
    after a loss, and just before a segment is due. ``now()`` is a monotonic clock in seconds.
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
        self._closed = False
        # Frames are handed to the thread in batches (one job per BATCH_SECONDS, not one per frame): waking
        # the thread for each of a room's ≈250 frames a second cost more than the muxing itself.
        self._batch: list[tuple[_Track, str, int, EncodedFrame]] = []
        self._batch_timer: asyncio.TimerHandle | None = None

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
        assembler: Vp8Assembler | OpusFrames = Vp8Assembler() if kind is TrackKind.VIDEO else OpusFrames()
        self._tracks[track_id] = _Track(
            track_id,
            kind,
            assembler,
            SegmentPlan(kind, self.segment_ms),
            TrackFile(self.directory, track_id, kind, channels=channels),
        )
        if kind is TrackKind.VIDEO:
            self._ask_keyframe(self._tracks[track_id])

    def on_packet(self, track_id: str, packet: RtpHeader) -> None:
        """One forwarded packet of a recorded track (unknown tracks and a closed recording ignore it)."""
        track = self._tracks.get(track_id)
        if track is None or self._closed:
            return
        for frame in track.assembler.push(packet):
            self._place(track, frame)
        if track.kind is TrackKind.VIDEO and track.plan.wants_keyframe(self.elapsed_ms):
            self._ask_keyframe(track)

    def _ask_keyframe(self, track: _Track) -> None:
        track.stats.keyframe_requests += 1
        self._request_keyframe(track.id)

    def _place(self, track: _Track, frame: EncodedFrame) -> None:
        """Put a frame on the recording's timeline and hand it on.

        A track's RTP clock is tied to the timeline by arrival times: over its first :data:`ANCHOR_MS`, the
        earliest arrival relative to the RTP clock wins (a first packet that came late, or a sender that was
        catching up, would otherwise shift the whole track later). Those first frames wait until then.
        """
        if track.origin is None:
            track.anchoring.append((frame, self.elapsed_ms))
            first_arrival = track.anchoring[0][1]
            if self.elapsed_ms - first_arrival < ANCHOR_MS:
                return
            self._fix_origin(track)
            waiting, track.anchoring = track.anchoring, []
            for early, _ in waiting:
                self._emit(track, early)
            return
        self._emit(track, frame)

    def _fix_origin(self, track: _Track) -> None:
        rate = _CLOCK_RATES[track.kind]
        first_ts = track.anchoring[0][0].timestamp
        origin_ms = min(arrival - (f.timestamp - first_ts) * 1000 // rate for f, arrival in track.anchoring)
        track.origin = (first_ts, max(origin_ms, 0))

    def _emit(self, track: _Track, frame: EncodedFrame) -> None:
        assert track.origin is not None
        first_ts, first_ms = track.origin
        pts = first_ms + (frame.timestamp - first_ts) * 1000 // _CLOCK_RATES[track.kind]
        if self.backlog_bytes + len(frame.data) > MAX_BACKLOG_BYTES:
            track.stats.dropped_backlog += 1
            if isinstance(track.assembler, Vp8Assembler):
                track.assembler.require_keyframe()
                self._ask_keyframe(track)
            return
        action = track.plan.accept(pts, frame.keyframe)
        if action is None:
            return
        track.stats.frames += 1
        self._queued += len(frame.data)
        self._batch.append((track, action, pts, frame))
        if self._batch_timer is None:
            self._batch_timer = asyncio.get_running_loop().call_later(BATCH_SECONDS, self._hand_over)

    def _hand_over(self) -> None:
        """Give the frames gathered since the last hand-over to the writer thread in one job."""
        if self._batch_timer is not None:
            self._batch_timer.cancel()
            self._batch_timer = None
        if self._batch:
            batch, self._batch = self._batch, []
            self._executor.submit(self._write_batch, batch)

    def _write_batch(self, batch: list[tuple[_Track, str, int, EncodedFrame]]) -> None:
        """On the writer thread."""
        for track, action, pts, frame in batch:
            self._write(track, action, pts, frame)

    def _write(self, track: _Track, action: str, pts: int, frame: EncodedFrame) -> None:
        """On the writer thread."""
        try:
            if track.failed is not None:
                return
            if action == "write":
                track.file.write(pts, frame.data, keyframe=frame.keyframe)
            else:
                closed = track.file.start_segment(pts, frame.data)
                if closed is not None:
                    track.segments.append(closed)
        except Exception as exc:  # a full disk, a vanished directory: keep what is written, say so
            log.exception("recording track %s stopped writing", track.id)
            track.failed = exc
        finally:
            self._done += len(frame.data)

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
            for track in self._tracks.values():  # tracks shorter than the anchoring window
                if track.origin is None and track.anchoring:
                    self._fix_origin(track)
                    waiting, track.anchoring = track.anchoring, []
                    for early, _ in waiting:
                        self._emit(track, early)
            self._closed = True
            self._hand_over()
            await asyncio.wrap_future(self._executor.submit(self._close_all))
            self._executor.shutdown(wait=True)
        return {track_id: list(track.segments) for track_id, track in self._tracks.items()}

    def failures(self) -> dict[str, str]:
        """Tracks that stopped writing, with the reason (read after :meth:`close`)."""
        return {t.id: repr(t.failed) for t in self._tracks.values() if t.failed is not None}
