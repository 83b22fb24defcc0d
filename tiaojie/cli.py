"""The ``tiaojie`` command line: serve, migrate, demo, administration of courts, organisations, users and
API keys, recordings, and the quarterly analysis report."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import secrets
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from accounts.principal import Role
from tiaojie import __version__, event_loop
from tiaojie.clock import SystemClock
from tiaojie.errors import Conflict, NotFound, TiaojieError
from tiaojie.logs import configure_logging
from tiaojie.settings import Settings, load_settings

__all__ = ["main"]

Command = Callable[[Settings, argparse.Namespace], Awaitable[int]]


def _db(settings: Settings) -> Any:
    from store.database import Database

    return Database(settings.effective_database_url)


async def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    workers = settings.workers if args.workers is None else args.workers
    if workers > 1:
        return await _serve_workers(settings, host, port, workers)
    from cluster import serving
    from cluster.topology import build_topology
    from web.app import create_app

    topo = build_topology(settings)
    app = create_app(settings, topo=topo)
    tls = serving.ssl_context(settings)
    runner, bound = await serving.start(app, public=(host, port), internal=topo.internal, tls=tls)
    _serving(settings, host, bound, tls is not None, f"node {topo.node.id}")
    await serving.wait_for_stop()
    print("shutting down", flush=True)
    await runner.cleanup()
    return 0


async def _serve_workers(settings: Settings, host: str, port: int, workers: int) -> int:
    from cluster.supervisor import Supervisor, bind
    from store.migrate import upgrade

    settings = settings.with_secret()  # generated once here, not raced for by the workers
    db = _db(settings)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    await _recover_recordings(settings)
    try:
        listener = bind(host, port)
    except OSError as exc:
        raise TiaojieError(f"cannot listen on {host}:{port}: {exc.strerror}", code="cannot_listen") from exc
    supervisor = Supervisor(listener, workers)
    bound = listener.getsockname()[1]
    await supervisor.start()
    _serving(settings, host, bound, bool(settings.tls_cert), f"{workers} workers")
    await supervisor.run()
    print("shutting down", flush=True)
    return 0


async def _recover_recordings(settings: Settings) -> None:
    """Before the workers start: recordings still marked as running on this machine were cut off."""
    from web.app import recover_stale_recordings
    from web.services import Services

    services = Services.build(settings, SystemClock())
    try:
        await recover_stale_recordings(services, stale_seconds=0)
    finally:
        await services.db.dispose()


def _serving(settings: Settings, host: str, port: int, tls: bool, how: str) -> None:
    scheme = "https" if tls else "http"
    shown_host = f"[{host}]" if ":" in host else host
    print(
        f"tiaojie {__version__} serving on {scheme}://{shown_host}:{port}/"
        f" (database: {_safe_url(settings)}; {how})",
        flush=True,
    )


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.effective_database_url).render_as_string(hide_password=True)


async def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from store.migrate import current_revision, upgrade

    db = _db(settings)
    try:
        before = await current_revision(db)
        await upgrade(db, args.revision)
        after = await current_revision(db)
    finally:
        await db.dispose()
    print(f"database {_safe_url(settings)}: {before or 'empty'} -> {after}")
    return 0


async def cmd_sweep(settings: Settings, args: argparse.Namespace) -> int:
    from web.app import sweep_once
    from web.services import Services

    services = Services.build(settings.with_secret(), SystemClock())
    try:
        expired = await sweep_once(services)
    finally:
        await services.db.dispose()
    print(f"{len(expired)} assignment(s) lapsed")
    return 0


async def _in_session(settings: Settings, work: Callable[[Any], Awaitable[Any]]) -> Any:
    from store.migrate import upgrade

    db = _db(settings)
    try:
        await upgrade(db)
        async with db.session() as session:
            return await work(session)
    finally:
        await db.dispose()


async def cmd_court_create(settings: Settings, args: argparse.Namespace) -> int:
    from accounts.service import create_court

    court = await _in_session(
        settings,
        lambda s: create_court(
            s, name=args.name, code=args.code, level=args.level, region=args.region, now=SystemClock().now()
        ),
    )
    _out(args, {"id": court.id, "name": court.name, "code": court.code}, f"court {court.id} {court.name}")
    return 0


async def cmd_org_create(settings: Settings, args: argparse.Namespace) -> int:
    from accounts.service import create_organisation

    org = await _in_session(
        settings,
        lambda s: create_organisation(
            s,
            name=args.name,
            kind=args.kind,
            parent_id=args.parent,
            credit_code=args.credit_code,
            now=SystemClock().now(),
        ),
    )
    _out(args, {"id": org.id, "name": org.name, "kind": org.kind}, f"organisation {org.id} {org.name}")
    return 0


async def cmd_user_create(settings: Settings, args: argparse.Namespace) -> int:
    from accounts.service import create_user

    password = args.password
    generated = False
    if password is None:
        if sys.stdin.isatty():
            password = getpass.getpass("password (at least 10 characters): ")
        else:
            password = secrets.token_urlsafe(12)
            generated = True
    user = await _in_session(
        settings,
        lambda s: create_user(
            s,
            username=args.username,
            display_name=args.name or args.username,
            password=password,
            role=Role(args.role),
            court_id=args.court,
            organisation_id=args.org,
            mediator_id=args.mediator,
            language=args.language,
            now=SystemClock().now(),
        ),
    )
    data = {"id": user.id, "username": user.username, "role": user.role}
    if generated:
        data["password"] = password
    _out(args, data, f"user {user.id} {user.username}" + (f" password: {password}" if generated else ""))
    return 0


async def cmd_apikey_create(settings: Settings, args: argparse.Namespace) -> int:
    from accounts.service import create_api_key

    issued = await _in_session(
        settings,
        lambda s: create_api_key(
            s,
            name=args.name,
            court_id=args.court,
            organisation_id=args.org,
            created_by="command line",
            now=SystemClock().now(),
        ),
    )
    _out(
        args,
        {"id": issued.key.id, "token": issued.token},
        f"API key {issued.key.id}\ntoken (shown once): {issued.token}",
    )
    return 0


async def cmd_apikey_revoke(settings: Settings, args: argparse.Namespace) -> int:
    from accounts.service import revoke_api_key

    await _in_session(settings, lambda s: revoke_api_key(s, args.key_id, now=SystemClock().now()))
    print(f"API key {args.key_id} revoked (processes that cached it stop accepting it within 30 s)")
    return 0


async def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from tiaojie.demo import create_demo

    db = _db(settings)
    try:
        info = await create_demo(db, settings, SystemClock())
    finally:
        await db.dispose()
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return 0
    base = info["base_url"]
    print(f"""tiaojie demo data created (database: {_safe_url(settings)})

