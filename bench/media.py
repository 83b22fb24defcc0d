"""Media forwarding benchmark: the room engine in its own process, aiortc clients on loopback in this one.

One publisher sends VP8 640×480 at 30 fps (≈800 kbit/s, pre-encoded, so the client costs little) and Opus;
N subscribers receive through the engine and count the RTP packets that arrive (an RTP tap, no decoding).
The server's CPU time is read from ``/proc`` over a measurement window after a warm-up, and divided by the
packets it forwarded in that window. Compare with ``shared/docs/architecture.md`` (≈43–67 µs per forwarded
packet at 1→5 on a 2-core machine for RTP-level forwarding, ≈1,100 µs for decode + re-encode).

    python -m bench.media [--subscribers 1 5] [--seconds 10] [--no-audio] [--no-video]

Everything binds 127.0.0.1 only. Anything else running on the machine (check the load average printed
first) inflates the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
from aiortc import (
    AudioStreamTrack,
    MediaStreamTrack,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError
from aiortc.rtp import RTCP_PSFB_PLI, AnyRtcpPacket, RtcpPsfbPacket, RtpPacket

from media.aiortc_hooks import announce_addresses, attach_rtp_tap, observe_rtcp, rtc_configuration

__all__ = ["main"]

LOOPBACK = ("127.0.0.1",)
WIDTH, HEIGHT, FPS = 640, 480, 30
CLOCK = 90_000
_CLK_TCK = os.sysconf("SC_CLK_TCK")


# --- the server process -----------------------------------------------------------------------------------


async def serve() -> None:
    """Run one RoomMedia, driven by JSON lines on stdin; answers and events as JSON lines on stdout."""
    from media.engine import MediaConfig, RoomMedia

    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    present: set[str] = set()

    def write(message: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(message) + "\n")
        sys.stdout.flush()

    def audience(publisher: str) -> frozenset[str]:
        return frozenset(present - {publisher}) if publisher in present else frozenset()

    engine = RoomMedia(
        "bench",
        audience,
        MediaConfig(announced_addresses=LOOPBACK),
        on_renegotiate=lambda pid: write({"event": "renegotiate", "pid": pid}),
    )
    profiler: cProfile.Profile | None = None

    def profile(path: str | None) -> None:
        """Start cProfile (``path`` None) or stop it and write its statistics to ``path``."""
        nonlocal profiler
        if path is None:
            profiler = cProfile.Profile()
            profiler.enable()
        elif profiler is not None:
            profiler.disable()
            profiler.dump_stats(path)
            profiler = None

    while line := await reader.readline():
        request = json.loads(line)
        op, pid = request["op"], request.get("pid", "")
        result: Any = None
        try:
            if op == "add":
                present.add(pid)
                await engine.add_participant(pid)
            elif op == "publish":
                result = await engine.publish_offer(pid, request["sdp"])
            elif op == "offer":
                result = await engine.subscribe_offer(pid)
            elif op == "answer":
                await engine.subscribe_answer(pid, request["sdp"])
            elif op == "stats":
                result = asdict(engine.stats)
            elif op == "profile":
                profile(request.get("path"))
            elif op == "close":
                break
            write({"id": request["id"], "result": result})
        except Exception as exc:
            write({"id": request["id"], "error": repr(exc)})
    await engine.close()


# --- the client side --------------------------------------------------------------------------------------


class Server:
    """The engine's process and a tiny RPC to it."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.on_renegotiate: Callable[[str], Awaitable[None]] | None = None
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._next = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def start(cls) -> Server:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.media",
            "--serve",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        return cls(process)

    async def _read(self) -> None:
        assert self.process.stdout is not None
        while line := await self.process.stdout.readline():
            message = json.loads(line)
            if "event" in message:
                if self.on_renegotiate is not None:
                    task = asyncio.ensure_future(self.on_renegotiate(message["pid"]))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
                continue
            future = self._waiting.pop(message["id"])
            if "error" in message:
                future.set_exception(RuntimeError(message["error"]))
            else:
                future.set_result(message["result"])

    async def call(self, op: str, **arguments: Any) -> Any:
        assert self.process.stdin is not None
        self._next += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[self._next] = future
        self.process.stdin.write((json.dumps({"id": self._next, "op": op, **arguments}) + "\n").encode())
        await self.process.stdin.drain()
        return await asyncio.wait_for(future, 30)

    def cpu_seconds(self) -> tuple[float, float]:
        """User and system CPU time of the server process so far."""
        with open(f"/proc/{self.process.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return int(fields[11]) / _CLK_TCK, int(fields[12]) / _CLK_TCK

    def rss_mb(self) -> float:
        with open(f"/proc/{self.process.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    async def stop(self) -> None:
        with contextlib.suppress(TimeoutError, KeyError, RuntimeError, ConnectionError):
            await asyncio.wait_for(self.call("close"), 10)
        if self.process.returncode is None:
            try:
                await asyncio.wait_for(self.process.wait(), 10)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        self._reader.cancel()


def pre_encoded_video(frames: int = 150) -> list[bytes]:
    """``frames`` VP8 frames (keyframe first) of a moving picture with a noisy band: ≈800 kbit/s."""
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = WIDTH, HEIGHT, "yuv420p"
    encoder.time_base, encoder.framerate = Fraction(1, CLOCK), Fraction(FPS, 1)
    encoder.thread_count, encoder.bit_rate, encoder.gop_size = 1, 800_000, 1_000_000
    encoder.options = {
        "deadline": "realtime",
        "cpu-used": "8",
        "lag-in-frames": "0",
        "auto-alt-ref": "0",
        "kf-max-dist": "1000000",
        "drop-threshold": "0",
    }
    gradient = bytes((x + y) & 0xFF for y in range(HEIGHT) for x in range(2 * WIDTH))
    noisy_rows = 24
    encoded: list[bytes] = []
    for index in range(frames):
        frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
        shift = (index * 4) % WIDTH
        luma = bytearray(gradient[shift : shift + WIDTH * HEIGHT])
        luma[: noisy_rows * WIDTH] = os.urandom(noisy_rows * WIDTH)
        frame.planes[0].update(bytes(luma))
        frame.planes[1].update(bytes([128]) * frame.planes[1].buffer_size)
        frame.planes[2].update(bytes([128]) * frame.planes[2].buffer_size)
        frame.pts, frame.time_base = index * CLOCK // FPS, Fraction(1, CLOCK)
        encoded += [bytes(packet) for packet in encoder.encode(frame)]
    return encoded


class LoopCamera(MediaStreamTrack):
    """Plays pre-encoded frames at 30 fps in a loop; a PLI restarts the loop at its keyframe."""

    kind = "video"

    def __init__(self, frames: list[bytes]) -> None:
        super().__init__()
        self.frames = frames
        self._position = 0
        self._index = 0
        self._start: float | None = None

    def watch(self, packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_PLI:
            self._position = 0

    async def recv(self) -> av.Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        if self._start is None:
            self._start = time.monotonic()
        delay = self._start + self._index / FPS - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        packet = av.Packet(self.frames[self._position])
        packet.pts, packet.time_base = self._index * CLOCK // FPS, Fraction(1, CLOCK)
        self._position = (self._position + 1) % len(self.frames)
        self._index += 1
        return packet


class Subscriber:
    """A viewer that counts the RTP packets it receives (tapped, not decoded)."""

    def __init__(self, server: Server, pid: str) -> None:
        self.server = server
        self.pid = pid
        self.pc = RTCPeerConnection(rtc_configuration())
        self.packets = 0
        self.video_packets = 0
        self._lock = asyncio.Lock()

        @self.pc.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            receiver = next(t.receiver for t in self.pc.getTransceivers() if t.receiver.track is track)
            attach_rtp_tap(receiver, self._count_video if track.kind == "video" else self._count)

    def _count(self, packet: RtpPacket, datagram: bytes, arrival_time_ms: int) -> None:
        self.packets += 1

    def _count_video(self, packet: RtpPacket, datagram: bytes, arrival_time_ms: int) -> None:
        self.packets += 1
        self.video_packets += 1

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
) -> Result:
    server = await Server.start()
    viewers: dict[str, Subscriber] = {}

    async def renegotiate(pid: str) -> None:
        if pid in viewers:
            await viewers[pid].renegotiate()

    server.on_renegotiate = renegotiate
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
        cpu_before, received_before = server.cpu_seconds(), _received(viewers)
        start = time.monotonic()
        if profile is not None:
            await server.call("profile")
        await asyncio.sleep(seconds)
        if profile is not None:
            await server.call("profile", path=str(profile / f"server-1to{subscribers}.pstats"))
        after = await server.call("stats")
        cpu_after, received_after = server.cpu_seconds(), _received(viewers)
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
            rss_mb=server.rss_mb(),
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
    announce_addresses(LOOPBACK)
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
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
            subscribers, arguments.seconds, arguments.video, arguments.audio, frames, arguments.profile
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
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)
    if arguments.serve:
        asyncio.run(serve())
    else:
        asyncio.run(bench(arguments))


if __name__ == "__main__":
    main()
