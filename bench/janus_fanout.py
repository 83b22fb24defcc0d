"""Fan-out benchmark against Janus: the C server's CPU per forwarded packet, with the clients of media_fanout.

Janus 1.1.2 (Debian's package, installed with apt-get when ``/usr/bin/janus`` is missing) runs as a child
process with a configuration written to a temporary directory: the VideoRoom plugin and the plain-HTTP
API only, every other plugin, transport, logger and event handler disabled, no STUN/TURN, half-trickle,
no admin API. One aiortc publisher sends the pre-encoded VP8 640×480 at 30 fps of ``bench.media_clients``
(a PLI restarts it at its keyframe) and aiortc's Opus; N aiortc subscribers count the RTP packets that
arrive (an RTP tap, no decoding). Janus's CPU time is read from ``/proc`` over a measurement window after a
warm-up, as ``bench.media_fanout`` does for the tiaojie engine, and the table has the same columns:

- ``in pkt/s``: RTP packets the publisher sent (aiortc's outbound statistics; on loopback, what Janus got);
- ``fwd pkt/s``: RTP packets the subscribers received, all together (Janus's forwarded packets that
  arrived: Janus keeps no count we can read without its admin API);
- ``CPU-s/s``, ``kernel``, ``µs/fwd pkt``, ``RSS MB``: Janus's process (all its threads);
- ``received``: received ÷ (sent × N), the share of the ideal fan-out that arrived (for the tiaojie lines,
  media_fanout's received ÷ forwarded-by-the-engine);
- ``PLIs``: PLIs the publisher got from Janus; ``RTX``: not known for Janus (shown as -).

``--compare`` alternates with the tiaojie engine (``bench.media_fanout.run``, its own child process, the same
clients and window): in each of ``--rounds`` rounds, for each subscriber count, Janus and then tiaojie. The
summary gives each side's median µs per forwarded packet and the ratio tiaojie/janus, which does not depend
on how busy the host is as much as either figure alone.

    python -m bench.janus_fanout [--subscribers 1 5] [--seconds 10] [--rounds K] [--compare]

Network: Janus 1.1.2 never gathers ICE candidates on a loopback interface (``src/ice.c`` skips every
interface flagged IFF_LOOPBACK, so ``ice_enforce_list = "lo"`` leaves libnice falling back to the host's
other addresses). So the benchmark first moves itself into a private network namespace of its own (it runs
as root; the host's network is not touched): ``lo`` plus one veth pair connected to nothing, whose end
``tjv0`` holds 127.0.0.1/32 too, and Janus gathers on ``tjv0`` only. Its candidate is 127.0.0.1, and
libnice's socket is tied (IP_UNICAST_IF) to the first interface holding that address, ``lo``; a different
127.x address on the veth alone would not do, as the kernel refuses a loopback source on a non-loopback
interface (EINVAL). The clients and Janus's HTTP API bind 127.0.0.1 as well: every packet stays on
127.0.0.1 inside that namespace, in which the tiaojie engine of ``--compare`` runs too. Anything else
running on the machine (check the load average printed first) inflates the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import itertools
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiortc import AudioStreamTrack, RTCPeerConnection, RTCSessionDescription

from bench import media_fanout
from bench.common import die_with_parent
from bench.media_clients import FPS, HEIGHT, WIDTH, CountingViewer, LoopCamera, pre_encoded_video
from bench.procstat import cpu_seconds, rss_mb
from media.aiortc_hooks import (
    announce_addresses,
    observe_rtcp,
    rtc_configuration,
)
from tiaojie import event_loop

__all__ = ["main"]

JANUS = Path("/usr/bin/janus")
LOOPBACK = ("127.0.0.1",)
JANUS_ADDRESS = "127.0.0.1"
"""Janus's ICE address: also on the veth end ``JANUS_INTERFACE`` in the benchmark's own network namespace."""
JANUS_INTERFACE, PEER_INTERFACE = "tjv0", "tjv1"
ROOM = 1234
PLUGIN = "janus.plugin.videoroom"
KEEP = {"plugins": "libjanus_videoroom.so", "transports": "libjanus_http.so"}
"""The only Janus modules loaded; every other ``*.so`` in its folders is listed in ``disable``."""
FOLDERS = ("plugins", "transports", "events", "loggers")
CLONE_NEWNET = 0x40000000
TIMEOUT = 20.0
"""Seconds to wait for Janus to start, for an answer to a request, and for the media to flow."""


# --- Janus: installing, configuring, running --------------------------------------------------------------


def ensure_janus() -> None:
    """Install Debian's ``janus`` package if ``/usr/bin/janus`` is missing; exit with a reason if we can't."""
    if JANUS.exists():
        return
    if shutil.which("apt-get") is None:
        raise SystemExit(f"{JANUS} is missing and there is no apt-get to install Debian's janus package")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "install", "-y", "janus"],
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "janus"],
    ):
        print(f"{JANUS} is missing: running `{' '.join(command)}`", flush=True)
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
        if command[1] == "install" and done.returncode == 0 and JANUS.exists():
            return
        if done.returncode != 0:
            print(f"  exit status {done.returncode}: {(done.stderr or done.stdout).strip()[-500:]}")
    raise SystemExit(f"could not install Debian's janus package ({JANUS} is still missing); run as root")


def janus_version() -> str:
    """``janus --version``'s version line, e.g. ``1.1.2``. (It prints it, then exits 1 on the option.)"""
    done = subprocess.run([str(JANUS), "--version"], capture_output=True, text=True, check=False)  # noqa: S603
    found = re.search(r"Janus version: \d+ \(([^)]+)\)", done.stdout + done.stderr)
    return found.group(1) if found else "unknown"


