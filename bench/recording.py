"""Recording benchmark: what recording a session costs the server next to forwarding it, and whether the
server's memory stays flat over a long recorded session.

The real server (``tiaojie serve --port 0``, temporary data directory, embedded database) runs as a
subprocess; ``tiaojie demo --json`` creates a session with a mediator and two parties; this process joins
them as aiortc participants over socket.io the way docs/protocol.md describes. Each publishes a camera (VP8
640×480 30 fps ≈800 kbit/s, pre-encoded, so the senders cost little) and a microphone (aiortc's Opus
silence); each receives the others' streams and counts their RTP packets without decoding them.

- Phase 1 (overhead): ``--seconds`` forwarding only, then the mediator proposes recording and both parties
  consent, ``--seconds`` forwarding and recording. The server's CPU time (all threads, children included,
  from ``/proc``) per second in each phase, per published stream (forwarded to everyone else), per forwarded
  copy and per recorded stream; goal: recording a stream costs at most a tenth of forwarding it.
- Phase 2 (memory): recording goes on for ``--minutes``; the server's resident memory is sampled every
  10 s. Goal: flat (under 5 % growth after the warm-up). At the end the recording is stopped and read back
  through the REST API with the demo's court key: complete, as long as it ran, every track's frames there.
- Then ``--seconds`` forwarding again, the recording stopped: phase 1's recording window is compared with
  the mean of the forwarding windows before and after it, which cancels a drift of the machine's load
  between windows (the comparison with the window before alone is printed too).

    python -m bench.recording [--minutes 60] [--seconds 60] [--warmup 10] [--parties 3] [--no-recording]
                              [--json PATH] [--profile DIR]

Everything binds 127.0.0.1 only; the server is stopped by its PID at the end, on error and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import socketio
from aiortc import AudioStreamTrack, MediaStreamTrack, RTCPeerConnection, RTCSessionDescription

from bench.common import (
    ProcessCpu,
    Profiler,
    Server,
    format_table,
    machine_info,
    run_demo,
    summarise_collapsed,
)
from bench.media_clients import FPS, LoopCamera, pre_encoded_video
from media.aiortc_hooks import (
    TappedPacket,
    announce_addresses,
    attach_rtp_tap,
    keep_consent,
    observe_rtcp,
    rtc_configuration,
)

__all__ = ["main"]

NAMESPACE = "/room"
CALL_TIMEOUT = 30.0
SAMPLE_SECONDS = 10.0
CLK_TCK = os.sysconf("SC_CLK_TCK")
OPUS_FPS = 50  # aiortc's microphone: 20 ms Opus frames
OVERHEAD_GOAL = 0.10
GROWTH_GOAL = 0.05
ROLES = ("mediator", "worker", "employer")


# --- a participant ----------------------------------------------------------------------------------------


class Participant:
    """One person in the room: a socket.io connection, a publish PC (camera + microphone) and a subscribe PC
    that answers the server's offers and counts the RTP packets it receives."""

    def __init__(self, name: str, base_url: str, token: str, frames: list[bytes]) -> None:
        self.name = name
        self.base_url = base_url
        self.token = token
        self.frames = frames
        self.sio = socketio.AsyncClient(reconnection=False)
        self.room: dict[str, Any] = {}
        self.id = ""
        self.publish_pc = RTCPeerConnection(rtc_configuration())
        self.subscribe_pc = RTCPeerConnection(rtc_configuration())
        for pc in (self.publish_pc, self.subscribe_pc):
            keep_consent(pc)  # as a browser does: a slow server is not hung up on after half a second
        self.packets = 0
        self.closed: dict[str, Any] | None = None
        self._offers: asyncio.Queue[str] = asyncio.Queue()
        self._answering: asyncio.Task[None] | None = None
        self.errors: list[str] = []
        self.sio.on("room", self._on_room, namespace=NAMESPACE)
        self.sio.on("subscribe_offer", self._on_offer, namespace=NAMESPACE)
        self.sio.on("closed", self._on_closed, namespace=NAMESPACE)
        self.subscribe_pc.on("track", self._on_track)

    async def _on_room(self, data: dict[str, Any]) -> None:
        self.room = data

    async def _on_closed(self, data: dict[str, Any]) -> None:
        self.closed = data

    async def _on_offer(self, data: dict[str, Any]) -> None:
        self._offers.put_nowait(data["sdp"])

    def _on_track(self, track: MediaStreamTrack) -> None:
        receiver = next(t.receiver for t in self.subscribe_pc.getTransceivers() if t.receiver.track is track)
        attach_rtp_tap(receiver, self._count)

    def _count(self, packet: TappedPacket, datagram: bytes, arrival_time_ms: int) -> None:
        self.packets += 1

    async def _answer_offers(self) -> None:
        """Answers the subscribe offers in order; an offer overtaken by a newer one is skipped."""
        while True:
            sdp = await self._offers.get()
            while not self._offers.empty():
                sdp = self._offers.get_nowait()
            try:
                await self.subscribe_pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
                await self.subscribe_pc.setLocalDescription(await self.subscribe_pc.createAnswer())
                await self.call("subscribe_answer", {"sdp": self.subscribe_pc.localDescription.sdp})
            except Exception as exc:  # reported at the end; the run goes on
                self.errors.append(f"subscribe answer: {type(exc).__name__}: {exc}")

    async def call(self, event: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Emit an event and wait for its acknowledgement; raises when it is not ``ok``."""
        reply = await self.sio.call(event, data or {}, namespace=NAMESPACE, timeout=CALL_TIMEOUT)
        if not isinstance(reply, dict) or not reply.get("ok"):
            raise RuntimeError(f"{self.name}: {event} answered {reply!r}")
        return reply

    async def join(self) -> None:
        await self.sio.connect(
            self.base_url,
            auth={"token": self.token, "protocol": 1},
            namespaces=[NAMESPACE],
            transports=["websocket"],
            socketio_path="socket.io",
            wait_timeout=CALL_TIMEOUT,
        )
        self._answering = asyncio.create_task(self._answer_offers())
        reply = await self.call("sync")
        self.room = reply["room"]
        self.id = self.room["you"]

    @property
    def state(self) -> str:
        """This person's state in their latest room view: lobby, present or reconnecting."""
        me = [p for p in self.room.get("participants", []) if p.get("id") == self.id]
        return str(me[0].get("state", "")) if me else ""

    async def publish(self) -> None:
        camera = LoopCamera(self.frames)
        video = self.publish_pc.addTransceiver(camera, "sendonly")
        observe_rtcp(video.sender, camera.watch)  # the recorder asks for a keyframe: restart the loop
        audio = self.publish_pc.addTransceiver(AudioStreamTrack(), "sendonly")
        await self.publish_pc.setLocalDescription(await self.publish_pc.createOffer())
        sources = {video.mid: "camera", audio.mid: "audio"}
        reply = await self.call("publish", {"sdp": self.publish_pc.localDescription.sdp, "sources": sources})
        await self.publish_pc.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"], type="answer"))

    async def close(self) -> None:
        if self._answering is not None:
            self._answering.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._answering
        with contextlib.suppress(Exception):
            await self.sio.disconnect()
        await self.publish_pc.close()
        await self.subscribe_pc.close()


async def until(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {seconds:g} s")
        await asyncio.sleep(0.1)


async def seat_everyone(people: list[Participant]) -> None:
    """Everyone connects; the parties acknowledge; the mediator checks their identity and admits them."""
    mediator, parties = people[0], people[1:]
    await mediator.join()
    for party in parties:
        await party.join()
        await party.call("acknowledge", {"consent": True, "warning": True})
    for party in parties:
        await mediator.call(
            "check_identity", {"participant_id": party.id, "method": "id_card", "result": "verified"}
        )
        await mediator.call("admit", {"participant_id": party.id})
    await until(
        lambda: all(p.state == "present" for p in parties),
        CALL_TIMEOUT,
        "the parties are admitted",
    )


# --- measuring --------------------------------------------------------------------------------------------


def user_system(pid: int) -> tuple[float, float]:
    """CPU seconds the process spent in user space and in the kernel, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def memory_mb(pid: int) -> tuple[float, float]:
    """The process's resident memory and the anonymous part of it (heaps: not mapped files), in MB."""
    found = {"VmRSS:": 0.0, "RssAnon:": 0.0}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key = line.split(maxsplit=1)[0] if line else ""
        if key in found:
            found[key] = int(line.split()[1]) / 1024
    return found["VmRSS:"], found["RssAnon:"]


@dataclass
class Phase:
    name: str
    seconds: float = 0.0
    cpu_cores: float = 0.0  # server CPU-seconds per second, all threads and children
    loop_cores: float = 0.0  # its main thread (event loop) alone
    received_pps: float = 0.0  # RTP packets per second the participants received
    client_cores: float = 0.0  # this process (every participant): near 1.0 it is the bottleneck
    system_share: float = 0.0  # of the server process's own CPU time, the part spent in the kernel

    def as_dict(self) -> dict[str, Any]:
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in self.__dict__.items()}


async def measure(
    name: str, seconds: float, server_pid: int, people: list[Participant], profile: Path | None = None
) -> Phase:
    """The server's CPU over ``seconds``; with ``profile``, py-spy samples it meanwhile (its start and
    stop block this process briefly, outside the window) and a summary is written beside the stacks."""
    with contextlib.ExitStack() as stack:
        if profile is not None:
            stack.enter_context(Profiler(server_pid, profile))
        cpu, client = ProcessCpu(server_pid), ProcessCpu(os.getpid(), children=False)
        received = sum(p.packets for p in people)
        user, system = user_system(server_pid)
        cpu.mark()
        client.mark()
        start = time.monotonic()
        await asyncio.sleep(seconds)
        total, loop = cpu.shares()
        client_cores, _ = client.shares()
        user_after, system_after = user_system(server_pid)
        user, system = user_after - user, system_after - system
        elapsed = time.monotonic() - start
        pps = (sum(p.packets for p in people) - received) / elapsed
    if profile is not None:
        profile.with_suffix(".txt").write_text(summarise_collapsed(profile) + "\n")
    return Phase(
        name, elapsed, total, loop, pps, client_cores, system / (user + system) if user + system else 0.0
    )


@dataclass
class Report:
    machine: dict[str, str]
    parties: int
    published_streams: int = 0  # every camera and microphone; each is recorded
    forwarded_copies: int = 0  # each published stream to every other person
    phases: list[Phase] = field(default_factory=list)
    # (s since the start of phase 2, RSS MB, anonymous MB, received packets/s)
    rss_samples: list[tuple[float, float, float, float]] = field(default_factory=list)
    load_samples: list[float] = field(default_factory=list)
    recording: dict[str, Any] = field(default_factory=dict)
    recorded_seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def overhead(self) -> dict[str, float]:
        """Server CPU-seconds per second: forwarding, per published stream (one camera or microphone, sent
        on to everyone else) and per forwarded copy; what recording adds, per recorded stream; the goal's
        ratio: recording a stream / forwarding it (equal to added / forwarding for the whole session, as
        every published stream is recorded), and for reference recording a stream / one forwarded copy.

        When forwarding was measured again after the recording stopped, the recording window is compared
        with the mean of the windows before and after it (a machine shared with other work drifts between
        windows); ``ratio_before_only`` is the comparison with the window before alone."""
        recording = self.phases[1]
        before = self.phases[0].cpu_cores
        forwarding = sum(p.cpu_cores for p in self.phases[::2]) / len(self.phases[::2])
        added = recording.cpu_cores - forwarding
        per_published = forwarding / self.published_streams
        per_copy = forwarding / self.forwarded_copies
        per_recorded = added / self.published_streams
        return {
            "forwarding_cpu_per_s": forwarding,
            "recording_cpu_per_s": recording.cpu_cores,
            "forwarding_per_published_stream": per_published,
            "forwarding_per_copy": per_copy,
            "added_per_recorded_stream": per_recorded,
            "ratio": per_recorded / per_published if per_published else float("nan"),
            "ratio_to_one_copy": per_recorded / per_copy if per_copy else float("nan"),
            "ratio_before_only": (recording.cpu_cores - before) / before if before else float("nan"),
        }

    def memory(self, warmup_s: float) -> dict[str, float]:
        values = [mb for _, mb, _, _ in self.rss_samples]
        if not values:
            return {}
        after = [mb for t, mb, _, _ in self.rss_samples if t >= warmup_s] or values[-1:]
        anon = [a for t, _, a, _ in self.rss_samples if t >= warmup_s] or [self.rss_samples[-1][2]]
        return {
            "start_mb": values[0],
            "after_warmup_mb": after[0],
            "end_mb": values[-1],
            "max_mb": max(values),
            "growth_after_warmup": (values[-1] - after[0]) / after[0],
            "max_over_warmup": (max(after) - after[0]) / after[0],
            "anon_after_warmup_mb": anon[0],
            "anon_end_mb": anon[-1],
            "warmup_s": warmup_s,
        }


async def sample_memory(
    report: Report, server_pid: int, people: list[Participant], seconds: float, progress: bool
) -> None:
    start = time.monotonic()
    received = sum(p.packets for p in people)
    last = start
    while True:
        now = time.monotonic()
        total = sum(p.packets for p in people)
        pps = (total - received) / (now - last) if now > last else 0.0
        received, last = total, now
        report.rss_samples.append((now - start, *memory_mb(server_pid), pps))
        report.load_samples.append(os.getloadavg()[0])
        if progress and len(report.rss_samples) % 30 == 1:
            t, mb, _, _ = report.rss_samples[-1]
            load = os.getloadavg()[0]
            print(f"  {t / 60:5.1f} min  rss {mb:6.1f} MB  received {pps:6.0f} pkt/s  load {load:.2f}")
            sys.stdout.flush()
        if now - start >= seconds:
            return
        if any(p.closed for p in people):
            raise RuntimeError(f"a participant was closed: {[p.closed for p in people if p.closed]}")
        await asyncio.sleep(min(SAMPLE_SECONDS, start + seconds - now))


# --- the REST side ----------------------------------------------------------------------------------------


async def recording_of(base_url: str, court_key: str, case_id: str) -> dict[str, Any]:
    """The case's one recording, with its manifest, through the REST API."""
    headers = {"Authorization": f"Bearer {court_key}"}
    timeout = aiohttp.ClientTimeout(total=CALL_TIMEOUT)
    async with aiohttp.ClientSession(base_url, headers=headers, timeout=timeout) as http:
        async with http.get(f"/api/v1/cases/{case_id}/recordings") as response:
            response.raise_for_status()
            listed = await response.json()
        if len(listed) != 1:
            raise RuntimeError(f"expected one recording of the case, got {len(listed)}")
        async with http.get(f"/api/v1/cases/{case_id}/recordings/{listed[0]['id']}") as response:
            response.raise_for_status()
            one: dict[str, Any] = await response.json()
            return one


def check_recording(recording: dict[str, Any], wall_s: float, parties: int) -> dict[str, Any]:
    """Complete; as long as the server says it ran (``started_at`` to ``ended_at``) and as this process
    saw it run (``wall_s``, from the last consent to the stop); every person's audio and video there, each
    with the frames its length calls for (no gaps, nothing dropped)."""
    manifest = recording.get("manifest") or {}
    tracks = manifest.get("tracks", [])
    duration_s = (recording.get("duration_ms") or 0) / 1000
    server_s = 0.0
    if recording.get("started_at") and recording.get("ended_at"):
        started = dt.datetime.fromisoformat(recording["started_at"])
        server_s = (dt.datetime.fromisoformat(recording["ended_at"]) - started).total_seconds()
    density: dict[str, list[float]] = {"audio": [], "video": []}
    shortfall: list[
        float
    ] = []  # seconds of the recording a track does not cover (video starts at a keyframe)
    for track in tracks:
        rate = FPS if track["kind"] == "video" else OPUS_FPS
        got = sum(segment["frames"] for segment in track["segments"])
        seconds = track["duration_ms"] / 1000
        density[track["kind"]].append(got / (rate * seconds) if seconds else 0.0)
        shortfall.append(duration_s - seconds)
    problems = []
    if recording.get("status") != "complete":
        problems.append(f"status {recording.get('status')}")
    if len(tracks) != 2 * parties:
        problems.append(f"{len(tracks)} tracks, expected {2 * parties}")
    if abs(duration_s - server_s) > max(1.0, 0.01 * server_s):
        problems.append(f"duration {duration_s:.1f} s, the server recorded for {server_s:.1f} s")
    if abs(duration_s - wall_s) > max(2.0, 0.01 * wall_s):
        problems.append(f"duration {duration_s:.1f} s, ran {wall_s:.1f} s here")
    low = [f"{k} {min(v):.1%}" for k, v in density.items() if v and min(v) < 0.97]
    if low:
        problems.append("frames missing: " + ", ".join(low))
    if shortfall and max(shortfall) > max(1.0, 0.01 * duration_s):
        problems.append(f"a track misses {max(shortfall):.1f} s of the recording")
    return {
        "status": recording.get("status"),
        "duration_s": duration_s,
        "server_s": server_s,
        "wall_s": wall_s,
        "tracks": len(tracks),
        "segments": sum(len(t["segments"]) for t in tracks),
        "bytes": recording.get("bytes"),
        "note": recording.get("note"),
        "frames_per_expected": {k: [round(x, 4) for x in v] for k, v in density.items()},
        "track_shortfall_s": [round(x, 3) for x in shortfall],
        "problems": problems,
    }


# --- the run ----------------------------------------------------------------------------------------------


def server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIAOJIE_")}
    env["TIAOJIE_DATA_DIR"] = str(data_dir)
    env["TIAOJIE_ANNOUNCED_ADDRESSES"] = "127.0.0.1"
    return env


async def run(server: Server, info: dict[str, Any], args: argparse.Namespace, report: Report) -> None:
    session = info["session"]
    links = session["links"]
    frames = pre_encoded_video()
    people = [
        Participant(role, server.base_url, links[role].split("#", 1)[1], frames)
        for role in ROLES[: args.parties]
    ]
    mediator, parties = people[0], people[1:]
    n = len(people)
    report.published_streams = 2 * n
    report.forwarded_copies = 2 * n * (n - 1)
    try:
        await seat_everyone(people)
        for person in people:
            await person.publish()
        await until(lambda: all(p.packets > 300 for p in people), 60, "everyone receives media")
        print(f"everyone receives; warming up {args.warmup:g} s")
        await asyncio.sleep(args.warmup)
        profile = args.profile / "forwarding.collapsed" if args.profile else None
        report.phases.append(await measure("forwarding", args.seconds, server.pid, people, profile))
        print(f"forwarding: {report.phases[-1].cpu_cores:.3f} CPU-s/s")
        if args.no_recording:  # the control: the same session's memory without the recorder
            print(f"forwarding only for {args.minutes:g} min")
            await sample_memory(report, server.pid, people, args.minutes * 60, progress=True)
            return
        await mediator.call("propose_recording", {"part": "main"})
        for party in parties:
            await party.call("answer_recording", {"consent": True})
        started = time.monotonic()
        await until(lambda: mediator.room.get("recording") is True, CALL_TIMEOUT, "the recording starts")
        await asyncio.sleep(args.warmup)
        profile = args.profile / "recording.collapsed" if args.profile else None
        phase = await measure("forwarding + recording", args.seconds, server.pid, people, profile)
        report.phases.append(phase)
        print(f"recording: {report.phases[-1].cpu_cores:.3f} CPU-s/s; keeping on for {args.minutes:g} min")
        sys.stdout.flush()
        await sample_memory(report, server.pid, people, args.minutes * 60, progress=True)
        report.recorded_seconds = time.monotonic() - started
        await mediator.call("stop_recording", {"part": "main"})
        recording = await recording_of(server.base_url, info["api_keys"]["court"], session["case_id"])
        report.recording = check_recording(recording, report.recorded_seconds, n)
        await asyncio.sleep(args.warmup)
        report.phases.append(await measure("forwarding after", args.seconds, server.pid, people, None))
        print(f"forwarding after the recording: {report.phases[-1].cpu_cores:.3f} CPU-s/s")
    finally:
        for person in people:
            report.errors.extend(f"{person.name}: {e}" for e in person.errors)
            await person.close()


def print_report(report: Report, warmup_s: float) -> None:
    m = report.machine
    print(f"\nmachine: {m['cpu']}, {m['cores']} cores, {m['memory']}; {m['python']}; load now {m['load']}")
    if report.load_samples:
        loads = report.load_samples
        mean = sum(loads) / len(loads)
        print(f"load average (1 min) during the run: mean {mean:.2f}, max {max(loads):.2f}")
    if len(report.phases) >= 2:
        o = report.overhead()
        rows = [
            [
                p.name,
                f"{p.seconds:.0f}",
                f"{p.cpu_cores:.3f}",
                f"{p.loop_cores:.3f}",
                f"{p.system_share:.0%}",
                f"{p.received_pps:.0f}",
                f"{p.client_cores:.3f}",
            ]
            for p in report.phases
        ]
        headers = ["phase", "s", "server CPU-s/s", "event loop", "kernel", "received pkt/s", "client CPU-s/s"]
        print(format_table(headers, rows))
        print(
            f"forwarding per published stream ({report.published_streams}): "
            f"{o['forwarding_per_published_stream'] * 1000:.1f} ms/s "
            f"(per forwarded copy ({report.forwarded_copies}): {o['forwarding_per_copy'] * 1000:.1f} ms/s); "
            f"recording adds per recorded stream: {o['added_per_recorded_stream'] * 1000:.1f} ms/s"
        )
        verdict = "met" if o["ratio"] <= OVERHEAD_GOAL else "NOT met"
        baseline = "the mean of before and after" if len(report.phases) > 2 else "before"
        print(
            f"recording/forwarding per stream: {o['ratio']:.3f} (forwarding: {baseline}; goal ≤ "
            f"{OVERHEAD_GOAL}: {verdict}); against the window before only: {o['ratio_before_only']:.3f}; "
            f"recording a stream / forwarding one copy: {o['ratio_to_one_copy']:.3f}"
        )
    mem = report.memory(warmup_s)
    if mem:
        verdict = "met" if mem["growth_after_warmup"] < GROWTH_GOAL else "NOT met"
        print(
            f"server RSS: start {mem['start_mb']:.1f} MB, after {warmup_s:.0f} s warm-up "
            f"{mem['after_warmup_mb']:.1f} MB, end {mem['end_mb']:.1f} MB, max {mem['max_mb']:.1f} MB; "
            f"growth after warm-up {mem['growth_after_warmup']:+.1%} (goal < {GROWTH_GOAL:.0%}: {verdict}); "
            f"anonymous (heaps) {mem['anon_after_warmup_mb']:.1f} → {mem['anon_end_mb']:.1f} MB"
        )
        pps = [p for _, _, _, p in report.rss_samples[1:]]
        if pps:
            print(f"received pkt/s over the run: min {min(pps):.0f}, max {max(pps):.0f}")
    if report.recording:
        r = report.recording
        print(
            f"recording: {r['status']}, {r['duration_s']:.1f} s long; the server recorded for "
            f"{r['server_s']:.1f} s, {r['wall_s']:.1f} s here from the consent to the stop; "
            f"{r['tracks']} tracks, {r['segments']} segments, {(r['bytes'] or 0) / 1e6:.1f} MB; "
            f"frames per expected {r['frames_per_expected']}; tracks miss {r['track_shortfall_s']} s; "
            f"note: {r['note']}"
        )
        print("recording check: " + ("ok" if not r["problems"] else "; ".join(r["problems"])))
    for error in report.errors:
        print(f"error: {error}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.recording", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--minutes",
        type=float,
        default=10.0,
        help="phase 2: minutes of recording (10; 60 for the issue's figure)",
    )
    parser.add_argument("--seconds", type=float, default=60.0, help="phase 1: seconds per measurement (60)")
    parser.add_argument("--warmup", type=float, default=10.0, help="seconds before each measurement (10)")
    parser.add_argument("--parties", type=int, default=3, choices=(2, 3), help="people in the room (3)")
    parser.add_argument(
        "--no-recording",
        action="store_true",
        help="a control for the memory figure: forward only, never record",
    )
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument(
        "--profile",
        type=Path,
        help="py-spy the server during both measurements; stacks and summaries into this directory "
        "(sampling costs CPU: these figures are not the benchmark's)",
    )
    args = parser.parse_args(argv)

    report = Report(machine_info(), args.parties)
    announce_addresses(("127.0.0.1",))
    limit = 3 * args.seconds + 3 * args.warmup + args.minutes * 60 + 300
    status = 0
    with tempfile.TemporaryDirectory(prefix="tiaojie-bench-rec-") as tmp:
        env = server_env(Path(tmp) / "data")
        info = run_demo(env)
        server = Server(env, Path(tmp) / "server.log")
        try:
            server.start()
            print(f"server {server.base_url} (pid {server.pid}); run limited to {limit / 60:.0f} min")
            asyncio.run(asyncio.wait_for(run(server, info, args, report), limit))
        except (Exception, KeyboardInterrupt) as exc:
            status = 1
            report.errors.append(f"{type(exc).__name__}: {exc}")
            print(f"server log (tail):\n{server.log_tail()}", file=sys.stderr)
        finally:
            server.stop()
    warmup_s = max(60.0, min(600.0, args.minutes * 60 / 6))
    print_report(report, warmup_s)
    if report.recording.get("problems"):
        status = 1
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": report.machine,
                    "phases": [p.as_dict() for p in report.phases],
                    "overhead": report.overhead() if len(report.phases) >= 2 else None,
                    "memory": report.memory(warmup_s),
                    "rss_samples": report.rss_samples,
                    "load_samples": report.load_samples,
                    "recording": report.recording,
                    "errors": report.errors,
                },
                indent=1,
            )
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
