"""The media engine of one room: aiortc peers per participant and RTP-level forwarding between them.

**Topology: two peer connections per participant.** A *publish* connection on which the client offers its
tracks (microphone, camera, optionally a screen) and the server answers receive-only, and a *subscribe*
connection on which the server offers everything the participant may see and the client answers. Each side
only ever offers on its own connection, so there is no offer glare and no rollback — which matters because
aiortc 1.16 implements neither rollback nor ICE restart. The publish side changes only when the client
wants (start/stop a screen share); the subscribe side changes whenever the room does (admission, caucus
moves, departures), at the server's pace, one offer at a time. The cost is a second ICE/DTLS handshake per
participant (≈50 ms on a LAN) and a second UDP socket; reconnection is a new pair of connections anyway.

**Subscribe side: slots.** Every m-section the server offers is an :class:`~media.forwarder.OutSlot` — an
aiortc sender with a silent track, our SSRC and RTX SSRC, a sequence space, an RTX cache. A slot is
dedicated to one published track at a time and announced ``sendonly`` with ``a=msid:<publisher id> …``
(one media stream per publisher, so a browser lip-syncs that publisher's audio and video); a slot with
nothing to carry is announced ``inactive`` and reused later (the same publisher's track first), so the SDP
does not grow with every departure and return. A track becomes visible (audience) → it gets a slot, the
subscriber is asked to renegotiate (``on_renegotiate``), and forwarding starts once the answer is applied
and the sender runs, with a keyframe request upstream. A track becomes invisible → the slot stops
forwarding at once (a caucus must not leak while the renegotiation is under way) and is announced inactive
in the next offer. If the same m-section is still negotiated for the same (publisher, source) — the
publisher reconnected, or a move was undone before the renegotiation — forwarding resumes without one.

**Publish side.** Before applying a client's offer, the engine adds a receive-only transceiver for every
new m-section, with the room's codec as the only preference (aiortc matches those transceivers to the offer
in order), so the answer accepts exactly one video codec (VP8, or H.264 constrained baseline) and Opus.
Each such transceiver carries a :class:`~media.forwarder.SourceTrack` (an RTP tap; aiortc keeps its
receiver reports, NACKs, RTX unwrapping and REMB). An m-section the client stops sending on (a stopped
screen share) makes the track invisible; sending again makes it visible.

The engine follows ``audience(publisher_id)`` (``rooms.room.Room.audience``) on every
:meth:`RoomMedia.refresh_audience`, and never decides visibility itself. Host mute pauses forwarding of
that publisher's track (no renegotiation). The signaling layer drives everything through the coroutine API
below; nothing here knows about socket.io. A typical exchange::

    await media.add_participant(pid)
    answer = await media.publish_offer(pid, client_offer)        # → client
    offer = await media.subscribe_offer(pid)                     # on join and on every on_renegotiate(pid)
    if offer: send(offer, media.subscriptions(pid))              # mid → (publisher, source, kind)
    await media.subscribe_answer(pid, client_answer)
    ...
    await media.refresh_audience()                               # after admit / move / remove / ...
    media.set_muted(pid, "audio", True)                          # host mute
    await media.remove_participant(pid)                          # leave, removal; reconnect = remove + add

Not done (aiortc 1.16 has no simulcast, transport-cc or ICE restart): one encoding per publisher for every
viewer, so a slow viewer gets what the publisher sends, and the publisher is held to the slowest viewer's
share by REMB (:mod:`media.bandwidth`); FIR is handled only when it names the sender's SSRC as media SSRC
(aiortc routes it no other way; browsers use PLI); no trickle ICE (the answer carries the candidates).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from aiortc import (
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpCodecCapability,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)

from media import aiortc_hooks
from media.codecs import Codec
from media.forwarder import (
    ForwardingContext,
    LossHook,
    MediaStats,
    OutSlot,
    RecordingSink,
    SourceTrack,
    TrackInfo,
)
from tiaojie.errors import Conflict, InvalidInput, NotFound

__all__ = [
    "SOURCES",
    "MediaConfig",
    "MediaStats",
    "ParticipantCallback",
    "RoomMedia",
    "TrackInfo",
]

logger = logging.getLogger(__name__)

SOURCES = ("audio", "camera", "screen")
"""What a participant publishes (the names :meth:`RoomMedia.publish_offer` and ``set_muted`` use)."""

_MUTE_KINDS = {"audio": "audio", "video": "camera", "camera": "camera", "screen": "screen"}
_SECTION = re.compile(r"^m=(\S+) ")
_MID = re.compile(r"^a=mid:(\S+)")
_SENDING = ("sendonly", "sendrecv")
_RECEIVING = ("recvonly", "sendrecv")
_compatible_checked = False

ParticipantCallback = Callable[[str], Awaitable[None] | None]
"""``callback(participant_id)``: a plain function or a coroutine function."""


@dataclass(frozen=True, slots=True)
class MediaConfig:
    """How a room's media is set up."""

    announced_addresses: tuple[str, ...] | None = None
    """Addresses ICE host candidates are bound and announced on (process-wide, see
    :func:`~media.aiortc_hooks.announce_addresses`); None keeps aioice's choice (every interface but
    loopback). Tests: ``("127.0.0.1",)``."""
    ice_servers: tuple[RTCIceServer, ...] = ()
    """STUN/TURN servers from configuration; never a public default."""
    video_codec: Codec = Codec.VP8
    """The room's one video codec: VP8, or H.264 (constrained baseline, packetization mode 1)."""
    keyframe_interval: float = 0.3
    """Least time between two PLIs to one publisher track (requests in between are merged)."""
    keyframe_retry: float = 1.0
    """How often a subscriber still waiting for a keyframe asks again."""
    retransmit_cache: int = 512
    """Packets remembered per subscriber sender to answer NACKs (a power of two)."""
    remb_interval: float = 0.5
    """Least time between two REMBs to one publisher track (decreases go out after 0.1 s)."""

    def __post_init__(self) -> None:
        if self.video_codec not in (Codec.VP8, Codec.H264):
            raise ValueError(f"a room's video codec is VP8 or H264, not {self.video_codec}")


