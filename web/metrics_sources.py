"""What the metrics say, read when they are scraped: this process's rooms, media, recorder, webhook worker,
HTTP requests and process, and the deployment's queues in the database.

Nothing here runs per packet or per request: the media engine, the recorder's writers, the webhook worker
and the HTTP middleware keep their own counters, and these functions only read them.
"""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from media.forwarder import MediaStats
from recordings.recorder import Recorder
from recordings.tables import Recording
from rooms.room import ParticipantState, Role
from signaling.hub import Hub
from tiaojie import __version__
from tiaojie.metrics import Family
from web.http_metrics import HttpMetrics
from web.read_cache import ReadCache
from webhooks.tables import WebhookDelivery, WebhookEndpoint

__all__ = ["LocalSources", "database_families", "local_families"]

# The media engine's counters (media.forwarder.MediaStats), as metrics.
_MEDIA: dict[str, tuple[str, str]] = {
    "packets_received": ("tiaojie_rtp_packets_received_total", "RTP packets received from publishers."),
    "packets_forwarded": (
        "tiaojie_rtp_packets_forwarded_total",
        "RTP packets forwarded to subscribers (one per subscriber), retransmissions excluded.",
    ),
    "bytes_forwarded": ("tiaojie_rtp_bytes_forwarded_total", "Bytes of the RTP packets forwarded."),
    "packets_dropped": (
        "tiaojie_rtp_packets_dropped_total",
        "Packets not forwarded to a subscriber: waiting for a keyframe, muted, duplicate, too old, "
        "malformed.",
    ),
    "send_failures": (
        "tiaojie_rtp_send_failures_total",
        "Packets a subscriber's transport refused (not connected yet, or closing).",
    ),
    "keyframe_requests": ("tiaojie_keyframe_requests_total", "Reasons to want a keyframe from a publisher."),
    "plis_sent": ("tiaojie_rtcp_plis_sent_total", "PLIs sent to publishers after merging and rate limiting."),
    "nacks_received": ("tiaojie_rtcp_nacks_received_total", "NACK packets from subscribers."),
    "nacked_packets": ("tiaojie_rtp_nacked_packets_total", "Sequence numbers subscribers' NACKs asked for."),
    "rtx_sent": ("tiaojie_rtp_retransmissions_total", "NACKed packets answered with an RTX retransmission."),
    "nack_misses": (
        "tiaojie_rtp_nack_misses_total",
        "NACKed packets no longer cached (answered with a keyframe request instead).",
    ),
    "rembs_received": ("tiaojie_rtcp_rembs_received_total", "Subscribers' REMBs about a forwarded stream."),
    "rembs_sent": ("tiaojie_rtcp_rembs_sent_total", "REMBs sent to publishers."),
}
assert set(_MEDIA) == {f.name for f in fields(MediaStats)}, "every media counter is a metric"


@dataclass
class LocalSources:
    """Where this process's figures come from (one per application)."""

    hub: Hub
    recorder: Recorder | None
    http: HttpMetrics
    webhook_outcomes: Counter[str] = field(default_factory=Counter)
    started: float = field(default_factory=time.time)
    read_cache: ReadCache | None = None


def _read_cache_families(cache: ReadCache | None) -> list[Family]:
    if cache is None:
        return []
    return [
        Family("tiaojie_read_cache_hits_total", "counter", "Case reads answered from the read cache.").add(
            cache.hits
        ),
        Family(
            "tiaojie_read_cache_misses_total",
            "counter",
            "Case reads that had to be read (not kept, or changed).",
        ).add(cache.misses),
        _gauge("tiaojie_read_cache_answers", "Answers the read cache holds.", len(cache)),
        _gauge("tiaojie_read_cache_bytes", "Bytes of answers the read cache holds.", cache.size),
    ]


def _gauge(name: str, help_text: str, value: float) -> Family:
    return Family(name, "gauge", help_text).add(value)


def _room_families(hub: Hub) -> list[Family]:
    seats: Counter[tuple[str, str]] = Counter()
    published: Counter[str] = Counter()
    forwarded: Counter[str] = Counter()
    for live in hub.rooms.values():
        for seat in live.room.seats.values():
            seats[(seat.role.value, seat.state.value)] += 1
        if live.media is not None:
            tracks, streams = live.media.track_counts()
            published.update(tracks)
            forwarded.update(streams)
    participants = Family(
        "tiaojie_participants",
        "gauge",
        "Seats in this process's rooms, by role and state (lobby, present …).",
    )
    for role in Role:
        for state in ParticipantState:
            participants.add(seats[(role.value, state.value)], {"role": role.value, "state": state.value})
    tracks_family = Family("tiaojie_media_published_tracks", "gauge", "Tracks being published, by kind.")
    streams_family = Family(
        "tiaojie_media_forwarded_streams",
        "gauge",
        "Streams being forwarded to subscribers (one per subscriber and track), by kind.",
    )
    for kind in ("audio", "video"):
        tracks_family.add(published[kind], {"kind": kind})
        streams_family.add(forwarded[kind], {"kind": kind})
    return [
        _gauge("tiaojie_rooms_open", "Rooms (live sessions) held by this process.", len(hub.rooms)),
        _gauge(
            "tiaojie_room_connections", "Room protocol connections to this process.", len(hub.connections)
        ),
        participants,
        tracks_family,
        streams_family,
    ]


