from __future__ import annotations

from typing import Any

import pytest

from signaling.messages import CLIENT_MESSAGES, Admit, Chat, parse
from tiaojie.errors import InvalidInput


def test_parse_valid_messages() -> None:
    assert parse("admit", {"participant_id": "par_1"}) == Admit(participant_id="par_1")
    assert parse("chat", {"text": "  你好  "}) == Chat(text="你好")
    assert parse("end", None).__class__.__name__ == "End"


@pytest.mark.parametrize(
    ("event", "data", "code", "field"),
    [
        ("nope", {}, "unknown_event", None),
        ("admit", [], "malformed_message", None),
        ("admit", "x", "malformed_message", None),
        ("admit", {}, "malformed_message", "participant_id"),
        ("admit", {"participant_id": "../../etc"}, "malformed_message", "participant_id"),
        ("admit", {"participant_id": "p", "extra": 1}, "malformed_message", "extra"),
        ("chat", {"text": ""}, "malformed_message", "text"),
        ("chat", {"text": "x" * 2001}, "malformed_message", "text"),
        (
            "check_identity",
            {"participant_id": "p", "method": "magic", "result": "verified"},
            "malformed_message",
            "method",
        ),
        ("mute", {"participant_id": "p", "muted": "maybe"}, "malformed_message", "muted"),
    ],
)
def test_bad_messages_name_the_problem(event: str, data: Any, code: str, field: str | None) -> None:
    with pytest.raises(InvalidInput) as error:
        parse(event, data)
    assert error.value.code == code
    assert error.value.field == field


def test_every_message_type_is_documented() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "protocol.md").read_text()
    assert [name for name in CLIENT_MESSAGES if f"`{name}`" not in text] == []
