"""Media load benchmark (issue 3): N three-party rooms through the real server, then the same kind of rooms
through aiortc's decode-and-re-encode relay as the baseline, with the load generator on the same machine.

**Tiaojie.** ``tiaojie demo --json`` in a fresh temporary data directory, then ``tiaojie serve`` on port 0
of 127.0.0.1 (announcing ICE candidates on 127.0.0.1 only). N sessions are created through the API (court
key: case, assignment; the mediator's login: acceptance, scheduling), and in each the mediator, the worker
and the employer join with their own links over the room protocol, as the party page does: the worker and
the employer acknowledge, the (generated) mediator checks their identity and admits them at once, and each
publishes a camera and a microphone. **Baseline.** ``--baseline-rooms`` rooms of the same participants
through :mod:`bench.media_relay` (aiortc ``MediaRelay``: decode once, encode again for every viewer).

Every participant sends pre-encoded VP8 640×480 at 30 fps (≈800 kbit/s) and Opus, and counts what it
receives from the RTP header without decoding (:mod:`bench.media_clients`). Reported per run, over
``--seconds`` after a ``--warmup``:

- server CPU-seconds per second, per forwarded stream (one track to one viewer: a three-party room
  forwards 12) and per forwarded packet (packets as received by the generator);
- forwarded packets per second; video frame loss (frames the publishers sent × their viewers, against
  frames that arrived whole) and audio packet loss;
- the time from starting to join to the first whole frame of each publisher already in the room (the
  second and third person of every room);
- server memory (RSS) before the rooms, after, per room, and its growth over the window (sampled every
  ``--sample`` seconds; run ``--seconds 1800`` for the 30-minute check).

    python -m bench.media [--rooms 12] [--seconds 30] [--warmup 5] [--baseline-rooms 1] [--json FILE]

Everything binds 127.0.0.1 only. The server, the generator and anything else running share the machine:
the load average is printed first.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.common import Server, format_table, machine_info, percentile, run_demo
from bench.media_clients import (
    FPS,
    HEIGHT,
    WIDTH,
    Participant,
    ReceivedTotals,
    pre_encoded_audio,
    pre_encoded_video,
)
from bench.media_relay import PipeSignaling
from bench.media_rooms import ROLES, RoomConnection, create_sessions
from bench.pipe_rpc import PipeServer
from bench.procstat import cpu_seconds, rss_mb
from media.aiortc_hooks import announce_addresses
from tiaojie import event_loop

__all__ = ["RunResult", "main"]

LOOPBACK = "127.0.0.1"
STREAMS_PER_ROOM = 3 * 2 * 2  # publishers × viewers each × (audio, video)
VIEWERS = len(ROLES) - 1
GOAL_RATIO = 20.0
GOAL_US_PER_PACKET = 45.0
GOAL_ROOMS = 12
GOAL_FRAME_LOSS = 0.01
GOAL_JOIN_SECONDS = 1.0
GOAL_MB_PER_ROOM = 8.0
GOAL_GROWTH = 0.05


@dataclass
class RunResult:
    """One run's figures."""

    label: str
    rooms: int
    seconds: float = 0.0
    server_cpu: float = 0.0
    """CPU-seconds per second of the server process (1.0 = one core)."""
    server_kernel_share: float = 0.0
    generator_cpu: float = 0.0
    """CPU-seconds per second of the load generator (this process)."""
    sent_fps: float = 0.0
    """Video frames per second each publisher actually sent (30 unless the generator is starved)."""
    streams: int = 0
    forwarded_pps: float = 0.0
    us_per_packet: float = 0.0
    cpu_per_stream: float = 0.0
    frames_expected: int = 0
    frames_whole: int = 0
    frames_broken: int = 0
    frame_loss: float = 0.0
    audio_expected: int = 0
    audio_received: int = 0
    audio_loss: float = 0.0
    join_seconds: list[float] = field(default_factory=list)
    """Join → first whole frame of a publisher already in the room, one per (joiner, publisher)."""
    rss_before_mb: float = 0.0
    rss_after_mb: float = 0.0
    rss_per_room_mb: float = 0.0
    rss_samples: list[tuple[float, float]] = field(default_factory=list)
    """(seconds into the window, RSS MiB)."""
    rss_growth: float = 0.0
    missing: list[str] = field(default_factory=list)
    """Viewers that never received a whole frame of some publisher."""
    errors: list[str] = field(default_factory=list)

    @property
    def join_median(self) -> float:
        return statistics.median(self.join_seconds) if self.join_seconds else float("nan")


# --- one run ----------------------------------------------------------------------------------------------

