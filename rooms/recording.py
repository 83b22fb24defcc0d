"""Recording consent of one part of a room (the main room or one caucus sub-room), as pure data.

OMR 18: a session is recorded only with the parties' express agreement. Each part has its own consent
round and its own recording, never mixed with another part's::

    (none) ─propose→ PROPOSED ─everyone present consented→ RECORDING ─stop→ STOPPED
                     PROPOSED ─anyone present refuses→ REFUSED          PROPOSED ─stop→ STOPPED
    STOPPED | REFUSED ─propose→ PROPOSED (a new round: earlier answers are forgotten)

The mediator's consent is implied by proposing (hosts are never asked). Whoever is in the part — present or
reconnecting — and has not answered is asked; someone who joins or moves into a part that is already
recording is asked too and stays out of the recording (:attr:`PartRecording.recorded`) until they consent.
:class:`rooms.room.Room` owns the transitions; this module holds the state and the rules that need no room.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

__all__ = ["Answer", "PartRecording", "RecordingState"]


class RecordingState(StrEnum):
    PROPOSED = "proposed"  # waiting for the answers of everyone in the part
    RECORDING = "recording"
    STOPPED = "stopped"
    REFUSED = "refused"  # a refusal cancelled the proposal


class Answer(StrEnum):
    PENDING = "pending"
    CONSENTED = "consented"
    REFUSED = "refused"


@dataclass(slots=True)
class PartRecording:
    part: str
    proposed_by: str
    state: RecordingState = RecordingState.PROPOSED
    answers: dict[str, Answer] = field(default_factory=dict)  # participant id -> answer (hosts never)
    refused_by: list[str] = field(default_factory=list)
    stopped_by: str | None = None

    @property
    def active(self) -> bool:
        """A proposal is open or the part is being recorded."""
        return self.state in (RecordingState.PROPOSED, RecordingState.RECORDING)

    def ask(self, members: Iterable[str]) -> None:
        """Everyone in the part who has not answered yet is asked."""
        for pid in members:
            self.answers.setdefault(pid, Answer.PENDING)

    def all_consented(self, members: Iterable[str]) -> bool:
        return all(self.answers.get(pid) is Answer.CONSENTED for pid in members)

    def recorded(self, members: Iterable[str], hosts: Iterable[str]) -> frozenset[str]:
        """Whose media may be recorded: members who consented, and hosts (consent implied by proposing)."""
        if self.state is not RecordingState.RECORDING:
            return frozenset()
        host_ids = frozenset(hosts)
        return frozenset(
            pid for pid in members if pid in host_ids or self.answers.get(pid) is Answer.CONSENTED
        )

    def view(self, label: str, members: Iterable[str], hosts: Iterable[str]) -> dict[str, object]:
        """What the mediator's panel shows of this part."""
        return {
            "label": label,
            "state": self.state.value,
            "proposed_by": self.proposed_by,
            "answers": {pid: a.value for pid, a in self.answers.items()},
            "refused_by": list(self.refused_by),
            "recorded": sorted(self.recorded(members, hosts)),
        }
