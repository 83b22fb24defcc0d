"""The door between the room and whatever records it: the room says what should be recorded, a
:class:`RecordingSync` makes it so.

After every change the signaling adapter hands the recorder the room's :meth:`rooms.room.Room.recording_plan`
— for every part (``main`` or a sub-room id) that should be recording, whose media may be recorded — and
each part's label. ``sync`` reconciles: it starts the recording of a part new in the plan, stops one that is
no longer in it, and adds or drops tracks as people consent, arrive or leave; it is called again with the
same plan harmlessly. ``close`` ends every recording of a session (the room ended or the server stops).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol

__all__ = ["RecordingSync"]


class RecordingSync(Protocol):
    async def sync(
        self, session_id: str, plan: Mapping[str, Collection[str]], labels: Mapping[str, str]
    ) -> None:
        """Make the session's recordings follow ``plan`` (part -> participant ids; parts absent stop)."""

    async def close(self, session_id: str) -> None:
        """Stop and finish every recording of the session."""