class _Participant:
    __slots__ = (
        "muted",
        "notified",
        "offer_pending",
        "pid",
        "publish_lock",
        "publish_pc",
        "slots",
        "spares",
        "subscribe_lock",
        "subscribe_pc",
        "tracks",
    )

    def __init__(self, pid: str) -> None:
        self.pid = pid
        self.publish_pc: RTCPeerConnection | None = None
        self.subscribe_pc: RTCPeerConnection | None = None
        self.tracks: dict[str, SourceTrack] = {}  # by the publish connection's mid
        self.spares: list[SourceTrack] = []  # receive transceivers prepared for m-sections to come
        self.slots: list[OutSlot] = []
        self.muted: set[str] = set()
        self.offer_pending = False
        self.notified = False
        self.publish_lock = asyncio.Lock()
        self.subscribe_lock = asyncio.Lock()


def _preferences(kind: str, codec: Codec) -> list[RTCRtpCodecCapability]:
    """The one codec (and its RTX) a room's transceivers of ``kind`` accept."""
    capabilities = RTCRtpSender.getCapabilities(kind).codecs
    if kind == "audio":
        return [c for c in capabilities if c.mimeType.lower() == "audio/opus"]
    if codec is Codec.H264:
        chosen = [
            c
            for c in capabilities
            if c.mimeType.lower() == "video/h264"
            and str(c.parameters.get("packetization-mode")) == "1"
            and str(c.parameters.get("profile-level-id")).lower() == "42e01f"
        ]
    else:
        chosen = [c for c in capabilities if c.mimeType.lower() == "video/vp8"]
    return chosen + [c for c in capabilities if c.mimeType.lower() == "video/rtx"]


def _media_sections(sdp: str) -> list[tuple[str, str | None]]:
    """(kind, mid) of each m-section of an SDP, in order."""
    sections: list[tuple[str, str | None]] = []
    for line in sdp.splitlines():
        section = _SECTION.match(line)
        if section:
            sections.append((section.group(1), None))
            continue
        mid = _MID.match(line)
        if mid and sections and sections[-1][1] is None:
            sections[-1] = (sections[-1][0], mid.group(1))
    return sections


