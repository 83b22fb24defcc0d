"""Fixtures of the recording tests: ``scene``, a case with a scheduled session, from the room tests."""

from __future__ import annotations

from tests.signaling.test_room_protocol import scene

__all__ = ["scene"]
