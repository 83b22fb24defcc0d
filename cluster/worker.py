"""One worker process, started by :mod:`cluster.supervisor`: serves the application on the listening socket
it inherited, owns the rooms the topology gives it, and says ``ready`` on its control socket. It stops on
SIGTERM, or when the control socket closes (the supervisor is gone). SIGINT is the supervisor's to handle.

Run as ``python -m cluster.worker --index I --count N --listen-fd F --control-fd C --run-dir D``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

from cluster import serving
from cluster.topology import build_topology
from tiaojie import event_loop
from tiaojie.logs import configure_logging
from tiaojie.settings import Settings, load_settings

__all__ = ["main", "run_worker"]

log = logging.getLogger("cluster.worker")


async def run_worker(
    settings: Settings, *, index: int, count: int, listen_fd: int, control_fd: int, run_dir: Path
) -> int:
    from web.app import create_app

    control = socket.socket(fileno=control_fd)
    public = socket.socket(fileno=listen_fd)
    public.setblocking(False)
    topo = build_topology(settings, index=index, count=count, run_dir=run_dir)
    # The supervisor migrated and recovered the recordings cut off by the last stop.
    app = create_app(settings, migrate=False, topo=topo, recover_recordings=False)
    runner, _ = await serving.start(
        app, public=public, internal=topo.internal, tls=serving.ssl_context(settings)
    )
    reader, writer = await asyncio.open_unix_connection(sock=control)
    writer.write(f"ready {topo.node.id}\n".encode())
    await writer.drain()
    log.info("worker %d (%s) serving", index, topo.node.id)

    async def supervisor_gone() -> None:
        await reader.read()  # EOF: the supervisor closed its end or died

    await serving.wait_for_stop((signal.SIGTERM,), also=supervisor_gone)
    await runner.cleanup()
    writer.close()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m cluster.worker")
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--listen-fd", type=int, required=True)
    parser.add_argument("--control-fd", type=int, required=True)
    parser.add_argument("--run-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the supervisor decides
    settings = load_settings()
    configure_logging(settings.log_level)
    return event_loop.run(
        run_worker(
            settings,
            index=args.index,
            count=args.count,
            listen_fd=args.listen_fd,
            control_fd=args.control_fd,
            run_dir=args.run_dir,
        ),
        settings.event_loop,
    )


if __name__ == "__main__":
    sys.exit(main())
