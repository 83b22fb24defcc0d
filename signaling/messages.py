"""The room protocol's client messages: typed, validated, parsed without I/O.

Protocol version 1. A client connects to the socket.io namespace ``/room`` with ``auth = {"token": <join
token>, "protocol": 1}`` and then sends the events below; every event is acknowledged with
``{"ok": true, ...}`` or ``{"ok": false, "error": {"code", "message", "field"?}}``. See ``docs/protocol.md``.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from agreements.comments import MAX_COMMENT_CHARS
from tiaojie.errors import InvalidInput

__all__ = [
    "CLIENT_MESSAGES",
    "MAX_MESSAGE_BYTES",
    "PROTOCOL_VERSION",
    "Acknowledge",
    "Admit",
    "AgreementComment",
    "AgreementHide",
    "AgreementPdf",
    "AgreementShow",
    "AgreementSync",
    "AnswerRecording",
    "Chat",
    "CheckIdentity",
    "CloseSubrooms",
    "Deny",
    "End",
    "Hello",
    "Leave",
    "Lock",
    "Move",
    "Mute",
    "OpenSubroom",
    "ProposeRecording",
    "Publish",
    "Remove",
    "StopRecording",
    "SubscribeAnswer",
    "TranscriptAdd",
    "TranscriptEdit",
    "TranscriptOpenReview",
    "TranscriptPullChat",
    "TranscriptReview",
    "TranscriptSave",
    "TranscriptSync",
    "parse",
]

PROTOCOL_VERSION = 1
MAX_MESSAGE_BYTES = 128 * 1024
MAX_SDP_BYTES = 64 * 1024

Id = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_\-]+$")]
Reason = Annotated[str, Field(min_length=1, max_length=500)]


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Hello(_Message):
    """The connect payload (socket.io ``auth``)."""

    token: Annotated[str, Field(min_length=1, max_length=1024)]
    protocol: Literal[1] = 1


class Acknowledge(_Message):
    """A waiting party consents to online mediation and acknowledges the false-mediation warning."""

    consent: bool
    warning: bool


class CheckIdentity(_Message):
    participant_id: Id
    method: Literal["id_card", "face_to_camera", "phone_code", "credit_code", "court_site", "other"]
    result: Literal["verified", "failed"]
    note: Annotated[str, Field(max_length=500)] | None = None


class Admit(_Message):
    participant_id: Id


class Deny(_Message):
    participant_id: Id
    reason: Reason


class Remove(_Message):
    participant_id: Id
    reason: Reason


class Mute(_Message):
    participant_id: Id
    muted: bool = True


class Lock(_Message):
    locked: bool = True


class End(_Message):
    pass


class OpenSubroom(_Message):
    subroom: Id
    label: Annotated[str, Field(min_length=1, max_length=60)]


class Move(_Message):
    participant_id: Id
    subroom: Id


class CloseSubrooms(_Message):
    pass


class Chat(_Message):
    text: Annotated[str, Field(min_length=1, max_length=2000)]


class Leave(_Message):
    pass


Sdp = Annotated[str, Field(min_length=10, max_length=MAX_SDP_BYTES)]


class Publish(_Message):
    """The client's offer on its publish connection (microphone, camera, optionally screen)."""

    sdp: Sdp
    sources: dict[Id, Literal["audio", "camera", "screen"]] | None = Field(None, max_length=8)


class SubscribeAnswer(_Message):
    """The client's answer to the server's ``subscribe_offer``."""

    sdp: Sdp


class ProposeRecording(_Message):
    """The mediator proposes recording a part of the room: ``main`` or a sub-room id."""

    part: Id = "main"


class AnswerRecording(_Message):
    """Someone asked about recording their part consents or refuses."""

    consent: bool


class StopRecording(_Message):
    part: Id = "main"


def _storable(text: str) -> str:
    """NUL cannot be stored in PostgreSQL text, an unpaired surrogate not encoded at all."""
    if re.search("[\x00\ud800-\udfff]", text):
        raise ValueError("text must not contain NUL characters or unpaired surrogates")
    return text