def janus_folders() -> dict[str, Path]:
    """Where the package put its plugins, transports, event handlers and loggers (from ``dpkg -L janus``)."""
    listed = subprocess.run(["dpkg", "-L", "janus"], capture_output=True, text=True, check=False)  # noqa: S607
    folders: dict[str, Path] = {}
    for line in listed.stdout.splitlines():
        path = Path(line)
        if path.parent.name == "janus" and path.name in FOLDERS:
            folders[path.name] = path
    for name in FOLDERS:
        folders.setdefault(name, Path("/usr/lib/x86_64-linux-gnu/janus") / name)
    return folders


def _modules(folder: Path) -> list[str]:
    """The file names Janus would load from ``folder``: names ending in ``.so`` (it compares them exactly)."""
    return sorted(p.name for p in folder.glob("*.so")) if folder.is_dir() else []


def write_config(directory: Path, http_port: int, debug_level: int) -> None:
    """janus.jcfg, janus.plugin.videoroom.jcfg and janus.transport.http.jcfg into ``directory``."""
    folders = janus_folders()
    disable = {
        kind: ",".join(name for name in _modules(folders[kind]) if name != KEEP.get(kind)) for kind in FOLDERS
    }
    for kind, keep in KEEP.items():
        if keep not in _modules(folders[kind]):
            raise SystemExit(f"{folders[kind] / keep} is missing: is Debian's janus package complete?")
    (directory / "janus.jcfg").write_text(
        f"""general: {{
	configs_folder = "{directory}"
	plugins_folder = "{folders["plugins"]}"
	transports_folder = "{folders["transports"]}"
	events_folder = "{folders["events"]}"
	loggers_folder = "{folders["loggers"]}"
	log_to_stdout = false
	log_to_file = "{directory / "janus.log"}"
	debug_level = {debug_level}
	debug_timestamps = true
	debug_colors = false
	session_timeout = 60
}}
certificates: {{
}}
media: {{
	ipv6 = false
}}
nat: {{
	nice_debug = false
	full_trickle = false
	ice_lite = false
	ice_tcp = false
	ignore_mdns = true
	ice_enforce_list = "{JANUS_INTERFACE}"
}}
plugins: {{
	disable = "{disable["plugins"]}"
}}
transports: {{
	disable = "{disable["transports"]}"
}}
loggers: {{
	disable = "{disable["loggers"]}"
}}
events: {{
	broadcast = false
	disable = "{disable["events"]}"
}}
"""
    )
    (directory / "janus.plugin.videoroom.jcfg").write_text(
        f"""general: {{
	events = false
}}
room-{ROOM}: {{
	description = "tiaojie fan-out benchmark"
	publishers = 6
	bitrate = 2000000
	fir_freq = 0
	audiocodec = "opus"
	videocodec = "vp8"
	notify_joining = false
	record = false
}}
"""
    )
    (directory / "janus.transport.http.jcfg").write_text(
        f"""general: {{
	json = "plain"
	base_path = "/janus"
	http = true
	port = {http_port}
	ip = "127.0.0.1"
	https = false
	events = false
}}
admin: {{
	admin_http = false
	admin_https = false
}}
"""
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class JanusProcess:
    """Janus as a child process with a temporary configuration directory; stopped by its PID."""

    def __init__(self, debug_level: int) -> None:
        self.debug_level = debug_level
        self.directory = Path(tempfile.mkdtemp(prefix="janus-bench-"))
        self.process: asyncio.subprocess.Process | None = None
        self.url = ""

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    async def start(self, http: aiohttp.ClientSession) -> None:
        port = _free_port()
        write_config(self.directory, port, self.debug_level)
        configs = str(self.directory)
        with (self.directory / "janus.out").open("wb") as out:
            self.process = await asyncio.create_subprocess_exec(
                str(JANUS),
                f"--configs-folder={configs}",
                f"--config={configs}/janus.jcfg",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                cwd=configs,
                preexec_fn=die_with_parent,  # as bench.common.Server does
                start_new_session=True,
            )
        self.url = f"http://127.0.0.1:{port}/janus"
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            if self.process.returncode is not None:
                raise RuntimeError(f"Janus exited with status {self.process.returncode}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(f"{self.url}/info") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"Janus did not answer on {self.url} within {TIMEOUT:g} s")

    async def stop(self, grace: float = 10.0) -> None:
        """SIGTERM by PID, SIGKILL if it is still there ``grace`` seconds later; then remove the directory."""
        process, self.process = self.process, None
        try:
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
                try:
                    await asyncio.wait_for(process.wait(), grace)
                except TimeoutError:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(process.pid, signal.SIGKILL)
                    await process.wait()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)

    def log_tail(self, lines: int = 40) -> str:
        """The end of Janus's output and log, without the lines that list the modules it was told to skip."""
        text = ""
        for name in ("janus.out", "janus.log"):
            with contextlib.suppress(OSError):
                kept = [
                    line
                    for line in (self.directory / name).read_text(errors="replace").splitlines()
                    if "has been disabled, skipping" not in line
                ]
                text += f"--- {name}\n" + "\n".join(kept[-lines:]) + "\n"
        return text or "(no output)"


# --- Janus's HTTP API -------------------------------------------------------------------------------------


class JanusError(RuntimeError):
    pass


class JanusSession:
    """One Janus API session with one VideoRoom handle, and the long poll that receives its events."""

    def __init__(self, http: aiohttp.ClientSession, url: str, session_id: int) -> None:
        self.http = http
        self.url = url
        self.session_id = session_id
        self.handle_id = 0
        self.webrtcup = asyncio.Event()
        self.hangup: str | None = None
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._poll: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, http: aiohttp.ClientSession, url: str) -> JanusSession:
        created = await _post(http, url, {"janus": "create"})
        session = cls(http, url, int(created["data"]["id"]))
        session._poll = asyncio.ensure_future(session._long_poll())
        attached = await _post(http, f"{url}/{session.session_id}", {"janus": "attach", "plugin": PLUGIN})
        session.handle_id = int(attached["data"]["id"])
        return session

    async def message(
        self, body: dict[str, Any], jsep: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """A VideoRoom request; returns the plugin's answer (``plugindata.data``) and its JSEP, if any.

        Requests the plugin answers at once come back in the HTTP response; the others are acknowledged and
        answered by an event with the same transaction, which the long poll delivers."""
        transaction = secrets.token_hex(8)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[transaction] = future
        request: dict[str, Any] = {"janus": "message", "body": body}
        if jsep is not None:
            request["jsep"] = jsep
        try:
            reply = await _post(
                self.http, f"{self.url}/{self.session_id}/{self.handle_id}", request, transaction
            )
            event = reply if reply.get("janus") == "success" else await asyncio.wait_for(future, TIMEOUT)
        finally:
            self._waiting.pop(transaction, None)
        data: dict[str, Any] = event.get("plugindata", {}).get("data", {})
        if "error" in data or "error_code" in data:
            raise JanusError(f"{body.get('request')}: {data.get('error_code')} {data.get('error')}")
        return data, event.get("jsep")

    async def _long_poll(self) -> None:
        """GET the session's events (Janus answers within 30 s, with a keepalive if nothing happened)."""
        url = f"{self.url}/{self.session_id}"
        timeout = aiohttp.ClientTimeout(total=None, sock_read=60)
        while True:
            try:
                async with self.http.get(url, params={"maxev": "10"}, timeout=timeout) as response:
                    events = await response.json(content_type=None)
            except (aiohttp.ClientError, TimeoutError, ValueError):
                await asyncio.sleep(0.5)
                continue
            for event in events if isinstance(events, list) else [events]:
                self._dispatch(event)

    def _dispatch(self, event: dict[str, Any]) -> None:
        kind = event.get("janus")
        future = self._waiting.get(str(event.get("transaction", "")))
        if kind == "event" and future is not None and not future.done():
            future.set_result(event)
        elif kind == "webrtcup":
            self.webrtcup.set()
        elif kind == "hangup":
            self.hangup = str(event.get("reason", "hangup"))
        elif kind == "error" and future is not None and not future.done():
            future.set_exception(JanusError(str(event.get("error"))))

    async def close(self) -> None:
        if self._poll is not None:
            self._poll.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll
        with contextlib.suppress(aiohttp.ClientError, JanusError, TimeoutError):
            await _post(self.http, f"{self.url}/{self.session_id}", {"janus": "destroy"})


async def _post(
    http: aiohttp.ClientSession, url: str, request: dict[str, Any], transaction: str | None = None
) -> dict[str, Any]:
    request = {**request, "transaction": transaction or secrets.token_hex(8)}
    async with http.post(url, json=request, timeout=aiohttp.ClientTimeout(total=TIMEOUT)) as response:
        reply: dict[str, Any] = await response.json(content_type=None)
    if reply.get("janus") == "error":
        raise JanusError(f"{request['janus']}: {reply.get('error')}")
    return reply


# --- the clients ------------------------------------------------------------------------------------------


class Viewer(CountingViewer):
    """A Janus subscriber."""

    def __init__(self, session: JanusSession) -> None:
        super().__init__()
        self.session = session

    async def subscribe(self, feed: int) -> None:
        """Join as a subscriber of ``feed``, answer Janus's offer (no trickle: candidates are in the SDP)."""
        request = {"request": "join", "ptype": "subscriber", "room": ROOM, "streams": [{"feed": feed}]}
        _, offer = await self.session.message(request)
        if offer is None:
            raise JanusError("the subscriber's join came back without an offer")
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        answer = {"type": "answer", "sdp": self.pc.localDescription.sdp, "trickle": False}
        await self.session.message({"request": "start", "room": ROOM}, answer)


async def _packets_sent(pc: RTCPeerConnection) -> int:
    """RTP packets the peer connection's senders have sent (aiortc's outbound-rtp statistics)."""
    report = await pc.getStats()
    return sum(int(stats.packetsSent) for stats in report.values() if stats.type == "outbound-rtp")


async def run_janus(
    subscribers: int, seconds: float, frames: list[bytes], debug_level: int = 3
) -> media_fanout.Result:
    """One publisher to ``subscribers`` viewers through a fresh Janus; its CPU over ``seconds``."""
    async with aiohttp.ClientSession() as http:
        janus = JanusProcess(debug_level)
        sessions: list[JanusSession] = []
        viewers: list[Viewer] = []
        publisher = RTCPeerConnection(rtc_configuration())
        try:
            await janus.start(http)
            owner = await JanusSession.open(http, janus.url)
            sessions.append(owner)
            joined, _ = await owner.message(
                {"request": "join", "ptype": "publisher", "room": ROOM, "display": "camera"}
            )
            feed = int(joined["id"])
            camera = LoopCamera(frames)
            observe_rtcp(publisher.addTransceiver(camera, "sendonly").sender, camera.watch)
            publisher.addTransceiver(AudioStreamTrack(), "sendonly")
            await publisher.setLocalDescription(await publisher.createOffer())
            offer = {"type": "offer", "sdp": publisher.localDescription.sdp, "trickle": False}
            _, answer = await owner.message({"request": "publish", "display": "camera"}, offer)
            if answer is None:
                raise JanusError("publish came back without an answer")
            await publisher.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
            # A feed can be subscribed to once its PeerConnection is up (ICE and DTLS done: "webrtcup").
            try:
                await asyncio.wait_for(owner.webrtcup.wait(), TIMEOUT)
            except TimeoutError:
                raise RuntimeError(
                    f"the publisher's connection to Janus did not come up within {TIMEOUT:g} s"
                ) from None
            for _ in range(subscribers):
                session = await JanusSession.open(http, janus.url)
                sessions.append(session)
                viewers.append(Viewer(session))
                await viewers[-1].subscribe(feed)
            deadline = time.monotonic() + TIMEOUT
            while any(v.packets < 50 for v in viewers):  # everyone receives (video from a keyframe: PLI)
                hung_up = [s.hangup for s in sessions if s.hangup]
                if hung_up or time.monotonic() > deadline:
                    state = ", ".join(f"{v.packets} ({v.video_packets} video)" for v in viewers)
                    reason = f"Janus hung up ({hung_up[0]})" if hung_up else f"not within {TIMEOUT:g} s"
                    raise RuntimeError(f"subscribers did not start receiving: {reason}; packets: {state}")
                await asyncio.sleep(0.1)
            if not all(v.video_packets for v in viewers):
                raise RuntimeError("a subscriber receives audio but no video")
            await asyncio.sleep(1.0)  # warm-up

            sent_before, received_before = await _packets_sent(publisher), _received(viewers)
            cpu_before, start = cpu_seconds(janus.pid), time.monotonic()
            await asyncio.sleep(seconds)
            sent_after, received_after = await _packets_sent(publisher), _received(viewers)
            cpu_after, elapsed = cpu_seconds(janus.pid), time.monotonic() - start
            sent, forwarded = sent_after - sent_before, received_after - received_before
            user, system = (end - begin for begin, end in zip(cpu_before, cpu_after, strict=True))
            cpu = user + system
            return media_fanout.Result(
                subscribers=subscribers,
                incoming_pps=sent / elapsed,
                forwarded_pps=forwarded / elapsed,
                cpu_per_second=cpu / elapsed,
                system_share=system / cpu if cpu else float("nan"),
                us_per_forwarded=cpu / forwarded * 1e6 if forwarded else float("nan"),
                rss_mb=rss_mb(janus.pid),
                received_ratio=forwarded / (sent * subscribers) if sent else float("nan"),
                plis=camera.plis,
                rtx=-1,
            )
        except Exception:
            print(f"Janus's output (last lines):\n{janus.log_tail()}", flush=True)
            raise
        finally:
            for viewer in viewers:
                await viewer.pc.close()
            await publisher.close()
            for session in sessions:
                await session.close()
            await janus.stop()


def _received(viewers: list[Viewer]) -> int:
    return sum(viewer.packets for viewer in viewers)


# --- the private network namespace ------------------------------------------------------------------------


def enter_private_network() -> None:
    """Move this process (and so its children) into a new network namespace: lo up, and a veth pair that
    connects to nothing, one end holding ``JANUS_ADDRESS``/32 (as lo does) for Janus's ICE. Call it before
    any thread starts: a namespace belongs to the thread that enters it and to what that thread creates."""
    if len(os.listdir("/proc/self/task")) != 1:
        raise RuntimeError("enter the network namespace before any thread starts")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        error = ctypes.get_errno()
        raise SystemExit(
            f"cannot create a network namespace ({os.strerror(error)}): the Janus benchmark needs root "
            "(CAP_SYS_ADMIN, CAP_NET_ADMIN), because Janus gathers no ICE candidate on a loopback interface"
        )
    ip = shutil.which("ip") or "/usr/sbin/ip"
    for command in (
        ["link", "set", "lo", "up"],
        ["link", "add", JANUS_INTERFACE, "type", "veth", "peer", "name", PEER_INTERFACE],
        ["address", "add", f"{JANUS_ADDRESS}/32", "dev", JANUS_INTERFACE],
        ["link", "set", JANUS_INTERFACE, "up"],
        ["link", "set", PEER_INTERFACE, "up"],
    ):
        done = subprocess.run([ip, *command], capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            raise SystemExit(
                f"`ip {' '.join(command)}` failed in the benchmark's namespace: {done.stderr.strip()}"
            )
    deadline = time.monotonic() + 5
    while not _running(ip, JANUS_INTERFACE):  # Janus takes only interfaces that are up and running
        if time.monotonic() > deadline:
            raise SystemExit(f"{JANUS_INTERFACE} did not come up in the benchmark's namespace")
        time.sleep(0.05)


def _running(ip: str, interface: str) -> bool:
    """Up with a carrier (IFF_RUNNING: ``LOWER_UP``); /sys still shows the namespace we came from."""
    shown = subprocess.run([ip, "-o", "link", "show", interface], capture_output=True, text=True, check=False)  # noqa: S603
    flags = shown.stdout.partition("<")[2].partition(">")[0].split(",")
    return "UP" in flags and "LOWER_UP" in flags


# --- the command ------------------------------------------------------------------------------------------

HEADER = (
    f"{'server':<8}{'1→N':>4} {'in pkt/s':>9} {'fwd pkt/s':>10} {'CPU-s/s':>8} {'kernel':>7} "
    f"{'µs/fwd pkt':>11} {'RSS MB':>7} {'received':>9} {'PLIs':>5} {'RTX':>4}"
)


def line(label: str, result: media_fanout.Result) -> str:
    """A row in media_fanout's layout, after a label (an RTX count below 0 is not known: ``-``)."""
    rtx = f"{result.rtx:>4}" if result.rtx >= 0 else f"{'-':>4}"
    return (
        f"{label:<8}{result.subscribers:>4} {result.incoming_pps:>9.0f} {result.forwarded_pps:>10.0f} "
        f"{result.cpu_per_second:>8.3f} {result.system_share:>7.0%} {result.us_per_forwarded:>11.1f} "
        f"{result.rss_mb:>7.0f} {result.received_ratio:>9.3f} {result.plis:>5} {rtx}"
    )


def _load() -> str:
    load = os.getloadavg()
    return f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs"


async def bench(arguments: argparse.Namespace) -> None:
    announce_addresses(LOOPBACK)
    print(time.strftime("%Y-%m-%d %H:%M:%S %Z"))
    print(_load())
    print(f"Janus {janus_version()} ({JANUS}), VideoRoom over HTTP; ICE on {JANUS_INTERFACE} {JANUS_ADDRESS}")
    if arguments.compare:
        print(f"tiaojie engine event loop: {event_loop.loop_name(arguments.event_loop)}")
    frames = pre_encoded_video()
    kbps = sum(len(f) for f in frames[1:]) * 8 / ((len(frames) - 1) / FPS) / 1000
    print(f"video: VP8 {WIDTH}x{HEIGHT} at {FPS} fps, {kbps:.0f} kbit/s; audio: Opus (aiortc)")
    print(HEADER, flush=True)
    results: dict[tuple[str, int], list[float]] = {}
    for round_number, subscribers in itertools.product(range(arguments.rounds), arguments.subscribers):
        suffix = f"   (round {round_number + 1})" if arguments.rounds > 1 else ""
        result = await run_janus(subscribers, arguments.seconds, frames, arguments.janus_debug_level)
        results.setdefault(("janus", subscribers), []).append(result.us_per_forwarded)
        print(line("janus", result) + suffix, flush=True)
        if arguments.compare:
            result = await media_fanout.run(
                subscribers, arguments.seconds, True, True, frames, loop_choice=arguments.event_loop
            )
            results.setdefault(("tiaojie", subscribers), []).append(result.us_per_forwarded)
            print(line("tiaojie", result) + suffix, flush=True)
    print(_load())
    if arguments.rounds > 1 or arguments.compare:
        print(f"median µs of server CPU per forwarded packet over {arguments.rounds} round(s):")
        for subscribers in arguments.subscribers:
            janus = statistics.median(results[("janus", subscribers)])
            text = f"  1→{subscribers}: janus {janus:.1f}"
            if arguments.compare:
                ours = statistics.median(results[("tiaojie", subscribers)])
                text += f"  tiaojie {ours:.1f}  tiaojie/janus {ours / janus:.2f}"
            print(text)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--seconds", type=float, default=10.0, help="measurement window per scenario")
    parser.add_argument("--rounds", type=int, default=1, help="repeat every scenario this many times")
    parser.add_argument(
        "--compare", action="store_true", help="after each Janus run, the same with the tiaojie engine"
    )
    parser.add_argument(
        "--event-loop",
        choices=("auto", "uvloop", "asyncio"),
        default="auto",
        help="the tiaojie engine's event loop with --compare (as bench.media_fanout's option)",
    )
    parser.add_argument(
        "--janus-debug-level", type=int, default=3, choices=range(8), help="Janus's log level (3: warnings)"
    )
    arguments = parser.parse_args(argv)
    if arguments.rounds < 1:
        parser.error("--rounds must be at least 1")
    ensure_janus()
    enter_private_network()
    asyncio.run(bench(arguments))


if __name__ == "__main__":
    main()
