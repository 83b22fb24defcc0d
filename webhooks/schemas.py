"""The request and response types of the webhook API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from webhooks.events import EventType

__all__ = [
    "AttemptOut",
    "DeliveryOut",
    "DeliveryQuery",
    "EndpointCreatedOut",
    "EndpointIn",
    "EndpointOut",
    "EndpointPatch",
    "EventOut",
    "EventPage",
    "EventQuery",
    "RotateIn",
    "SecretOut",
]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EndpointIn(_In):
    url: str = Field(max_length=2000, description="https:// (or http:// on a court intranet) URL to POST to.")
    event_types: list[EventType] = Field(
        default_factory=list, max_length=50, description="The event types to send; empty: every type."
    )
    description: str | None = Field(None, max_length=500)


class EndpointPatch(_In):
    url: str | None = Field(None, max_length=2000)
    event_types: list[EventType] | None = Field(None, max_length=50)
    description: str | None = Field(None, max_length=500)
    enabled: bool | None = Field(
        None, description="false pauses deliveries (they wait); true resumes them, also after a 410."
    )


class RotateIn(_In):
    overlap_hours: int = Field(
        24, ge=0, le=168, description="How long the old secret still signs deliveries beside the new one."
    )


class EndpointOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    url: str
    description: str | None
    event_types: list[str]
    status: Literal["active", "disabled"]
    disabled_reason: str | None
    created_at: datetime
    updated_at: datetime
    previous_secret_expiry: list[datetime] = Field(
        default_factory=list, description="When each rotated secret, still signing beside the new one, ends."
    )


class EndpointCreatedOut(EndpointOut):
    secret: str = Field(description="whsec_…: shown only now; verify every delivery with it.")


class SecretOut(BaseModel):
    endpoint_id: str
    secret: str = Field(description="The new whsec_… secret: shown only now.")
    previous_valid_until: datetime | None = Field(
        description="Until then deliveries carry a signature with the old secret as well."
    )


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    status: int | None = Field(description="The HTTP status answered; null on a timeout or network error.")
    latency_ms: int
    error: str | None
    next_attempt_at: datetime | None


class DeliveryOut(BaseModel):
    id: str
    event_id: str = Field(description="The webhook-id.")
    event_type: str
    case_id: str | None
    seq: int | None
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime | None
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    log: list[AttemptOut]


class DeliveryQuery(_In):
    status: Literal["pending", "delivered", "failed"] | None = None
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = Field(None, max_length=40, description="next_cursor of the previous page.")


class EventQuery(_In):
    after: int = Field(0, ge=0, le=2**62, description="The last seq already processed; 0 from the start.")
    limit: int = Field(100, ge=1, le=500)
    type: list[EventType] | None = Field(None, max_length=50, description="Only these types.")


class EventOut(BaseModel):
    seq: int = Field(description="The court's event number: pass the last one as `after`.")
    id: str = Field(description="The webhook-id of the event's deliveries.")
    type: str
    timestamp: str
    case_id: str | None
    data: dict[str, Any]


class EventPage(BaseModel):
    items: list[EventOut]
    cursor: int = Field(description="Pass as `after` to go on (the last seq returned, or `after` when none).")
    more: bool = Field(description="Whether more events follow right away.")