class RoomMedia:
    """Forwarding for one room (one mediation session): publishers' tracks to their audience.

    ``audience(publisher_id)`` names who may receive that publisher's media now; the engine asks it on
    :meth:`refresh_audience` and whenever tracks come or go. ``on_renegotiate(participant_id)`` is called
    (a plain function or a coroutine function) when that participant's subscribe connection needs a new
    server offer: the signaling layer then calls :meth:`subscribe_offer` and sends it. It is called once per
    change and not again until the offer is taken; changes made while an offer is outstanding cause one
    more call after :meth:`subscribe_answer`. ``on_failed(participant_id)`` is called when one of the
    participant's connections fails (ICE or DTLS): the client should reconnect (remove and add again).
    """

    def __init__(
        self,
        session_id: str,
        audience: Callable[[str], frozenset[str]],
        config: MediaConfig | None = None,
        *,
        on_renegotiate: ParticipantCallback | None = None,
        on_failed: ParticipantCallback | None = None,
    ) -> None:
        global _compatible_checked
        if not _compatible_checked:
            aiortc_hooks.check_compatible()
            _compatible_checked = True
        self.session_id = session_id
        self.config = config or MediaConfig()
        self.on_renegotiate = on_renegotiate
        self.on_failed = on_failed
        self._audience = audience
        self._shared = ForwardingContext(asyncio.get_running_loop())
        self._participants: dict[str, _Participant] = {}
        self._preferences = {kind: _preferences(kind, self.config.video_codec) for kind in ("audio", "video")}
        self._closed = False
        if self.config.announced_addresses is not None:
            aiortc_hooks.announce_addresses(self.config.announced_addresses)

    # --- queries ------------------------------------------------------------------------------------------

    @property
    def stats(self) -> MediaStats:
        """A snapshot of the room's forwarding counters."""
        return self._shared.stats.copy()

    @property
    def counters(self) -> MediaStats:
        """The room's live forwarding counters (the object the forwarder increments: read, never write);
        they keep their last values after the room closed (:class:`media.totals.ForwardingTotals`)."""
        return self._shared.stats

    @property
    def closed(self) -> bool:
        return self._closed

    def track_counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """By kind (``audio``, ``video``): the tracks being published, and the streams being forwarded to
        subscribers (one per subscriber and track). For the metrics, read when they are scraped."""
        published = {"audio": 0, "video": 0}
        forwarded = {"audio": 0, "video": 0}
        for participant in self._participants.values():
            for track in participant.tracks.values():
                if track.negotiated_active:
                    published[track.kind] = published.get(track.kind, 0) + 1
            for slot in participant.slots:
                if slot.active and slot.track is not None:
                    forwarded[slot.kind] = forwarded.get(slot.kind, 0) + 1
        return published, forwarded

    @property
    def participants(self) -> frozenset[str]:
        return frozenset(self._participants)

    @property
    def loss_hook(self) -> LossHook | None:
        """Test hook: see :data:`media.forwarder.LossHook`."""
        return self._shared.loss_hook

    @loss_hook.setter
    def loss_hook(self, hook: LossHook | None) -> None:
        self._shared.loss_hook = hook

    def published(self, participant_id: str) -> list[TrackInfo]:
        """The participant's tracks that are being sent (negotiated on the publish connection)."""
        return [t.info for t in self._get(participant_id).tracks.values() if t.negotiated_active]

    @property
    def video_codec(self) -> str:
        """The room's video codec, by its SDP name (``VP8``, ``H264``)."""
        return self.config.video_codec.value

    def _published_track(self, publisher_id: str, source: str) -> SourceTrack | None:
        participant = self._participants.get(publisher_id)
        if participant is None:
            return None
        for track in participant.tracks.values():
            if track.source == source and track.negotiated_active:
                return track
        return None

    def set_recorder(self, publisher_id: str, source: str, sink: RecordingSink | None) -> None:
        """Give every packet of a published track to ``sink`` (None stops); a track gone is ignored."""
        track = self._published_track(publisher_id, source)
        if track is not None:
            tapped = track.recorder is not None
            track.recorder = sink
            if sink is not None and not tapped:
                track.request_keyframe()  # a recording starts at a keyframe: ask now, not at the next loss

    def request_keyframe(self, publisher_id: str, source: str) -> None:
        """Ask a publisher for a keyframe of one track (merged and rate-limited like viewers' requests)."""
        track = self._published_track(publisher_id, source)
        if track is not None:
            track.request_keyframe()

    def subscriptions(self, participant_id: str) -> dict[str, TrackInfo]:
        """mid → track for every m-section the latest subscribe offer announces as sending.

        Send it along with the offer: the client maps its receivers' mids to publishers (the msid's stream
        id names the publisher too).
        """
        result: dict[str, TrackInfo] = {}
        for slot in self._get(participant_id).slots:
            mid = slot.transceiver.mid
            if mid is not None and slot.offered_key is not None:
                result[mid] = TrackInfo(slot.offered_key[0], slot.offered_key[1], slot.kind)
        return result

    def forwarded(self, publisher_id: str, subscriber_id: str, source: str | None = None) -> int:
        """RTP packets forwarded so far from the publisher's tracks (or one source) to the subscriber."""
        subscriber = self._participants.get(subscriber_id)
        if subscriber is None:
            return 0
        sources = SOURCES if source is None else (source,)
        return sum(slot.forwarded((publisher_id, name)) for slot in subscriber.slots for name in sources)

    # --- participants -------------------------------------------------------------------------------------

    async def add_participant(self, participant_id: str) -> None:
        """Make room for the participant's connections; they are created by the first offer of each side.

        If the audience already lets them see tracks, ``on_renegotiate`` is called for them.
        """
        self._require_open()
        if participant_id in self._participants:
            raise Conflict("already has media connections in this room", code="media_participant_exists")
        self._participants[participant_id] = _Participant(participant_id)
        logger.info("media %s: %s added", self.session_id, participant_id)
        await self.refresh_audience()

    async def remove_participant(self, participant_id: str) -> None:
        """Stop the participant's media to everyone at once, close both connections, and ask the others to
        renegotiate. Reconnection is ``remove_participant`` then ``add_participant`` (new connections)."""
        participant = self._participants.pop(participant_id, None)
        if participant is None:
            raise NotFound("has no media connections in this room", code="not_in_media")
        gone = {*participant.tracks.values(), *participant.spares}
        for other in self._participants.values():
            for slot in other.slots:
                if slot.track in gone:
                    slot.release()
        for track in gone:
            track.close()
        for slot in participant.slots:
            slot.release()
        await self._close_connections(participant)
        logger.info("media %s: %s removed", self.session_id, participant_id)
        await self.refresh_audience()

    async def close(self) -> None:
        """Close every connection of the room."""
        if self._closed:
            return
        self._closed = True
        participants = list(self._participants.values())
        self._participants.clear()
        for participant in participants:
            for track in (*participant.tracks.values(), *participant.spares):
                track.close()
            for slot in participant.slots:
                slot.release()
        for participant in participants:
            await self._close_connections(participant)
        tasks = list(self._shared.tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- publishing ---------------------------------------------------------------------------------------

    async def publish_offer(
        self, participant_id: str, sdp: str, sources: Mapping[str, str] | None = None
    ) -> str:
        """Apply the client's offer on its publish connection and return the server's answer (SDP).

        ``sources`` names what each m-section carries (mid → ``audio``, ``camera`` or ``screen``); without
        it, the first audio section is ``audio``, the first video section ``camera`` and the second
        ``screen``. Called again for every renegotiation the client starts (screen share on or off).
        """
        participant = self._get(participant_id)
        sections = _media_sections(sdp)
        if not sections:
            raise InvalidInput("the offer has no media section", field="sdp", code="bad_sdp")
        if any(mid is None for kind, mid in sections if kind in ("audio", "video")):
            raise InvalidInput("every media section needs an a=mid", field="sdp", code="bad_sdp")
        self._check_sources(sections, sources)
        async with participant.publish_lock:
            pc = participant.publish_pc
            if pc is None:
                pc = participant.publish_pc = self._new_connection(participant_id)
            # aiortc gives each new m-section the first transceiver of its kind without a mid: prepare one per
            # new section (spares left by an offer that failed to apply are used first).
            known = {t.mid for t in pc.getTransceivers() if t.mid is not None}
            spares = {kind: [t for t in participant.spares if t.kind == kind] for kind in ("audio", "video")}
            for kind, mid in sections:
                if kind in spares and mid not in known:
                    if spares[kind]:
                        spares[kind].pop(0)
                    else:
                        transceiver = pc.addTransceiver(kind, "recvonly")
                        participant.spares.append(self._new_source(participant_id, transceiver))
            try:
                await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
                await pc.setLocalDescription(await pc.createAnswer())
            except Exception as exc:  # aiortc raises ValueError, OperationError, InvalidStateError, ...
                self._require_member(participant, exc)
                raise InvalidInput(
                    f"cannot apply the publish offer: {exc}", field="sdp", code="bad_sdp"
                ) from exc
            for track in list(participant.spares):
                if track.transceiver.mid is not None:
                    track.mid = track.transceiver.mid
                    participant.tracks[track.mid] = track
                    participant.spares.remove(track)
            self._label_sources(participant, sections, sources)
            for track in participant.tracks.values():
                track.negotiated_active = track.transceiver.currentDirection in _RECEIVING
                track.muted = track.source in participant.muted
            answer = pc.localDescription.sdp
        await self.refresh_audience()
        return answer

    def _new_source(self, participant_id: str, transceiver: RTCRtpTransceiver) -> SourceTrack:
        transceiver.setCodecPreferences(self._preferences[transceiver.kind])
        return SourceTrack(
            self._shared,
            publisher_id=participant_id,
            transceiver=transceiver,
            codec=self.config.video_codec,
            keyframe_interval=self.config.keyframe_interval,
            keyframe_retry=self.config.keyframe_retry,
            remb_interval=self.config.remb_interval,
        )

    @staticmethod
    def _check_sources(sections: Sequence[tuple[str, str | None]], sources: Mapping[str, str] | None) -> None:
        kinds = {mid: kind for kind, mid in sections}
        for mid, name in (sources or {}).items():
            if name not in SOURCES:
                raise InvalidInput(f"unknown source {name!r}", field="sources")
            kind = kinds.get(mid)
            if kind is not None and (kind == "audio") != (name == "audio"):
                raise InvalidInput(f"m-section {mid} is {kind}, not {name}", field="sources")

    @staticmethod
    def _label_sources(
        participant: _Participant,
        sections: Sequence[tuple[str, str | None]],
        sources: Mapping[str, str] | None,
    ) -> None:
        """Name new tracks: as the client said, else by order (audio; camera, then screen)."""
        for mid, name in (sources or {}).items():
            track = participant.tracks.get(mid)
            if track is not None:
                track.source = name
                track.source_labelled = True
        taken = {t.source for t in participant.tracks.values() if t.source_labelled}
        defaults = {"audio": ("audio",), "video": ("camera", "screen")}
        for kind, section_mid in sections:
            new = participant.tracks.get(section_mid or "")
            if new is None or new.source_labelled:
                continue
            new.source = next((n for n in defaults.get(kind, ()) if n not in taken), f"{kind}-{section_mid}")
            new.source_labelled = True
            taken.add(new.source)

    # --- subscribing --------------------------------------------------------------------------------------

    async def subscribe_offer(self, participant_id: str) -> str | None:
        """The server's next offer on the participant's subscribe connection, or None if nothing changed
        (or an offer is still waiting for its answer: then ``on_renegotiate`` follows the answer)."""
        participant = self._get(participant_id)
        async with participant.subscribe_lock:
            if participant.offer_pending:
                return None
            participant.notified = False
            unassigned = self._reconcile(participant, self._audiences())
            for track in unassigned:
                slot = self._free_slot(participant, track)
                if slot is None:
                    if participant.subscribe_pc is None:
                        participant.subscribe_pc = self._new_connection(participant_id)
                    transceiver = participant.subscribe_pc.addTransceiver(track.kind, "sendonly")
                    transceiver.setCodecPreferences(self._preferences[track.kind])
                    slot = OutSlot(
                        self._shared,
                        subscriber_id=participant_id,
                        transceiver=transceiver,
                        codec=self.config.video_codec,
                        cache=self.config.retransmit_cache,
                    )
                    participant.slots.append(slot)
                slot.track = track
            if all(_wanted_key(slot) == slot.offered_key for slot in participant.slots):
                return None
            pc = participant.subscribe_pc
            assert pc is not None  # there are slots
            previous = [slot.offered_key for slot in participant.slots]
            for slot in participant.slots:
                # Recorded before the offer is made: a refresh while it is being made compares against it.
                key = slot.offered_key = _wanted_key(slot)
                slot.transceiver.direction = "sendonly" if key is not None else "inactive"
                if key is not None:
                    aiortc_hooks.set_stream_id(slot.transceiver.sender, key[0])
            participant.offer_pending = True
            try:
                await pc.setLocalDescription(await pc.createOffer())
            except Exception as exc:
                participant.offer_pending = False
                for slot, key in zip(participant.slots, previous, strict=False):
                    slot.offered_key = key
                self._require_member(participant, exc)
                raise
            return pc.localDescription.sdp

    async def subscribe_answer(self, participant_id: str, sdp: str) -> None:
        """Apply the client's answer to :meth:`subscribe_offer`; forwarding to new m-sections starts once
        their senders run (at once on an established connection), each with a keyframe request."""
        participant = self._get(participant_id)
        async with participant.subscribe_lock:
            pc = participant.subscribe_pc
            if pc is None or not participant.offer_pending:
                raise Conflict("no subscribe offer is waiting for an answer", code="no_offer_pending")
            try:
                await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
            except Exception as exc:
                self._require_member(participant, exc)
                raise InvalidInput(
                    f"cannot apply the subscribe answer: {exc}", field="sdp", code="bad_sdp"
                ) from exc
            participant.offer_pending = False
            for slot in participant.slots:
                accepted = slot.transceiver.currentDirection in _SENDING
                slot.answered_key = slot.offered_key if accepted else None
                if slot.offered_key is not None and not accepted:
                    logger.warning(
                        "media %s: %s refused m-section %s", self.session_id, participant_id, slot.offered_key
                    )
                self._start_when_ready(slot)
        self._notify_if_needed(participant, self._audiences())

    def _start_when_ready(self, slot: OutSlot) -> None:
        if not _negotiated(slot) or slot.active:
            return
        if slot.started:
            self._activate(slot)
        else:
            self._shared.spawn(self._activate_later(slot))

    async def _activate_later(self, slot: OutSlot) -> None:
        await slot.raw.started()
        if _negotiated(slot) and not slot.active:
            self._activate(slot)

    def _activate(self, slot: OutSlot) -> None:
        if not slot.activate(self.config.video_codec):
            logger.warning(
                "media %s: %s did not accept the room's %s codec",
                self.session_id,
                slot.subscriber_id,
                slot.kind,
            )

    def _free_slot(self, participant: _Participant, track: SourceTrack) -> OutSlot | None:
        free = [slot for slot in participant.slots if slot.track is None and slot.kind == track.kind]
        for slot in free:
            if slot.last_key == track.key:
                return slot
        for slot in free:
            if slot.offered_key is None:
                return slot
        return free[0] if free else None

    # --- audience -----------------------------------------------------------------------------------------

    async def refresh_audience(self) -> None:
        """Re-read the audience of every publisher after the room changed (admit, move, remove, ...).

        Media to subscribers who may no longer see a track stops before this returns; subscribers who may
        now see new tracks are asked to renegotiate (or resume at once on an m-section that already
        announces the track), with a keyframe request for video.
        """
        if self._closed:
            return
        audiences = self._audiences()
        for participant in list(self._participants.values()):
            self._notify_if_needed(participant, audiences)

    def _audiences(self) -> dict[str, frozenset[str]]:
        return {pid: self._audience(pid) for pid in self._participants}

    def _visible(
        self, participant: _Participant, audiences: Mapping[str, frozenset[str]]
    ) -> list[SourceTrack]:
        visible: list[SourceTrack] = []
        for publisher in self._participants.values():
            if publisher is participant or participant.pid not in audiences.get(publisher.pid, ()):
                continue
            visible.extend(track for track in publisher.tracks.values() if track.negotiated_active)
        return visible

    def _reconcile(
        self, participant: _Participant, audiences: Mapping[str, frozenset[str]]
    ) -> list[SourceTrack]:
        """Release slots whose track is no longer visible, resume those whose m-section still announces a
        visible track, and return the visible tracks that need a (re)negotiated slot."""
        visible = self._visible(participant, audiences)
        wanted = set(visible)
        for slot in participant.slots:
            if slot.track is not None and slot.track not in wanted:
                slot.release()
        held = {slot.track for slot in participant.slots if slot.track is not None}
        unassigned: list[SourceTrack] = []
        for track in visible:
            if track in held:
                continue
            resumable = next(
                (
                    s
                    for s in participant.slots
                    if s.track is None
                    and s.kind == track.kind
                    and s.answered_key == track.key == s.offered_key
                ),
                None,
            )
            if resumable is None:
                unassigned.append(track)
            else:
                resumable.track = track
                self._start_when_ready(resumable)
        return unassigned

    def _notify_if_needed(self, participant: _Participant, audiences: Mapping[str, frozenset[str]]) -> None:
        unassigned = self._reconcile(participant, audiences)
        if participant.offer_pending or participant.notified:
            return
        if unassigned or any(_wanted_key(slot) != slot.offered_key for slot in participant.slots):
            participant.notified = True
            self._call(self.on_renegotiate, participant.pid)

    def set_muted(self, participant_id: str, kind: str, muted: bool) -> None:
        """Host mute: stop (or resume) forwarding the participant's ``audio``, ``video`` (camera) or
        ``screen`` to everyone, at once and without renegotiation; it also holds for tracks published later.
        """
        source = _MUTE_KINDS.get(kind)
        if source is None:
            raise InvalidInput(f"cannot mute {kind!r}", field="kind")
        participant = self._get(participant_id)
        if muted:
            participant.muted.add(source)
        else:
            participant.muted.discard(source)
        for track in participant.tracks.values():
            if track.source == source:
                track.muted = muted
                for slot in track.sinks:
                    slot.sync_pause()
                if not muted:
                    track.request_keyframe()

    # --- plumbing -----------------------------------------------------------------------------------------

    def _get(self, participant_id: str) -> _Participant:
        self._require_open()
        participant = self._participants.get(participant_id)
        if participant is None:
            raise NotFound("has no media connections in this room", code="not_in_media")
        return participant

    def _require_member(self, participant: _Participant, exc: BaseException) -> None:
        """After an await failed: NotFound if the participant was removed meanwhile (connections closed)."""
        if self._participants.get(participant.pid) is not participant:
            raise NotFound("has no media connections in this room", code="not_in_media") from exc

    def _require_open(self) -> None:
        if self._closed:
            raise Conflict("the room's media is closed", code="media_closed")

    def _new_connection(self, participant_id: str) -> RTCPeerConnection:
        pc = RTCPeerConnection(aiortc_hooks.rtc_configuration(self.config.ice_servers))
        aiortc_hooks.keep_consent(pc)

        reported = False

        @pc.on("connectionstatechange")
        def on_state() -> None:
            # "closed" while the participant is still here: not closed by us (we remove them first) but by
            # aiortc, after ICE consent expired or the peer ended DTLS. Reported once per connection.
            nonlocal reported
            participant = self._participants.get(participant_id)
            if (
                reported
                or pc.connectionState not in ("failed", "closed")
                or participant is None
                or pc not in (participant.publish_pc, participant.subscribe_pc)
            ):
                return
            reported = True
            state = pc.connectionState
            logger.info("media %s: a connection of %s %s", self.session_id, participant_id, state)
            self._call(self.on_failed, participant_id)

        return pc

    def _call(self, callback: ParticipantCallback | None, participant_id: str) -> None:
        if callback is None:
            return
        try:
            result = callback(participant_id)
        except Exception:
            logger.exception("media callback %r failed", callback)
            return
        if result is not None:
            self._shared.spawn(_logged(result, callback))

    @staticmethod
    async def _close_connections(participant: _Participant) -> None:
        for pc in (participant.publish_pc, participant.subscribe_pc):
            if pc is not None:
                await pc.close()
        participant.publish_pc = participant.subscribe_pc = None


def _wanted_key(slot: OutSlot) -> tuple[str, str] | None:
    return slot.track.key if slot.track is not None else None


def _negotiated(slot: OutSlot) -> bool:
    """The slot's track is what the latest offer and the latest answer both announce for its m-section."""
    key = _wanted_key(slot)
    return key is not None and key == slot.offered_key == slot.answered_key


async def _logged(awaitable: Awaitable[None], callback: object) -> None:
    try:
        await awaitable
    except Exception:
        logger.exception("media callback %r failed", callback)
