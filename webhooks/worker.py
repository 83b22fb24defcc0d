"""The delivery worker: one per deployment (under the ``webhook_delivery`` job lease), at least once.

It claims due deliveries — for each endpoint and case only the oldest one still pending, so a case's events
reach an endpoint in order — by moving their next attempt past the claim period, sends them, then records
every attempt, its verdict and the next attempt in the delivery log. A worker that dies after claiming
leaves its claims to expire: the deliveries are attempted again (the receiver deduplicates on
``webhook-id``). :meth:`DeliveryWorker.run` (the service) keeps claiming while attempts are in flight;
:meth:`DeliveryWorker.run_once` (tests) does one claim–send–record round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, exists, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from cluster.jobs import JobLease
from store.database import Database
from tiaojie.at_rest import SecretBox, SecretUnreadable
from tiaojie.clock import Clock
from tiaojie.jsonvalue import dumps
from tiaojie.settings import Settings
from webhooks import signing
from webhooks.addresses import parse_networks
from webhooks.outbox import on_commit
from webhooks.overdue import report_overdue
from webhooks.schedule import AttemptResult, Verdict, next_attempt_at, parse_retry_after, verdict
from webhooks.sender import Sender
from webhooks.tables import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

__all__ = [
    "JOB",
    "OVERDUE_JOB",
    "DeliveryWorker",
    "Job",
    "deliver_forever",
    "seal_stored_secrets",
    "valid_secrets",
    "watch_overdue",
]

log = logging.getLogger(__name__)

JOB = "webhook_delivery"
OVERDUE_JOB = "webhook_overdue_watch"


@dataclass(frozen=True, slots=True)
class Job:
    delivery_id: str
    endpoint_id: str
    url: str
    secrets: tuple[str, ...]
    msg_id: str
    body: bytes


DISABLED_GONE = "the endpoint answered 410 Gone"
DISABLED_UNREADABLE = (
    "its signing secret cannot be read (TIAOJIE_SECRET_KEY changed?): rotate it, then enable the endpoint"
)


def valid_secrets(endpoint: WebhookEndpoint, now: datetime, box: SecretBox) -> tuple[str, ...]:
    """The current secret first, then rotated ones whose overlap has not ended (opened from storage).
    SecretUnreadable when the current one does not open; a rotated one that does not open is left out."""
    current = signing.open_secret(box, endpoint.secret, endpoint.id)
    previous: list[str] = []
    for entry in endpoint.previous_secrets:
        if datetime.fromisoformat(str(entry["expires_at"])) <= now:
            continue
        try:
            previous.append(signing.open_secret(box, str(entry["secret"]), endpoint.id))
        except SecretUnreadable:
            log.warning(
                "a rotated signing secret of webhook endpoint %s does not open: left out", endpoint.id
            )
    return (current, *previous)


async def seal_stored_secrets(db: Database, box: SecretBox) -> int:
    """Seal the secrets still stored in the clear (written before secrets were sealed); how many rows."""
    changed = 0
    async with db.session() as session:
        for endpoint in (await session.scalars(select(WebhookEndpoint).with_for_update())).all():
            previous = [
                {**entry, "secret": _sealed(box, str(entry["secret"]), endpoint.id)}
                for entry in endpoint.previous_secrets
            ]
            secret = _sealed(box, endpoint.secret, endpoint.id)
            if secret != endpoint.secret or previous != endpoint.previous_secrets:
                endpoint.secret, endpoint.previous_secrets = secret, previous
                changed += 1
    if changed:
        log.info("sealed the webhook secrets of %d endpoints stored in the clear", changed)
    return changed


def _sealed(box: SecretBox, stored: str, endpoint_id: str) -> str:
    if stored.startswith(signing.SECRET_PREFIX):
        return signing.seal_secret(box, stored, endpoint_id)
    return stored


def _heads() -> Select[Any]:
    """Pending deliveries to active endpoints that no earlier pending delivery of the same case and
    endpoint holds back."""
    d = WebhookDelivery
    earlier = aliased(WebhookDelivery)
    blocked = exists().where(
        earlier.endpoint_id == d.endpoint_id,
        earlier.case_id == d.case_id,
        earlier.status == "pending",
        earlier.seq < d.seq,
    )
    return (
        select(d)
        .join(WebhookEndpoint, WebhookEndpoint.id == d.endpoint_id)
        .where(d.status == "pending", d.seq.is_not(None), WebhookEndpoint.status == "active", ~blocked)
    )


class DeliveryWorker:
    def __init__(
        self,
        db: Database,
        clock: Clock,
        sender: Sender,
        box: SecretBox,
        *,
        concurrency: int = 8,
        batch: int = 100,
        per_endpoint: int | None = None,
        claim_seconds: float = 15.0,
        rand: Callable[[], float] = random.random,
        wall: Callable[[], float] = time.time,
        outcomes: Counter[str] | None = None,
    ) -> None:
        self.db = db
        # Attempts recorded by this worker, by outcome (delivered, retry, failed — gave up —, gone): metrics.
        self.outcomes: Counter[str] = outcomes if outcomes is not None else Counter()
        self.clock = clock
        self.sender = sender
        self.box = box
        self.batch = batch
        self.concurrency = concurrency
        # One slow or dead endpoint holds at most a quarter of the claims and half of the connections.
        self.per_endpoint = per_endpoint or max(1, batch // 4)
        self.endpoint_concurrency = max(1, concurrency // 2)
        self._endpoint_gates: dict[str, asyncio.Semaphore] = {}
        self.claim = timedelta(seconds=claim_seconds)
        self.rand = rand
        self.wall = wall  # the webhook-timestamp: real time, which receivers compare with their own clock
        self._gate = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        """One round: claim, send, record. Returns how many attempts were made."""
        jobs = await self._claim()
        if not jobs:
            return 0
        results = await asyncio.gather(*(self._send(job) for job in jobs))
        await self._record(list(zip(jobs, results, strict=True)))
        return len(jobs)

    async def run(self, jobs: JobLease, *, poll: float, lease: float = 30.0, linger: float = 0.05) -> None:
        """Deliver while this node holds the lease, without rounds: claimed deliveries are sent as tasks
        (a slow or dead endpoint holds up nobody else) and their attempts are recorded in batches as they
        finish. Claims happen when this process commits events, when attempts were recorded (a case's next
        event may be free now), and every ``poll`` seconds; after a wake the worker lingers ``linger``
        seconds so that a burst of changes is claimed in one transaction rather than one each."""
        remove = on_commit(self.wake)
        loop = asyncio.get_running_loop()
        finished: asyncio.Queue[tuple[Job, AttemptResult]] = asyncio.Queue()
        in_flight: dict[asyncio.Task[None], str] = {}  # task → endpoint id
        recorder = asyncio.create_task(self._recorder(finished))
        try:
            while True:
                try:
                    if not await jobs.hold(JOB, lease):
                        await asyncio.sleep(poll)
                        continue
                    until = loop.time() + lease * 0.8
                    while (left := until - loop.time()) > 0:
                        self._wake.clear()
                        room = self.batch - len(in_flight)
                        busy = Counter(in_flight.values())
                        for job in await self._claim(room, busy) if room > 0 else []:
                            task = asyncio.create_task(self._deliver(job, finished))
                            in_flight[task] = job.endpoint_id
                            task.add_done_callback(in_flight.pop)
                        # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancellation
                        # that arrives as the wait ends, and this loop would then run on after shutdown.
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(min(poll, left)):
                                await self._wake.wait()
                        if linger > 0 and self._wake.is_set():
                            await asyncio.sleep(linger)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("webhook delivery failed")
                    await asyncio.sleep(poll)
        finally:
            remove()
            for task in (recorder, *in_flight):
                task.cancel()
            await asyncio.gather(recorder, *in_flight, return_exceptions=True)

    async def _deliver(self, job: Job, finished: asyncio.Queue[tuple[Job, AttemptResult]]) -> None:
        finished.put_nowait((job, await self._send(job)))

    async def _recorder(self, finished: asyncio.Queue[tuple[Job, AttemptResult]]) -> None:
        """Record finished attempts, as many as are waiting in one transaction. A batch that cannot be
        recorded is retried when its claims expire (the receiver deduplicates)."""
        while True:
            batch = [await finished.get()]
            while not finished.empty() and len(batch) < 500:
                batch.append(finished.get_nowait())
            try:
                await self._record(batch)
            except Exception:
                log.exception("recording %d webhook attempt(s) failed", len(batch))
            self.wake()

    async def next_due(self) -> datetime | None:
        """When the earliest delivery that a round could send becomes due (None: nothing pending)."""
        heads = _heads().subquery()
        async with self.db.read() as session:
            due: datetime | None = await session.scalar(select(func.min(heads.c.next_attempt_at)))
        return due

    async def _claim(self, limit: int | None = None, busy: Mapping[str, int] | None = None) -> list[Job]:
        """Claim up to ``limit`` due deliveries, at most ``per_endpoint`` per endpoint counting the
        attempts already claimed and not yet recorded (``busy``). Attempts go out ``concurrency`` at a time,
        at most half of them to one endpoint; each claim lasts until the waves ahead of it have had time to
        finish, so it never expires while its attempt waits its turn."""
        limit = self.batch if limit is None else limit
        now = self.clock.now()
        d = WebhookDelivery
        query = (
            _heads()
            .add_columns(WebhookEndpoint, WebhookEvent.payload)
            .join(WebhookEvent, WebhookEvent.id == d.event_id)
            .where(d.next_attempt_at <= now)
            .order_by(d.next_attempt_at, d.seq)
            .limit(limit * 2)
            .with_for_update(skip_locked=True, of=d)
        )
        jobs: list[Job] = []
        taken: dict[str, int] = dict(busy or {})
        held: set[str] = set()
        async with self.db.session() as session:
            for delivery, endpoint, payload in (await session.execute(query)).all():
                if len(jobs) >= limit or taken.get(endpoint.id, 0) >= self.per_endpoint:
                    continue
                if endpoint.status != "active" or endpoint.id in held:
                    continue
                try:
                    secrets = valid_secrets(endpoint, now, self.box)
                except SecretUnreadable:
                    # It cannot sign (TIAOJIE_SECRET_KEY changed, or a database restored under another):
                    # held back like a disabled endpoint until the court rotates its secret and enables it —
                    # unless the court has changed it since it was read (the endpoint row is not locked).
                    held.add(endpoint.id)
                    if await _disable(
                        session, endpoint.id, DISABLED_UNREADABLE, now, version=endpoint.updated_at
                    ):
                        log.error(
                            "webhook endpoint %s disabled: its signing secret does not open", endpoint.id
                        )
                    continue
                taken[endpoint.id] = taken.get(endpoint.id, 0) + 1
                waves = (taken[endpoint.id] - 1) // self.endpoint_concurrency
                waves += (sum(taken.values()) - 1) // self.concurrency
                delivery.next_attempt_at = now + self.claim * (waves + 1)
                jobs.append(
                    Job(
                        delivery_id=delivery.id,
                        endpoint_id=endpoint.id,
                        url=endpoint.url,
                        secrets=secrets,
                        msg_id=delivery.event_id,
                        body=dumps(payload),
                    )
                )
        return jobs

    async def _send(self, job: Job) -> AttemptResult:
        gate = self._endpoint_gates.setdefault(job.endpoint_id, asyncio.Semaphore(self.endpoint_concurrency))
        async with gate, self._gate:
            headers = signing.headers(job.secrets, job.msg_id, int(self.wall()), job.body)
            return await self.sender.send(job.url, headers, job.body)

    async def _record(self, outcomes: list[tuple[Job, AttemptResult]]) -> None:
        now = self.clock.now()
        async with self.db.session() as session:
            ids = [job.delivery_id for job, _ in outcomes]
            deliveries = {
                d.id: d
                for d in await session.scalars(select(WebhookDelivery).where(WebhookDelivery.id.in_(ids)))
            }
            for job, result in outcomes:
                delivery = deliveries.get(job.delivery_id)
                if delivery is None or delivery.status != "pending":
                    continue  # the endpoint was deleted meanwhile
                delivery.attempts += 1
                delivery.last_status = result.status
                delivery.last_error = result.error
                upcoming: datetime | None = None
                outcome = verdict(result)
                if outcome is Verdict.DELIVERED:
                    delivery.status = "delivered"
                    delivery.delivered_at = now
                elif outcome is Verdict.GONE:
                    # Only if it still points where the 410 came from (the court may have moved it since).
                    if await _disable(session, job.endpoint_id, DISABLED_GONE, now, url=job.url):
                        log.warning("webhook endpoint %s answered 410 and is disabled", job.endpoint_id)
                    delivery.next_attempt_at = now  # waits until the endpoint is enabled again
                else:
                    upcoming = next_attempt_at(
                        delivery.attempts, now, self.rand(), parse_retry_after(result.retry_after, now)
                    )
                    if upcoming is None:
                        delivery.status = "failed"
                    else:
                        delivery.next_attempt_at = upcoming
                self.outcomes["failed" if delivery.status == "failed" else outcome.value] += 1
                session.add(
                    WebhookAttempt(
                        delivery_id=delivery.id,
                        at=now,
                        status=result.status,
                        latency_ms=result.latency_ms,
                        error=result.error,
                        response_excerpt=result.response_excerpt,
                        next_attempt_at=upcoming,
                    )
                )


async def watch_overdue(db: Database, clock: Clock, jobs: JobLease, interval: float) -> None:
    """Every ``interval`` seconds, once across nodes: ``case.overdue`` for mediation periods that ran out."""
    while True:
        try:
            if await jobs.acquire(OVERDUE_JOB, interval * 0.9):
                async with db.session() as session:
                    reported = await report_overdue(session, clock)
                if reported:
                    log.info("mediation period overdue: %d case(s) reported to their courts", len(reported))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("looking for overdue mediation periods failed")
        await asyncio.sleep(interval)


async def deliver_forever(
    db: Database, clock: Clock, settings: Settings, jobs: JobLease, *, outcomes: Counter[str] | None = None
) -> None:
    """The application's background task: a worker built from the settings, delivering under the lease,
    and the watch on mediation periods that ran out. ``outcomes`` counts its attempts (the metrics)."""
    allowed = parse_networks(settings.webhook_allowed_networks)
    assert settings.secret_key is not None, "call Settings.with_secret() first"
    box = SecretBox(settings.secret_key)
    await seal_stored_secrets(db, box)
    async with Sender(
        allowed, timeout=settings.webhook_timeout_seconds, connections=settings.webhook_concurrency
    ) as sender:
        worker = DeliveryWorker(
            db,
            clock,
            sender,
            box,
            concurrency=settings.webhook_concurrency,
            claim_seconds=settings.webhook_timeout_seconds + 3,
            outcomes=outcomes,
        )
        watch = asyncio.create_task(watch_overdue(db, clock, jobs, settings.sweep_interval_seconds))
        try:
            await worker.run(jobs, poll=settings.webhook_poll_seconds)
        finally:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch


async def _disable(
    session: AsyncSession,
    endpoint_id: str,
    reason: str,
    now: datetime,
    *,
    version: datetime | None = None,
    url: str | None = None,
) -> bool:
    """Disable an active endpoint with ``reason`` if it is still as the worker saw it: unchanged since
    ``version`` (its ``updated_at``), or still at ``url``. One conditional UPDATE, so that a court's change
    committed in between (a rotated secret, a new URL, enabled again) is never overwritten. True if it was."""
    endpoint = WebhookEndpoint
    conditions = [endpoint.id == endpoint_id, endpoint.status == "active"]
    if version is not None:
        conditions.append(endpoint.updated_at == version)
    if url is not None:
        conditions.append(endpoint.url == url)
    result = await session.execute(
        update(endpoint)
        .where(*conditions)
        .values(status="disabled", disabled_reason=reason, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))
