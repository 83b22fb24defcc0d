"""An in-memory :class:`rooms.recording_sync.RecordingSync`: remembers every plan it was given."""

from __future__ import annotations

from collections.abc import Collection, Mapping

__all__ = ["MemoryRecording"]


class MemoryRecording:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, frozenset[str]], dict[str, str]]] = []
        self.closed: list[str] = []

    async def sync(
        self, session_id: str, plan: Mapping[str, Collection[str]], labels: Mapping[str, str]
    ) -> None:
        self.calls.append((session_id, {part: frozenset(ids) for part, ids in plan.items()}, dict(labels)))

    def plan(self, session_id: str) -> dict[str, frozenset[str]]:
        """What the session should be recording now, as last told."""
        if session_id in self.closed:
            return {}
        plans = [plan for sid, plan, _ in self.calls if sid == session_id]
        return plans[-1] if plans else {}

    def labels(self, session_id: str) -> dict[str, str]:
        labels = [labels for sid, _, labels in self.calls if sid == session_id]
        return labels[-1] if labels else {}

    async def close(self, session_id: str) -> None:
        self.closed.append(session_id)
