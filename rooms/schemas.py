"""Request and response types of the session API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["LinkOut", "ObserverIn", "ParticipantOut", "SessionCreate", "SessionOut", "SlotIn"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ObserverIn(_In):
    role: Literal["judge", "interpreter", "clerk"]
    name: Annotated[str, Field(min_length=1, max_length=100)]
    phone: Annotated[str, Field(max_length=40)] | None = None


class SlotIn(_In):
    party_id: str = Field(max_length=40)
    start: datetime
    end: datetime


class SessionCreate(_In):
    title: str | None = Field(None, max_length=200)
    mode: Literal["joint", "separate"] = Field(
        "joint",
        description="joint: all parties by video at once; separate: each party at its own time (OMR 16).",
    )
    scheduled_start: datetime
    scheduled_end: datetime
    party_ids: list[Annotated[str, Field(max_length=40)]] | None = Field(
        None, max_length=50, description="Parties and agents invited; default every party of the case."
    )
    observers: list[ObserverIn] = Field(default_factory=list, max_length=10)
    slots: list[SlotIn] = Field(
        default_factory=list, max_length=50, description="separate mode: each party's own time window."
    )
    notify: bool = Field(
        False,
        description="Send each invited person with a phone number their link through the notifier (SMS), "
        "once the session is stored; each participant's `invitation` then says whether it was delivered.",
    )


class LinkOut(BaseModel):
    participant_id: str
    url: str
    expires_at: datetime


Invitation = Literal["sending", "sent", "not_delivered"]
"""What became of the SMS that carried a participant's current join link (ParticipantOut.invitation)."""


class ParticipantOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    role: str
    party_id: str | None
    mediator_id: str | None
    display_name: str
    slot_start: datetime | None
    slot_end: datetime | None
    link_expires_at: datetime
    revoked_at: datetime | None
    invitation: Invitation | None = Field(
        None,
        description="What became of the SMS that carried this person's current link: `sent` (the gateway "
        "accepted it) or `not_delivered` (refused or unreachable: pass the link on yourself). The answer "
        "that sends it already says, as the messages go out before it; a replay of that request (the same "
        "Idempotency-Key) answers as stored, with `sending`. None: the current link was not sent by SMS.",
    )


class SessionOut(BaseModel):
    id: str
    case_id: str
    title: str | None
    mode: str
    status: str
    scheduled_start: datetime
    scheduled_end: datetime
    started_at: datetime | None
    ended_at: datetime | None
    participants: list[ParticipantOut]
    links: list[LinkOut] = Field(
        default_factory=list, description="Only in the answer that creates or re-issues links; never listed."
    )