Speaker = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_storable)]
EntryText = Annotated[str, Field(min_length=1, max_length=5000), AfterValidator(_storable)]
VersionNumber = Annotated[int, Field(ge=1, le=100_000)]


class TranscriptSync(_Message):
    pass


class TranscriptAdd(_Message):
    """The mediator adds an entry to the transcript (``at`` defaults to now)."""

    speaker: Speaker
    speaker_id: Id | None = None
    text: EntryText
    at: AwareDatetime | None = None
    undisputed: bool = False


class TranscriptEdit(_Message):
    """The mediator changes an entry: only the fields given change."""

    entry_id: Id
    speaker: Speaker | None = None
    speaker_id: Id | None = None
    text: EntryText | None = None
    at: AwareDatetime | None = None
    undisputed: bool | None = None


class TranscriptPullChat(_Message):
    """The mediator pulls a chat message (its ``id`` from the ``chat`` event) into the transcript."""

    record_id: Annotated[int, Field(ge=1, le=2**62)]


class TranscriptSave(_Message):
    pass


class TranscriptOpenReview(_Message):
    """Put a version to review: the latest saved one unless ``version`` names it."""

    version: VersionNumber | None = None


class TranscriptReview(_Message):
    """A reviewer confirms a version or disputes it with a comment."""

    version: VersionNumber
    decision: Literal["confirm", "dispute"]
    comment: Annotated[str, Field(max_length=1000), AfterValidator(_storable)] | None = None


class AgreementShow(_Message):
    """The mediator shows the agreement's current version (``version_id`` names it; it must be the
    latest) to everyone in ``part``: the main room or a caucus sub-room."""

    version_id: Id | None = None
    part: Id = "main"


class AgreementHide(_Message):
    part: Id = "main"


class AgreementSync(_Message):
    """The agreement shown to the sender (the mediator may name a part)."""

    part: Id | None = None


class AgreementPdf(_Message):
    """The frozen PDF of the version shown to the sender."""

    part: Id | None = None


class AgreementComment(_Message):
    """A party or agent comments on the version shown to them."""

    version_id: Id
    text: Annotated[str, Field(min_length=1, max_length=MAX_COMMENT_CHARS), AfterValidator(_storable)]


CLIENT_MESSAGES: dict[str, type[_Message]] = {
    "acknowledge": Acknowledge,
    "check_identity": CheckIdentity,
    "admit": Admit,
    "deny": Deny,
    "remove": Remove,
    "mute": Mute,
    "lock": Lock,
    "end": End,
    "open_subroom": OpenSubroom,
    "move": Move,
    "close_subrooms": CloseSubrooms,
    "chat": Chat,
    "leave": Leave,
    "publish": Publish,
    "subscribe_answer": SubscribeAnswer,
    "propose_recording": ProposeRecording,
    "answer_recording": AnswerRecording,
    "stop_recording": StopRecording,
    "transcript_sync": TranscriptSync,
    "transcript_add": TranscriptAdd,
    "transcript_edit": TranscriptEdit,
    "transcript_pull_chat": TranscriptPullChat,
    "transcript_save": TranscriptSave,
    "transcript_open_review": TranscriptOpenReview,
    "transcript_review": TranscriptReview,
    "agreement_show": AgreementShow,
    "agreement_hide": AgreementHide,
    "agreement_sync": AgreementSync,
    "agreement_pdf": AgreementPdf,
    "agreement_comment": AgreementComment,
}


def parse(event: str, data: Any) -> _Message:
    """Validate one client event; InvalidInput (``unknown_event``, ``malformed_message`` with the field)
    otherwise. ``data`` is what socket.io decoded from the wire: a dict, or anything a client sent."""
    model = CLIENT_MESSAGES.get(event)
    if model is None:
        raise InvalidInput(f"unknown event {event[:40]!r}", code="unknown_event")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InvalidInput("an event's data is a JSON object", code="malformed_message")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(first["msg"], field=field or None, code="malformed_message") from None
