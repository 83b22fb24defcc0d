"""Tables of the webhooks package: endpoints, the event outbox, deliveries, attempts, per-court counters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from store.base import Base, JsonValue

__all__ = [
    "WebhookAttempt",
    "WebhookCounter",
    "WebhookDelivery",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookReminder",
]

_SerialId = BigInteger().with_variant(Integer(), "sqlite")


class WebhookEndpoint(Base):
    """A court system's URL that receives events, with its signing secrets.

    ``previous_secrets`` holds rotated secrets still valid during their overlap:
    ``[{"secret": "whsec_…", "expires_at": "2026-03-03T09:00:00Z"}]``.
    """

    __tablename__ = "webhook_endpoints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    court_id: Mapped[str] = mapped_column(ForeignKey("courts.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    description: Mapped[str | None] = mapped_column(String(500))
    event_types: Mapped[list[str]] = mapped_column(JsonValue, default=list)  # empty: every type
    status: Mapped[str] = mapped_column(String(20))  # active | disabled
    disabled_reason: Mapped[str | None] = mapped_column(String(300))
    secret: Mapped[str] = mapped_column(String(100))
    previous_secrets: Mapped[list[dict[str, Any]]] = mapped_column(JsonValue, default=list)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    created_by: Mapped[str] = mapped_column(String(200))


class WebhookEvent(Base):
    """The outbox: one row per event, written in the transaction of the change it reports.

    ``seq`` numbers a court's events without gaps in commit order (assigned just before the commit, under
    the court's counter row lock): the cursor of the catch-up endpoint.
    """

    __tablename__ = "webhook_events"
    __table_args__ = (UniqueConstraint("court_id", "seq", name="uq_webhook_events_court_seq"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # msg_…, the webhook-id
    court_id: Mapped[str] = mapped_column(ForeignKey("courts.id"))
    seq: Mapped[int | None] = mapped_column(BigInteger)
    case_id: Mapped[str | None] = mapped_column(String(32), index=True)
    type: Mapped[str] = mapped_column(String(60))
    occurred_at: Mapped[datetime]
    payload: Mapped[dict[str, Any]] = mapped_column(JsonValue)


class WebhookDelivery(Base):
    """One event to one endpoint: pending until a 2xx, or given up after the last retry."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_order", "endpoint_id", "case_id", "status", "seq"),
        Index("ix_webhook_deliveries_log", "endpoint_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("webhook_events.id"), index=True)
    endpoint_id: Mapped[str] = mapped_column(ForeignKey("webhook_endpoints.id", ondelete="CASCADE"))
    case_id: Mapped[str | None] = mapped_column(String(32))
    seq: Mapped[int | None] = mapped_column(BigInteger)  # the event's, for the order per case
    status: Mapped[str] = mapped_column(String(20))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(default=0)  # in this round (a manual redelivery starts a new one)
    next_attempt_at: Mapped[datetime]
    last_status: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]

    # Only so that a new event is inserted before its deliveries; never loaded.
    event: Mapped[WebhookEvent] = relationship(lazy="raise")


class WebhookAttempt(Base):
    """The delivery log: one row per HTTP attempt."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (Index("ix_webhook_attempts_delivery", "delivery_id", "id"),)

    id: Mapped[int] = mapped_column(_SerialId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("webhook_deliveries.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    status: Mapped[int | None]
    latency_ms: Mapped[int]
    error: Mapped[str | None] = mapped_column(String(300))
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None]


class WebhookCounter(Base):
    """The last ``seq`` given to a court's events."""

    __tablename__ = "webhook_counters"

    court_id: Mapped[str] = mapped_column(ForeignKey("courts.id"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class WebhookReminder(Base):
    """An event about a date already sent (a mediation period that ran out), so that it goes out once per
    last day."""

    __tablename__ = "webhook_reminders"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    last_day: Mapped[date] = mapped_column(Date, primary_key=True)
    sent_at: Mapped[datetime]
