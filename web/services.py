"""Everything a request handler needs, built once per application from the settings."""

from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

from aiohttp import web
from aiortc import RTCIceServer

from agreements.handoff import EvidenceDesk
from agreements.sealing_service import DatabaseSealer, SealingSetup
from cases.calendar import CalendarOverrides, WorkdayCalendar
from cases.context import CaseEnv
from media.codecs import Codec
from media.engine import MediaConfig
from recordings.jobs import RenderWorker
from recordings.service import local_node
from rooms.notify import HttpGatewayNotifier, LogNotifier, Notifier
from rooms.sessions import LinkPolicy
from store.database import Database
from store.files import LocalFileStore
from tiaojie.at_rest import SecretBox
from tiaojie.clock import Clock
from tiaojie.errors import InvalidInput
from tiaojie.settings import Settings
from web.read_cache import ReadCache

__all__ = ["SERVICES", "Services"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    db: Database
    clock: Clock
    calendar: WorkdayCalendar
    files: LocalFileStore
    cases: CaseEnv
    notifier: Notifier
    links: LinkPolicy
    media: MediaConfig
    renders: RenderWorker
    secret_box: SecretBox
    evidence: EvidenceDesk  # hands effective agreements to the sealing step (attach a Sealer)
    sealing: SealingSetup  # sealing agreements and verifying them (keys loaded on first use)
    read_cache: ReadCache | None = None  # None: answers are not kept (turned off)

    @classmethod
    def build(cls, settings: Settings, clock: Clock, db: Database | None = None) -> Services:
        overrides = (
            CalendarOverrides.load(settings.calendar_overrides) if settings.calendar_overrides else None
        )
        calendar = WorkdayCalendar(overrides)
        files = LocalFileStore(settings.effective_media_dir / "materials")
        env = CaseEnv(
            clock=clock,
            calendar=calendar,
            files=files,
            warn_days=settings.deadline_warn_days,
            max_upload_bytes=settings.max_upload_bytes,
            material_types=settings.material_types,
        )
        notifier: Notifier
        if settings.notifier == "http":
            if not settings.notifier_url:
                raise InvalidInput("TIAOJIE_NOTIFIER=http needs TIAOJIE_NOTIFIER_URL", field="notifier_url")
            notifier = HttpGatewayNotifier(settings.notifier_url, settings.notifier_token)
        else:
            notifier = LogNotifier()
            if settings.public_url and not _local(settings.public_url):
                log.warning(
                    "TIAOJIE_NOTIFIER=log with TIAOJIE_PUBLIC_URL=%s: join links, signing codes and "
                    "recording links are only written to this log, never sent; set TIAOJIE_NOTIFIER=http "
                    "and TIAOJIE_NOTIFIER_URL for the SMS gateway",
                    settings.public_url,
                )
        assert settings.secret_key is not None, "call Settings.with_secret() first"
        links = LinkPolicy(
            secret=settings.secret_key, base_url=settings.base_url(), hours_after_end=settings.join_link_hours
        )
        media = MediaConfig(
            announced_addresses=settings.announced_addresses,
            ice_servers=tuple(
                RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
                for s in settings.ice_servers
            ),
            video_codec=Codec(settings.video_codec),
        )
        database = db or Database(settings.effective_database_url)
        renders = RenderWorker(
            database, settings.effective_media_dir, clock, node=local_node(), font=settings.render_font
        )
        sealing = SealingSetup.from_settings(settings)
        evidence = EvidenceDesk(database, files, clock)
        evidence.attach(DatabaseSealer(database, env, sealing))  # effective agreements are sealed
        return cls(
            settings=settings,
            media=media,
            renders=renders,
            notifier=notifier,
            links=links,
            db=database,
            clock=clock,
            calendar=calendar,
            files=files,
            cases=env,
            sealing=sealing,
            evidence=evidence,
            secret_box=SecretBox(settings.secret_key),
            read_cache=(
                ReadCache(entries=settings.read_cache_entries, max_bytes=settings.read_cache_bytes)
                if settings.read_cache_entries
                else None
            ),
        )


SERVICES = web.AppKey("services", Services)


def _local(url: str) -> bool:
    """A development address: localhost or a loopback IP."""
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