Joiner = Callable[[int, str, Participant], Awaitable[None]]
"""``join(room_index, role, participant)``: connect the participant and publish."""


async def run_rooms(
    label: str,
    rooms: int,
    join: Joiner,
    server_pid: int,
    media: tuple[list[bytes], list[bytes]],
    args: argparse.Namespace,
    errors: Callable[[], list[str]],
) -> tuple[RunResult, list[Participant]]:
    """Join ``rooms`` rooms one person after another, then measure; returns the figures and the people."""
    result = RunResult(label, rooms, streams=rooms * STREAMS_PER_ROOM)
    result.rss_before_mb = rss_mb(server_pid)
    people: list[list[Participant]] = []
    for index in range(rooms):
        room = [Participant(f"r{index + 1}-{role}", *media) for role in ROLES]
        people.append(room)
        for role, person in zip(ROLES, room, strict=True):
            person.joined_at = time.monotonic()
            await join(index, role, person)
        print(f"  {label}: room {index + 1}/{rooms} joined", flush=True)
    everyone = [person for room in people for person in room]
    await _until_everyone_sees_everyone(people, 20 + 2 * rooms)
    for room in people:
        for position, viewer in enumerate(room):
            for publisher in room[:position]:  # those already in the room when the viewer started joining
                arrived = viewer.first_frame_from(publisher.id or "")
                if arrived is not None:
                    result.join_seconds.append(arrived - viewer.joined_at)
            for publisher in room:
                if publisher is not viewer and viewer.first_frame_from(publisher.id or "") is None:
                    result.missing.append(f"{viewer.name} ← {publisher.name}")
    await asyncio.sleep(args.warmup)

    frames0 = sum(p.camera.sent for p in everyone)
    audio0 = sum(p.microphone.sent for p in everyone)
    received0 = _totals(everyone)
    server0, generator0, wall0 = cpu_seconds(server_pid), time.process_time(), time.monotonic()
    while (elapsed := time.monotonic() - wall0) < args.seconds:
        result.rss_samples.append((round(elapsed, 1), rss_mb(server_pid)))
        await asyncio.sleep(min(args.sample, args.seconds - elapsed))
    server1, generator1, wall1 = cpu_seconds(server_pid), time.process_time(), time.monotonic()
    received = _totals(everyone) - received0
    frames = sum(p.camera.sent for p in everyone) - frames0
    audio = sum(p.microphone.sent for p in everyone) - audio0
    result.rss_after_mb = rss_mb(server_pid)
    result.rss_samples.append((round(wall1 - wall0, 1), result.rss_after_mb))

    seconds = result.seconds = wall1 - wall0
    user, system = (end - begin for begin, end in zip(server0, server1, strict=True))
    result.server_cpu = (user + system) / seconds
    result.server_kernel_share = system / (user + system) if user + system else 0.0
    result.generator_cpu = (generator1 - generator0) / seconds
    result.sent_fps = frames / seconds / len(everyone)
    result.forwarded_pps = received.packets / seconds
    result.us_per_packet = (user + system) / received.packets * 1e6 if received.packets else float("nan")
    result.cpu_per_stream = result.server_cpu / result.streams
    result.frames_expected = frames * VIEWERS
    result.frames_whole, result.frames_broken = received.whole_frames, received.broken_frames
    result.frame_loss = 1 - received.whole_frames / result.frames_expected if result.frames_expected else 1.0
    result.audio_expected = audio * VIEWERS
    result.audio_received = received.packets - received.video_packets
    result.audio_loss = 1 - result.audio_received / result.audio_expected if result.audio_expected else 1.0
    result.rss_per_room_mb = (result.rss_after_mb - result.rss_before_mb) / rooms
    first = result.rss_samples[0][1]
    result.rss_growth = (result.rss_after_mb - first) / first if first else 0.0
    result.errors = errors() + [failure for person in everyone for failure in person.failures]
    return result, everyone