def _media_families(totals: MediaStats) -> list[Family]:
    return [
        Family(name, "counter", help_text).add(getattr(totals, attr))
        for attr, (name, help_text) in _MEDIA.items()
    ]


def _recorder_families(recorder: Recorder | None) -> list[Family]:
    if recorder is None:
        return []
    load = recorder.load()
    return [
        _gauge(
            "tiaojie_recordings_active", "Parts of sessions being recorded by this process.", load.recordings
        ),
        _gauge("tiaojie_recorder_tracks", "Tracks being written by this process's recorder.", load.tracks),
        _gauge(
            "tiaojie_recorder_backlog_bytes",
            "Frames handed to the recorder's writer threads and not yet on disk.",
            load.backlog_bytes,
        ),
        Family("tiaojie_recorder_frames_total", "counter", "Frames recorded.").add(load.frames),
        Family(
            "tiaojie_recorder_frames_dropped_total",
            "counter",
            "Frames dropped because the disk did not keep up (named in the recording's note).",
        ).add(load.frames_dropped),
    ]


def _webhook_families(outcomes: Counter[str]) -> list[Family]:
    family = Family(
        "tiaojie_webhook_attempts_total",
        "counter",
        "Webhook delivery attempts made by this process, by outcome: delivered, retry (failed, tried again "
        "later), failed (gave up after the last retry), gone (410, endpoint disabled).",
    )
    for outcome in ("delivered", "retry", "failed", "gone"):
        family.add(outcomes[outcome], {"outcome": outcome})
    return [family]


def _process_families(started: float, read: Callable[[str], str | None]) -> list[Family]:
    families = [
        Family("tiaojie_build_info", "gauge", "The running version.").add(
            1, {"version": __version__, "python": platform.python_version()}
        ),
        _gauge("process_start_time_seconds", "When this process started serving (unix time).", started),
        Family(
            "process_cpu_seconds_total", "counter", "CPU time used by this process (user and system)."
        ).add(time.process_time()),
    ]
    statm = read("/proc/self/statm")
    if statm:
        pages = int(statm.split()[1])
        families.append(
            _gauge("process_resident_memory_bytes", "Resident memory.", pages * resource.getpagesize())
        )
    with contextlib.suppress(OSError):
        families.append(
            _gauge("process_open_fds", "Open file descriptors.", len(os.listdir("/proc/self/fd")))
        )
    return families


def _read_text(path: str) -> str | None:
    try:
        with open(path) as fh:
            return fh.read()
    except OSError:
        return None


def local_families(sources: LocalSources) -> list[Family]:
    """This process's figures (the scraped process adds a ``node`` label to each)."""
    return [
        *_room_families(sources.hub),
        *_media_families(sources.hub.media_totals.snapshot()),
        *_recorder_families(sources.recorder),
        *_webhook_families(sources.webhook_outcomes),
        *sources.http.families(),
        *_read_cache_families(sources.read_cache),
        *_process_families(sources.started, _read_text),
    ]


async def _counts(session: AsyncSession, column: Any, *where: Any) -> dict[str, int]:
    rows = await session.execute(select(column, func.count()).where(*where).group_by(column))
    return {str(key): int(count) for key, count in rows}


def _by_status(name: str, help_text: str, counts: dict[str, int], statuses: tuple[str, ...]) -> Family:
    family = Family(name, "gauge", help_text)
    for status in statuses:
        family.add(counts.get(status, 0), {"status": status})
    return family


async def database_families(session: AsyncSession, now: datetime) -> list[Family]:
    """The deployment's queues, the same whichever process is asked (so they carry no ``node`` label)."""
    d = WebhookDelivery
    waiting = ("pending", "failed")
    oldest = await session.scalar(select(func.min(d.created_at)).where(d.status == "pending"))
    queued = ("queued", "rendering")
    return [
        _by_status(
            "tiaojie_webhook_deliveries",
            "Webhook deliveries waiting (pending, including those being retried) and given up (failed).",
            await _counts(session, d.status, d.status.in_(waiting)),
            waiting,
        ),
        _gauge(
            "tiaojie_webhook_oldest_pending_age_seconds",
            "Age of the oldest webhook delivery not yet delivered (0 when none waits).",
            max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0,
        ),
        _by_status(
            "tiaojie_webhook_endpoints",
            "Court webhook endpoints, by status.",
            await _counts(session, WebhookEndpoint.status),
            ("active", "disabled"),
        ),
        _by_status(
            "tiaojie_render_jobs",
            "Playback renderings queued or running.",
            await _counts(session, Recording.render_status, Recording.render_status.in_(queued)),
            queued,
        ),
        _by_status(
            "tiaojie_recordings",
            "Recordings in the database, by status (recording, complete, …).",
            await _counts(session, Recording.status),
            ("recording", "complete", "interrupted", "deleted"),
        ),
    ]
