"""The agreement's audit trail as a hash chain, without I/O: how an entry is hashed, and checking a chain.

Every step around a case's agreement signing (signatures requested, a code sent, verified or failed, the
document viewed, a signature, a refusal, the seal, a round voided, the agreement effective) is one
:class:`Entry`, numbered 1, 2, … per case. Its hash is the SHA-256 of the canonical encoding of all its
fields — JSON with sorted keys, no spaces, UTF-8, instants as ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` — which
includes ``prev_hash``, the hash of the entry before (64 zeros for the first). Changing any field of any
entry changes its hash; removing or reordering entries breaks the chain. :func:`verify` finds each.

What a chain alone cannot show is that entries were cut off its end: the last hash (:func:`head`) is copied
into the sealed document, which anchors it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "GENESIS",
    "Action",
    "Entry",
    "Problem",
    "Verification",
    "chain",
    "encode",
    "entry_hash",
    "head",
    "verify",
]

GENESIS = "0" * 64


class Action(StrEnum):
    SIGNATURES_REQUESTED = "signatures_requested"
    LINKS_ISSUED = "links_issued"
    CODE_SENT = "otp_sent"
    CODE_VERIFIED = "otp_verified"
    CODE_FAILED = "otp_failed"
    CODE_NOT_DELIVERED = "otp_not_delivered"  # the SMS gateway refused it: withdrawn
    VIEWED = "viewed"
    SIGNED = "signed"
    REFUSED = "refused"
    SEALED = "sealed"
    VOIDED = "voided"
    EFFECTIVE = "effective"


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of the trail. ``actor`` is the human-readable name; ``signer_id`` the signer of the round
    the step concerns (a party, the mediator, the organisation), when it concerns one."""

    seq: int
    at: datetime
    case_id: str
    round_id: str | None
    version_id: str | None
    actor_kind: str
    actor_id: str
    actor: str
    action: str
    signer_id: str | None = None
    auth_method: str | None = None
    ip: str | None = None
    user_agent: str | None = None
    document_sha256: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    prev_hash: str = GENESIS
    entry_hash: str = ""


def _instant(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("trail instants are aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def encode(entry: Entry) -> bytes:
    """The canonical bytes of every field but ``entry_hash``."""
    fields = asdict(entry)
    del fields["entry_hash"]
    fields["at"] = _instant(entry.at)
    fields["details"] = dict(entry.details)
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(entry: Entry) -> str:
    return hashlib.sha256(encode(entry)).hexdigest()


def chain(entry: Entry, previous: Entry | None) -> Entry:
    """``entry`` numbered after ``previous`` (or first), with its ``prev_hash`` and ``entry_hash`` set."""
    seq = previous.seq + 1 if previous is not None else 1
    linked = replace(entry, seq=seq, prev_hash=previous.entry_hash if previous is not None else GENESIS)
    return replace(linked, entry_hash=entry_hash(linked))


def head(entries: Sequence[Entry]) -> str:
    return entries[-1].entry_hash if entries else GENESIS


@dataclass(frozen=True, slots=True)
class Problem:
    """``altered``: the entry's fields do not give its hash; ``broken_link``: its ``prev_hash`` is not the
    hash of the entry before it (one was removed, inserted or moved); ``out_of_sequence``: its number is not
    the one after the entry before; ``head_mismatch``: the chain does not end with the expected hash (entries
    were cut off the end, or added)."""

    seq: int
    code: str


@dataclass(frozen=True, slots=True)
class Verification:
    intact: bool
    entries: int
    head: str
    problems: tuple[Problem, ...]


def verify(entries: Sequence[Entry], *, expected_head: str | None = None) -> Verification:
    """Check ``entries`` in the order given (as stored: by number)."""
    problems: list[Problem] = []
    previous_hash = GENESIS
    for index, entry in enumerate(entries):
        if entry.seq != index + 1:
            problems.append(Problem(entry.seq, "out_of_sequence"))
        if entry.prev_hash != previous_hash:
            problems.append(Problem(entry.seq, "broken_link"))
        if entry_hash(entry) != entry.entry_hash:
            problems.append(Problem(entry.seq, "altered"))
        previous_hash = entry.entry_hash
    last = head(entries)
    if expected_head is not None and last != expected_head:
        problems.append(Problem(entries[-1].seq if entries else 0, "head_mismatch"))
    return Verification(not problems, len(entries), last, tuple(problems))