async def _until_everyone_sees_everyone(people: Sequence[Sequence[Participant]], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if all(
            viewer.first_frame_from(publisher.id or "") is not None
            for room in people
            for viewer in room
            for publisher in room
            if publisher is not viewer
        ):
            return
        await asyncio.sleep(0.2)  # polling counters that the receive path updates; bounded by the deadline


def _totals(people: Sequence[Participant]) -> ReceivedTotals:
    total = ReceivedTotals()
    for person in people:
        received = person.received()
        total.packets += received.packets
        total.video_packets += received.video_packets
        total.whole_frames += received.whole_frames
        total.broken_frames += received.broken_frames
    return total


async def _close_all(people: Sequence[Participant]) -> None:
    for person in people:
        with contextlib.suppress(Exception):
            await person.close()


# --- tiaojie ------------------------------------------------------------------------------------------------


def _server_env(data_dir: Path, event_loop: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIAOJIE_")}
    env["TIAOJIE_DATA_DIR"] = str(data_dir)
    env["TIAOJIE_ANNOUNCED_ADDRESSES"] = LOOPBACK
    env["TIAOJIE_LOG_LEVEL"] = "WARNING"
    env["TIAOJIE_EVENT_LOOP"] = event_loop
    return env


async def run_tiaojie(
    args: argparse.Namespace, work: Path, media: tuple[list[bytes], list[bytes]]
) -> RunResult:
    data_dir = work / "tiaojie"
    data_dir.mkdir()
    env = _server_env(data_dir, args.event_loop)
    demo = run_demo(env)
    server = Server(env, work / "server.log")
    connections: list[RoomConnection] = []
    people: list[Participant] = []
    try:
        base_url = server.start()
        print(f"  server pid {server.pid} on {base_url} (log: {server.log_path})", flush=True)
        sessions = await create_sessions(base_url, demo, args.rooms)

        async def join(index: int, role: str, person: Participant) -> None:
            connection = RoomConnection(base_url, person, host=role == "mediator")
            connections.append(connection)
            await connection.join(sessions[index][role])
            await person.publish()

        def errors() -> list[str]:
            return [error for connection in connections for error in connection.errors]

        result, people = await run_rooms("tiaojie", args.rooms, join, server.pid, media, args, errors)
        return result
    except BaseException:
        print(f"  server output (tail):\n{server.log_tail()}", file=sys.stderr)
        raise
    finally:
        await _close_all(people)
        for connection in connections:
            with contextlib.suppress(Exception):
                await connection.close()
        server.stop()


# --- baseline -----------------------------------------------------------------------------------------------


async def run_baseline(args: argparse.Namespace, media: tuple[list[bytes], list[bytes]]) -> RunResult:
    server = await PipeServer.start("bench.media_relay")
    signalings: dict[str, PipeSignaling] = {}
    tasks: set[asyncio.Task[None]] = set()
    failures: list[str] = []
    people: list[Participant] = []

    def on_event(event: dict[str, Any]) -> None:
        signaling = signalings.get(event["pid"])
        if signaling is None:
            return
        task = asyncio.ensure_future(signaling.participant.on_subscribe_offer(event["sdp"], event["tracks"]))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        task.add_done_callback(lambda t: failures.append(repr(t.exception())) if t.exception() else None)

    server.on_event = on_event
    try:

        async def join(index: int, role: str, person: Participant) -> None:
            signalings[person.name] = PipeSignaling(server, person, f"r{index + 1}", len(ROLES))
            await person.publish()

        result, people = await run_rooms(
            "aiortc relay (re-encoding)", args.baseline_rooms, join, server.pid, media, args, lambda: failures
        )
        return result
    finally:
        await _close_all(people)
        await server.stop()


# --- report -------------------------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def print_results(results: Sequence[RunResult]) -> None:
    headers = [
        "run",
        "rooms",
        "streams",
        "srv CPU-s/s",
        "kernel",
        "per stream",
        "µs/fwd pkt",
        "fwd pkt/s",
        "frame loss",
        "broken",
        "audio loss",
        "join p50 ms",
        "join p95 ms",
        "RSS MB",
        "MB/room",
        "gen CPU-s/s",
        "sent fps",
    ]
    rows = []
    for r in results:
        joins = sorted(r.join_seconds)
        rows.append(
            [
                r.label,
                str(r.rooms),
                str(r.streams),
                f"{r.server_cpu:.3f}",
                f"{r.server_kernel_share:.0%}",
                f"{r.cpu_per_stream:.4f}",
                f"{r.us_per_packet:.1f}",
                f"{r.forwarded_pps:,.0f}",
                f"{r.frame_loss:.2%}",
                str(r.frames_broken),
                f"{r.audio_loss:.2%}",
                _ms(r.join_median),
                _ms(percentile(joins, 95)),
                f"{r.rss_after_mb:.0f}",
                f"{r.rss_per_room_mb:.1f}",
                f"{r.generator_cpu:.2f}",
                f"{r.sent_fps:.1f}",
            ]
        )
    print(format_table(headers, rows))
    for r in results:
        for problem in r.missing[:10]:
            print(f"  {r.label}: no whole frame: {problem}")
        for error in r.errors[:10]:
            print(f"  {r.label}: error: {error}")


def goals(tiaojie: RunResult | None, baseline: RunResult | None) -> list[tuple[str, str, bool | None]]:
    """(goal, measured, met?) — None where this run cannot say."""
    lines: list[tuple[str, str, bool | None]] = []
    if tiaojie is None:
        return lines
    if baseline is not None and tiaojie.cpu_per_stream > 0:
        ratio = baseline.cpu_per_stream / tiaojie.cpu_per_stream
        lines.append(
            ("a forwarded stream costs ≤ 1/20 of the baseline's", f"1/{ratio:.0f}", ratio >= GOAL_RATIO)
        )
    lines.append(
        (
            f"≥ {GOAL_ROOMS} three-party rooms with < 1 % frame loss",
            f"{tiaojie.rooms} rooms, {tiaojie.frame_loss:.2%} loss, {len(tiaojie.missing)} without video",
            tiaojie.rooms >= GOAL_ROOMS and tiaojie.frame_loss < GOAL_FRAME_LOSS and not tiaojie.missing,
        )
    )
    lines.append(
        (
            "median join → first remote frame < 1 s",
            f"{_ms(tiaojie.join_median)} ms",
            tiaojie.join_median < GOAL_JOIN_SECONDS,
        )
    )
    lines.append(
        (
            "server memory ≤ 8 MB per three-party room",
            f"{tiaojie.rss_per_room_mb:.1f} MB",
            tiaojie.rss_per_room_mb <= GOAL_MB_PER_ROOM,
        )
    )
    long_enough = tiaojie.seconds >= 1500
    lines.append(
        (
            "memory flat (< 5 % growth) over 30 minutes",
            f"{tiaojie.rss_growth:+.1%} over {tiaojie.seconds / 60:.0f} min",
            (tiaojie.rss_growth < GOAL_GROWTH) if long_enough else None,
        )
    )
    lines.append(
        (
            f"≤ {GOAL_US_PER_PACKET:.0f} µs per forwarded packet at 1→5 (bench/media_fanout.py)",
            f"{tiaojie.us_per_packet:.0f} µs at 1→2 in these rooms",
            None,
        )
    )
    return lines


# --- main ---------------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--rooms", type=int, default=GOAL_ROOMS, help="three-party rooms on tiaojie (12)")
    parser.add_argument("--seconds", type=float, default=30.0, help="measurement window (30)")
    parser.add_argument("--warmup", type=float, default=5.0, help="after everyone sees everyone (5)")
    parser.add_argument("--sample", type=float, default=10.0, help="server RSS sampling period (10)")
    parser.add_argument(
        "--baseline-rooms",
        type=int,
        default=1,
        help="rooms through aiortc's re-encoding relay (1; 0 skips the baseline). Each costs more than a "
        "core: more than two saturate a 2-core machine",
    )
    parser.add_argument("--no-tiaojie", dest="tiaojie", action="store_false", help="only the baseline")
    parser.add_argument(
        "--event-loop",
        choices=("auto", "uvloop", "asyncio"),
        default="auto",
        help="the server's TIAOJIE_EVENT_LOOP (auto: uvloop where installed, as in production)",
    )
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    if args.rooms < 1 and args.tiaojie:
        parser.error("--rooms must be at least 1")
    return args


async def run(args: argparse.Namespace) -> list[RunResult]:
    announce_addresses([LOOPBACK])
    info = machine_info()
    print(
        f"{info['date']}; {info['cpu']}, {info['cores']} cores, {info['memory']}; {info['python']}; "
        f"load average {info['load']}",
        flush=True,
    )
    video, audio = pre_encoded_video(), pre_encoded_audio()
    kbps = sum(len(f) for f in video[1:]) * 8 / ((len(video) - 1) / FPS) / 1000
    print(
        f"each participant sends VP8 {WIDTH}x{HEIGHT} at {FPS} fps ({kbps:.0f} kbit/s) and Opus", flush=True
    )
    loop = event_loop.loop_name(args.event_loop)
    print(f"server event loop: {loop} (TIAOJIE_EVENT_LOOP={args.event_loop})", flush=True)
    results: list[RunResult] = []
    with tempfile.TemporaryDirectory(prefix="tiaojie-bench-media-") as tmp:
        if args.tiaojie:
            results.append(await run_tiaojie(args, Path(tmp), (video, audio)))
        if args.baseline_rooms > 0:
            results.append(await run_baseline(args, (video, audio)))
    return results


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # stop the servers on SIGTERM too (finally blocks)
    results = asyncio.run(run(args))
    print()
    print_results(results)
    tiaojie = next((r for r in results if r.label == "tiaojie"), None)
    baseline = next((r for r in results if r.label != "tiaojie"), None)
    print()
    for goal, measured, met in goals(tiaojie, baseline):
        verdict = "met" if met else "not met" if met is not None else "see note"
        print(f"  {goal}: {measured} — {verdict}")
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2))
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
