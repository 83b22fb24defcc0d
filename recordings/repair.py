"""Close a segment file that a crash left open: keep every frame that can still be read, in a proper file.

The Matroska muxer flushes each closed cluster, so after ``kill -9`` a segment is readable up to its last
closed cluster but has no final sizes or cues, and its last cluster may be cut off mid-block. Repairing
copies the readable packets (stream copy: no decode, no encode) into a new file next to it and replaces the
original atomically; a file with nothing readable is renamed ``*.unreadable`` so that nobody mistakes it for
a recording, and reported as empty.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import av.error

from recordings.segments import CLUSTER_MS

__all__ = ["RepairResult", "repair_segment"]


@dataclass(frozen=True, slots=True)
class RepairResult:
    """What was kept of a segment: frames, the first and last packet times (ms), and the final path."""

    path: Path
    frames: int
    first_ms: int
    last_ms: int

    @property
    def empty(self) -> bool:
        return self.frames == 0


def _readable_packets(path: Path) -> tuple[list[av.Packet[Any]], av.container.InputContainer | None]:
    try:
        source = av.open(str(path), "r")
    except (av.error.FFmpegError, OSError):
        return [], None
    packets: list[av.Packet[Any]] = []
    if source.streams:
        with contextlib.suppress(av.error.FFmpegError, OSError):
            for packet in source.demux(source.streams[0]):
                if packet.size == 0 or packet.pts is None:
                    continue  # the demuxer's end-of-stream marker
                packets.append(packet)
    return packets, source


def repair_segment(path: Path) -> RepairResult:
    """Rewrite ``path`` with the frames that can be read from it; see the module's docstring."""
    packets, source = _readable_packets(path)
    try:
        if not packets or source is None:
            unreadable = path.with_name(path.name + ".unreadable")
            os.replace(path, unreadable)
            return RepairResult(unreadable, 0, 0, 0)
        stream = source.streams[0]
        scale = stream.time_base
        assert scale is not None
        temporary = path.with_name(path.name + ".repairing")
        target = av.open(str(temporary), "w", format="webm", options={"cluster_time_limit": str(CLUSTER_MS)})
        try:
            copy = target.add_stream_from_template(stream)
            for packet in packets:
                packet.stream = copy
                target.mux(packet)
        finally:
            target.close()
        os.replace(temporary, path)
        first, last = packets[0].pts, packets[-1].pts
        assert first is not None
        assert last is not None
        return RepairResult(path, len(packets), int(first * scale * 1000), int(last * scale * 1000))
    finally:
        if source is not None:
            source.close()
