"""One recorded track as a series of WebM segment files, written by stream copy (no decode, no encode).

:class:`SegmentPlan` is the pure part: given each frame's time and whether it is a keyframe, it decides
when a segment ends (video: at the first keyframe from a little before ``segment_ms`` on, so that every
segment starts decodable and the keyframe asked for then is the one that opens it; audio: at
``segment_ms``) and when to ask the publisher for a keyframe (at that point, and again if none came). It
runs on the event loop next to the media.

:class:`TrackFile` is the blocking part, run on the recorder's writer thread: it muxes frames into the
current segment with PyAV and closes segments, returning what the manifest needs (start, duration, size,
SHA-256). The Matroska muxer closes a cluster every :data:`CLUSTER_MS` and flushes each write, so a process
killed mid-segment leaves a file readable up to its last closed cluster: a crash loses the open cluster and
the frames not yet handed to the writer thread (:data:`recordings.writer.BATCH_SECONDS`), at most about a
second and a quarter.

Times are integer milliseconds from the start of the recording (Matroska's default timecode scale), so the
segments of all tracks of one recording share one timeline.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import av.container

from recordings.frames import opus_head, vp8_dimensions

__all__ = [
    "CLUSTER_MS",
    "SegmentInfo",
    "SegmentPlan",
    "TrackFile",
    "TrackKind",
    "file_sha256",
    "frame_interval_ms",
]

CLUSTER_MS = 1000
KEYFRAME_LEAD_MS = 1000  # ask for the segment's opening keyframe this long before it is due (at most)
KEYFRAME_RETRY_MS = 2000  # and again this often while it has not come
_MS = Fraction(1, 1000)


class TrackKind(enum.StrEnum):
    AUDIO = "audio"
    VIDEO = "video"


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """A closed segment: the file (relative to the recording's directory) and what the manifest says of it."""

    index: int
    file: str
    start_ms: int
    duration_ms: int
    frames: int
    bytes: int
    sha256: str


class SegmentPlan:
    """When to cut the next segment and when to ask for a keyframe; pure, see the module's docstring."""

    def __init__(self, kind: TrackKind, segment_ms: int) -> None:
        if segment_ms < 2 * KEYFRAME_LEAD_MS:
            raise ValueError("segments must be at least two seconds long")
        self.kind = kind
        self.segment_ms = segment_ms
        self.lead_ms = min(KEYFRAME_LEAD_MS, segment_ms // 10)
        self._start: int | None = None
        self._asked_at: int | None = None

    @property
    def started(self) -> bool:
        return self._start is not None

    def accept(self, pts_ms: int, keyframe: bool) -> str | None:
        """What to do with a frame: ``"open"`` (the first segment starts with it), ``"rotate"`` (close the
        current segment and start the next with it), ``"write"`` (append it), or None (drop it: nothing is
        written before the first keyframe)."""
        if self._start is None:
            if self.kind is TrackKind.VIDEO and not keyframe:
                return None
            self._start = pts_ms
            self._asked_at = None
            return "open"
        age = pts_ms - self._start
        if self.kind is TrackKind.AUDIO:
            due = age >= self.segment_ms
        else:  # the keyframe asked for at segment_ms - lead opens the next segment as soon as it comes
            due = keyframe and age >= self.segment_ms - self.lead_ms
        if due:
            self._start = pts_ms
            self._asked_at = None
            return "rotate"
        return "write"

    def wants_keyframe(self, now_ms: int, *, needed: bool = False) -> bool:
        """Whether to ask the publisher for a keyframe now (video only; rate-limited here as well): before the
        next segment is due, or at once when ``needed`` (the frames wait for one after a loss)."""
        if self.kind is not TrackKind.VIDEO:
            return False
        if not needed and self._start is not None and now_ms - self._start < self.segment_ms - self.lead_ms:
            return False
        if self._asked_at is not None and now_ms - self._asked_at < KEYFRAME_RETRY_MS:
            return False
        self._asked_at = now_ms
        return True


def frame_interval_ms(first_ms: int, last_ms: int, frames: int) -> int:
    """How long a segment's last frame lasts: its average frame interval (one late frame after a stall must
    not stretch the segment); 0 for a single frame."""
    if frames < 2:
        return 0
    return (last_ms - first_ms) // (frames - 1)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class TrackFile:
    """Writes one track's segments under ``directory`` as ``<stem>-<index>.webm``; blocking, one thread."""

    def __init__(self, directory: Path, stem: str, kind: TrackKind, *, channels: int = 2) -> None:
        self.directory = directory
        self.stem = stem
        self.kind = kind
        self.channels = channels
        self._container: av.container.OutputContainer | None = None
        self._stream: av.stream.Stream | None = None
        self._index = -1
        self._start = 0
        self._last = -1
        self._frames = 0

    def path(self, index: int) -> Path:
        return self.directory / f"{self.stem}-{index:04d}.webm"

    @property
    def open(self) -> bool:
        return self._container is not None

    def start_segment(self, pts_ms: int, data: bytes) -> SegmentInfo | None:
        """Close the current segment (returned) and open the next, which begins with this frame."""
        closed = self.close(end_ms=pts_ms)
        self._index += 1
        self.directory.mkdir(parents=True, exist_ok=True)
        container = av.open(
            str(self.path(self._index)),
            "w",
            format="webm",
            options={"cluster_time_limit": str(CLUSTER_MS), "flush_packets": "1"},
        )
        if self.kind is TrackKind.VIDEO:
            size = vp8_dimensions(data)
            if size is None:
                container.close()
                raise ValueError("a video segment must start with a VP8 keyframe")
            video = container.add_stream("vp8")
            video.width, video.height = size
            stream: av.stream.Stream = video
        else:
            audio = container.add_stream("opus", rate=48_000)
            audio.codec_context.extradata = opus_head(self.channels)
            stream = audio
        stream.time_base = _MS
        self._container, self._stream = container, stream
        self._start = pts_ms
        self._last = pts_ms - 1
        self._frames = 0
        self.write(pts_ms, data, keyframe=True)
        return closed

    def write(self, pts_ms: int, data: bytes, *, keyframe: bool) -> None:
        """Append a frame; times that do not increase are nudged to keep the file's timeline monotonic."""
        self.write_frames(((pts_ms, keyframe, data, False),))

    def write_frames(self, frames: Iterable[tuple[int, bool, bytes, bool]]) -> list[SegmentInfo]:
        """Append frames ``(pts_ms, keyframe, data, opens_segment)`` in order, as :meth:`write` does; a frame
        that opens a segment closes the current one first (:meth:`start_segment`). Returns the segments
        closed. One call per batch of frames: the writer thread's cost per frame is little more than PyAV's.
        """
        closed: list[SegmentInfo] = []
        stream: av.stream.Stream | None = self._stream
        mux = None if self._container is None else self._container.mux_one
        last, count = self._last, 0
        try:
            for pts, keyframe, data, opens in frames:
                if opens:
                    self._last, self._frames = last, self._frames + count
                    count = 0
                    segment = self.start_segment(pts, data)
                    if segment is not None:
                        closed.append(segment)
                    assert self._container is not None
                    stream, mux, last = self._stream, self._container.mux_one, self._last
                    continue
                if mux is None or stream is None:
                    raise RuntimeError("no segment is open")
                last = pts if pts > last else last + 1
                packet = av.Packet(data)
                packet.stream = stream  # its time base, milliseconds, is the stream's (see start_segment)
                packet.pts = packet.dts = last
                packet.is_keyframe = keyframe
                mux(packet)
                count += 1
        finally:
            self._last, self._frames = last, self._frames + count
        return closed

    def _frame_ms(self) -> int:
        return frame_interval_ms(self._start, self._last, self._frames)

    def close(self, end_ms: int | None = None) -> SegmentInfo | None:
        """Finish the open segment, if any, and describe it.

        Its duration runs to ``end_ms`` (where the next segment starts) or else to the end of its last frame,
        taken to last as long as the segment's average frame interval.
        """
        if self._container is None:
            return None
        self._container.close()
        self._container = self._stream = None
        path = self.path(self._index)
        return SegmentInfo(
            index=self._index,
            file=path.relative_to(self.directory).as_posix(),
            start_ms=self._start,
            duration_ms=(end_ms if end_ms is not None else self._last + self._frame_ms()) - self._start,
            frames=self._frames,
            bytes=path.stat().st_size,
            sha256=file_sha256(path),
        )