Start the service:      tiaojie serve       (or ./scripts/serve)
Console (mediator):     {base}/console/login
  mediator   {info["logins"]["mediator"]["username"]} / {info["logins"]["mediator"]["password"]}
  court      {info["logins"]["court"]["username"]} / {info["logins"]["court"]["password"]}
  union      {info["logins"]["union"]["username"]} / {info["logins"]["union"]["password"]}
API documentation:      {base}/api/v1/docs   (OpenAPI: {base}/api/v1/openapi.json)
Court API key:          {info["api_keys"]["court"]}
Union API key:          {info["api_keys"]["union"]}
Demo case:              {info["case"]["case_number"]}  id {info["case"]["id"]}
                        (assigned to the mediator, waiting for acceptance)

Video session today:    {info["session"]["case_number"]} (accepted; open these links in a browser)
  mediator   {info["session"]["links"]["mediator"]}
  worker     {info["session"]["links"]["worker"]}
  employer   {info["session"]["links"]["employer"]}

Try:  curl -H 'Authorization: Bearer {info["api_keys"]["court"]}' {base}/api/v1/cases/{info["case"]["id"]}
""")
    return 0


async def _recording(db: Any, recording_id: str) -> Any:
    from recordings.tables import Recording
    from tiaojie.ids import is_id

    async with db.read() as session:
        recording = await session.get(Recording, recording_id) if is_id(recording_id, "rec") else None
    if recording is None:
        raise NotFound(f"no recording {recording_id}", resource="recording")
    return recording


async def cmd_recording_list(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from recordings.tables import Recording

    db = _db(settings)
    try:
        async with db.read() as session:
            query = select(Recording).order_by(Recording.started_at.desc()).limit(args.limit)
            if args.case:
                query = query.where(Recording.case_id == args.case)
            rows = (await session.scalars(query)).all()
    finally:
        await db.dispose()
    items = [
        {
            "id": r.id,
            "case_id": r.case_id,
            "session_id": r.session_id,
            "part": r.part,
            "status": r.status,
            "started_at": r.started_at.isoformat(),
            "duration_ms": r.duration_ms,
            "render": r.render_status,
        }
        for r in rows
    ]
    text = "\n".join(
        f"{i['id']}  {i['status']:<11} {i['part']:<10} {i['started_at'][:19]}  "
        f"{(i['duration_ms'] or 0) / 1000:7.1f} s  render: {i['render'] or '-'}"
        for i in items
    )
    _out(args, {"recordings": items}, text or "no recordings")
    return 0


async def cmd_recording_verify(settings: Settings, args: argparse.Namespace) -> int:
    from recordings.service import verify

    db = _db(settings)
    try:
        recording = await _recording(db, args.recording_id)
        problems = await asyncio.to_thread(verify, recording, settings.effective_media_dir)
    finally:
        await db.dispose()
    data = {
        "recording_id": recording.id,
        "intact": not problems,
        "manifest_sha256": recording.manifest_sha256,
        "problems": [p.to_json() for p in problems],
    }
    lines = [
        f"{recording.id}: {'intact' if not problems else 'CHANGED'} (manifest {recording.manifest_sha256})"
    ]
    lines += [f"  {p.kind.value}: {p.file or '(manifest)'}" for p in problems]
    _out(args, data, "\n".join(lines))
    return 0 if not problems else 1


async def cmd_recording_render(settings: Settings, args: argparse.Namespace) -> int:
    from recordings.jobs import RenderStatus, claim_render, request_render, run_render
    from recordings.tables import Recording
    from tiaojie.progress import ProgressBar

    db = _db(settings)
    clock = SystemClock()
    try:
        recording = await _recording(db, args.recording_id)
        async with db.session() as session:
            row = await session.get(Recording, recording.id)
            assert row is not None
            if row.render_status == RenderStatus.READY and args.again:
                row.render_status = RenderStatus.FAILED  # asked to render again: a ready file is replaced
            await request_render(session, row, clock.now())
        if not await claim_render(db, recording.id, at=clock.now()):
            raise Conflict("the recording is already rendered or being rendered", code="render_busy")
        outcome = await run_render(
            db,
            settings.effective_media_dir,
            recording.id,
            clock,
            on_progress=ProgressBar(f"rendering {recording.id}"),
            font=settings.render_font,
        )
    finally:
        await db.dispose()
    if outcome.status is RenderStatus.READY:
        path = settings.effective_media_dir / recording.directory / "playback.mp4"
        _out(args, {"status": "ready", **outcome.report, "path": str(path)}, f"ready: {path}")
        return 0
    _out(args, {"status": "failed", "error": outcome.error}, f"failed: {outcome.error}")
    return 1


async def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from accounts.principal import Principal
    from agreements.pdf import DEFAULT_FONT
    from stats.report import build_report
    from stats.scope import Filters
    from tiaojie.progress import ProgressBar

    font = settings.render_font or DEFAULT_FONT
    if not font.is_file():
        raise NotFound(f"no CJK font at {font} (install fonts-wqy-microhei or set TIAOJIE_RENDER_FONT)")
    db = _db(settings)
    try:
        files = await build_report(
            db,
            Principal.system("command line report"),
            Filters(court_id=args.court, organisation_id=args.org),
            args.quarter,
            lang=args.lang,
            out_dir=Path(args.out),
            font=font,
            now=SystemClock().now(),
            on_progress=ProgressBar(f"report {args.quarter}"),
        )
    finally:
        await db.dispose()
    _out(args, {"files": [str(f) for f in files]}, "\n".join(str(f) for f in files))
    return 0


def _out(args: argparse.Namespace, data: dict[str, Any], text: str) -> None:
    print(json.dumps(data, ensure_ascii=False) if getattr(args, "json", False) else text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tiaojie", description="Court–union online mediation of labor disputes."
    )
    parser.add_argument("--version", action="version", version=f"tiaojie {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the service (migrates the database first)")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument(
        "--workers", type=int, help="worker processes sharing the port (default TIAOJIE_WORKERS, 1)"
    )
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("migrate", help="bring the database schema up to date")
    p.add_argument("--revision", default="head")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser(
        "demo", help="create a demo court, union, mediator and case, and print how to try them"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "sweep", help="lapse assignments not accepted in time (the server does this by itself)"
    )
    p.set_defaults(func=cmd_sweep)

    court = sub.add_parser("court", help="courts").add_subparsers(dest="action", required=True)
    p = court.add_parser("create")
    p.add_argument("--name", required=True)
    p.add_argument("--code", required=True, help="court code, e.g. 豫0802")
    p.add_argument("--level", choices=["basic", "intermediate", "high"], default="basic")
    p.add_argument("--region")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_court_create)

    org = sub.add_parser("org", help="trade unions and mediation organisations").add_subparsers(
        dest="action", required=True
    )
    p = org.add_parser("create")
    p.add_argument("--name", required=True)
    p.add_argument("--kind", choices=["union", "mediation_org"], default="union")
    p.add_argument("--parent", help="parent organisation id")
    p.add_argument("--credit-code")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_org_create)

    user = sub.add_parser("user", help="console users").add_subparsers(dest="action", required=True)
    p = user.add_parser("create")
    p.add_argument("--username", required=True)
    p.add_argument("--name")
    p.add_argument("--role", choices=[r.value for r in Role], required=True)
    p.add_argument("--court")
    p.add_argument("--org")
    p.add_argument("--mediator")
    p.add_argument("--language", default="zh-CN", choices=["zh-CN", "en"])
    p.add_argument("--password", help="default: asked for, or generated and printed when not on a terminal")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_user_create)

    key = sub.add_parser("apikey", help="API keys of court and union systems").add_subparsers(
        dest="action", required=True
    )
    p = key.add_parser("create")
    p.add_argument("--name", required=True)
    scope = p.add_mutually_exclusive_group(required=True)
    scope.add_argument("--court")
    scope.add_argument("--org")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_apikey_create)
    p = key.add_parser("revoke")
    p.add_argument("key_id")
    p.set_defaults(func=cmd_apikey_revoke)

    recording = sub.add_parser("recording", help="session recordings").add_subparsers(
        dest="action", required=True
    )
    p = recording.add_parser("list", help="the newest recordings")
    p.add_argument("--case", help="only this case's")
    p.add_argument("--limit", type=int, default=50)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_recording_list)
    p = recording.add_parser("verify", help="check the files against the sealed manifest (exit 1 if changed)")
    p.add_argument("recording_id")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_recording_verify)
    p = recording.add_parser("render", help="make the playback file now, with a progress bar")
    p.add_argument("recording_id")
    p.add_argument("--again", action="store_true", help="render again even if a playback file is ready")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_recording_render)

    p = sub.add_parser(
        "report", help="the quarterly analysis report: a PDF and CSV files, with a progress bar"
    )
    p.add_argument("--quarter", required=True, help="e.g. 2026Q3")
    scope = p.add_mutually_exclusive_group()
    scope.add_argument("--court", help="only this court's cases")
    scope.add_argument("--org", help="only the cases of this organisation (and those under it)")
    p.add_argument("--lang", choices=["zh-CN", "en"], default="zh-CN")
    p.add_argument("--out", required=True, help="folder for report-<quarter>.pdf and the CSV files")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_report)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        configure_logging(settings.log_level)
        result: int = event_loop.run(args.func(settings, args), settings.event_loop)
        return result
    except TiaojieError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
