"""Fan-out benchmark: the room engine alone in its own process, aiortc clients on loopback in this one.

One publisher sends VP8 640×480 at 30 fps (≈800 kbit/s, pre-encoded, so the client costs little) and Opus;
N subscribers receive through the engine and count the RTP packets that arrive (an RTP tap, no decoding).
The server's CPU time is read from ``/proc`` over a measurement window after a warm-up, and divided by the
packets it forwarded in that window. Compare with ``shared/docs/architecture.md`` (≈43–67 µs per forwarded
packet at 1→5 on a 2-core machine for RTP-level forwarding, ≈1,100 µs for decode + re-encode).

    python -m bench.media_fanout [--subscribers 1 5] [--seconds 10] [--no-audio] [--no-video] [--profile DIR]

Everything binds 127.0.0.1 only. Anything else running on the machine (check the load average printed
first) inflates the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aiortc import AudioStreamTrack, RTCPeerConnection, RTCSessionDescription

from bench.media_clients import FPS, HEIGHT, WIDTH, CountingViewer, LoopCamera, pre_encoded_video
from bench.pipe_rpc import Emit, PipeServer, serve_lines
from bench.procstat import cpu_seconds, rss_mb
from media.aiortc_hooks import (
    announce_addresses,
    observe_rtcp,
    rtc_configuration,
)
from tiaojie import event_loop

__all__ = ["main"]

LOOPBACK = ("127.0.0.1",)


# --- the server process -----------------------------------------------------------------------------------


class EngineServer:
    """The child: one RoomMedia in which everyone present sees everyone else."""

    def __init__(self) -> None:
        from media.engine import MediaConfig, RoomMedia

        self.present: set[str] = set()
        self.emit: Emit | None = None
        self.profiler: cProfile.Profile | None = None
        self.engine = RoomMedia(
            "bench",
            self.audience,
            MediaConfig(announced_addresses=LOOPBACK),
            on_renegotiate=self.renegotiate,
        )

    def audience(self, publisher: str) -> frozenset[str]:
        return frozenset(self.present - {publisher}) if publisher in self.present else frozenset()

    def renegotiate(self, pid: str) -> None:
        if self.emit is not None:
            self.emit({"event": "renegotiate", "pid": pid})

    async def handle(self, op: str, request: dict[str, Any], emit: Emit) -> Any:
        self.emit = emit
        pid = request.get("pid", "")
        if op == "add":
            self.present.add(pid)
            await self.engine.add_participant(pid)
            return None
        if op == "publish":
            return await self.engine.publish_offer(pid, request["sdp"])
        if op == "offer":
            return await self.engine.subscribe_offer(pid)
        if op == "answer":
            await self.engine.subscribe_answer(pid, request["sdp"])
            return None
        if op == "stats":
            return asdict(self.engine.stats)
        if op == "profile":
            self.profile(request.get("path"))
            return None
        raise ValueError(f"unknown op {op!r}")

    def profile(self, path: str | None) -> None:
        """Start cProfile (``path`` None) or stop it and write its statistics to ``path``."""
        if path is None:
            self.profiler = cProfile.Profile()
            self.profiler.enable()
        elif self.profiler is not None:
            self.profiler.disable()
            self.profiler.dump_stats(path)
            self.profiler = None


async def serve() -> None:
    """Run one RoomMedia in this (child) process, driven over stdin/stdout."""
    server = EngineServer()
    await serve_lines(server.handle, server.engine.close)


# --- the client side --------------------------------------------------------------------------------------


class Subscriber(CountingViewer):
    """A viewer of the engine, offered its tracks over the pipe."""

    def __init__(self, server: PipeServer, pid: str) -> None:
        super().__init__()
        self.server = server
        self.pid = pid
        self._lock = asyncio.Lock()

    async def renegotiate(self) -> None:
        async with self._lock:
            offer = await self.server.call("offer", pid=self.pid)
            if offer is None:
                return
            await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            await self.server.call("answer", pid=self.pid, sdp=self.pc.localDescription.sdp)


@dataclass
class Result:
    subscribers: int
    incoming_pps: float
    forwarded_pps: float
    cpu_per_second: float
    system_share: float
    us_per_forwarded: float
    rss_mb: float
    received_ratio: float
    plis: int
    rtx: int


async def run(
    subscribers: int,
    seconds: float,
    video: bool,
    audio: bool,
    frames: list[bytes],
    profile: Path | None = None,
    loop_choice: str = "auto",
) -> Result:
    server = await PipeServer.start("bench.media_fanout", "--event-loop", loop_choice)
    viewers: dict[str, Subscriber] = {}
    tasks: set[asyncio.Task[None]] = set()

    def renegotiate(event: dict[str, Any]) -> None:
        viewer = viewers.get(event["pid"])
        if viewer is not None:
            task = asyncio.ensure_future(viewer.renegotiate())
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    server.on_event = renegotiate
    publisher = RTCPeerConnection(rtc_configuration())
    try:
        await server.call("add", pid="publisher")
        if video:
            camera = LoopCamera(frames)
            observe_rtcp(publisher.addTransceiver(camera, "sendonly").sender, camera.watch)
        if audio:
            publisher.addTransceiver(AudioStreamTrack(), "sendonly")
        await publisher.setLocalDescription(await publisher.createOffer())
        answer = await server.call("publish", pid="publisher", sdp=publisher.localDescription.sdp)
        await publisher.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        for index in range(subscribers):
            pid = f"viewer-{index + 1}"
            viewers[pid] = Subscriber(server, pid)
            await server.call("add", pid=pid)
            await viewers[pid].renegotiate()
        deadline = time.monotonic() + 20
        while any(v.packets < 50 for v in viewers.values()):  # everyone receives (video from a keyframe)
            if time.monotonic() > deadline:
                raise RuntimeError("subscribers did not start receiving within 20 s")
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # warm-up

        before = await server.call("stats")
        cpu_before, received_before = cpu_seconds(server.pid), _received(viewers)
        start = time.monotonic()
        if profile is not None:
            await server.call("profile")
        await asyncio.sleep(seconds)
        if profile is not None:
            await server.call("profile", path=str(profile / f"server-1to{subscribers}.pstats"))
        after = await server.call("stats")
        cpu_after, received_after = cpu_seconds(server.pid), _received(viewers)
        elapsed = time.monotonic() - start
        forwarded = after["packets_forwarded"] - before["packets_forwarded"]
        user, system = (end - begin for begin, end in zip(cpu_before, cpu_after, strict=True))
        cpu = user + system
        return Result(
            subscribers=subscribers,
            incoming_pps=(after["packets_received"] - before["packets_received"]) / elapsed,
            forwarded_pps=forwarded / elapsed,
            cpu_per_second=cpu / elapsed,
            system_share=system / cpu if cpu else float("nan"),
            us_per_forwarded=cpu / forwarded * 1e6 if forwarded else float("nan"),
            rss_mb=rss_mb(server.pid),
            received_ratio=(received_after - received_before) / forwarded if forwarded else float("nan"),
            plis=after["plis_sent"],
            rtx=after["rtx_sent"],
        )
    finally:
        for viewer in viewers.values():
            await viewer.pc.close()
        await publisher.close()
        await server.stop()


def _received(viewers: dict[str, Subscriber]) -> int:
    return sum(viewer.packets for viewer in viewers.values())


async def bench(arguments: argparse.Namespace) -> None:
    if arguments.profile is not None:
        arguments.profile.mkdir(parents=True, exist_ok=True)
    announce_addresses(LOOPBACK)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
    print(f"engine event loop: {event_loop.loop_name(arguments.event_loop)}")
    frames = pre_encoded_video() if arguments.video else []
    if frames:
        kbps = sum(len(f) for f in frames[1:]) * 8 / ((len(frames) - 1) / FPS) / 1000
        print(f"video: VP8 {WIDTH}x{HEIGHT} at {FPS} fps, {kbps:.0f} kbit/s; audio: {arguments.audio}")
    header = (
        f"{'1→N':>4} {'in pkt/s':>9} {'fwd pkt/s':>10} {'CPU-s/s':>8} {'kernel':>7} {'µs/fwd pkt':>11} "
        f"{'RSS MB':>7} {'received':>9} {'PLIs':>5} {'RTX':>4}"
    )
    print(header)
    for subscribers in arguments.subscribers:
        result = await run(
            subscribers,
            arguments.seconds,
            arguments.video,
            arguments.audio,
            frames,
            arguments.profile,
            arguments.event_loop,
        )
        print(
            f"{result.subscribers:>4} {result.incoming_pps:>9.0f} {result.forwarded_pps:>10.0f} "
            f"{result.cpu_per_second:>8.3f} {result.system_share:>7.0%} {result.us_per_forwarded:>11.1f} "
            f"{result.rss_mb:>7.0f} "
            f"{result.received_ratio:>9.3f} {result.plis:>5} {result.rtx:>4}"
        )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--seconds", type=float, default=10.0, help="measurement window per scenario")
    parser.add_argument("--no-video", dest="video", action="store_false")
    parser.add_argument("--no-audio", dest="audio", action="store_false")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run cProfile in the server during each measurement window and write DIR/server-1toN.pstats "
        "(profiling inflates the figures)",
    )
    parser.add_argument(
        "--event-loop",
        choices=("auto", "uvloop", "asyncio"),
        default="auto",
        help="the engine process's event loop (as TIAOJIE_EVENT_LOOP; auto: uvloop where installed)",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.serve:
        event_loop.run(serve(), arguments.event_loop)
    else:
        asyncio.run(bench(arguments))


if __name__ == "__main__":
    main()
