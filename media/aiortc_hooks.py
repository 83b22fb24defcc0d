"""The one module that touches aiortc's and aioice's private internals.

The room server forwards encoded media RTP packet by RTP packet and never decodes. aiortc 1.16.0 has no public
API for that, so this module opens a few doors into it; the rest of ``media/`` uses only what it exports:

- :func:`attach_rtp_tap` hands every incoming RTP packet of a receiver (parsed, and as the decrypted
  datagram) to a callback in place of aiortc's jitter buffer, while aiortc keeps its receive statistics,
  receiver reports, NACKs, RTX unwrapping and REMB; the receiver's decoder thread is stopped, so its track
  never yields frames.
  Tapped connections decrypt and handle SRTP and SRTCP inside aioice's datagram callback (no queue, no
  task switch), and after aiortc has routed the first packet of an SSRC to a tap, the rest of that SSRC
  skip aiortc's parser and router (:class:`_FastRoute`, which feeds aiortc's own statistics, NACK generator
  and estimator); :func:`divert_rtp` gives a load generator the decrypted datagrams and nothing else.
- :class:`RawRtpSender` sends prepared RTP through a sender's SRTP session, with the SSRC, payload types and
  header-extension ids negotiated for it, and keeps the counters aiortc's sender reports are built from;
  :meth:`RawRtpSender.send_now` encrypts in place and hands the datagram to the ICE pair synchronously.
  The sender's track is a :class:`SilentTrack`, so SDP and SSRC negotiation stay normal.
  :func:`set_stream_id` names the media stream (``a=msid``) a sender's track is announced in.
- :func:`observe_rtcp` shows a sender the subscriber's RTCP (PLI, FIR, NACK, REMB, RR) and a receiver the
  publisher's (SR, BYE); :func:`send_rtcp`, :func:`request_keyframe` and :func:`send_remb` talk upstream;
  a tap's ``on_remb`` gets aiortc's uplink estimate instead of its being sent.
- :func:`announce_addresses` picks the addresses aioice binds and announces host candidates on (aioice
  skips 127.0.0.1, so loopback tests need it); :func:`rtc_configuration` never falls back to aiortc's
  public default STUN server.
- :func:`keep_consent` gives a peer connection RFC 7675's consent rule in place of aioice's stricter one:
  consent lasts 30 s from the last answered check, and a check may take up to 7.5 s (retransmitted) to be
  answered, so a busy server or client does not lose its calls to a queue of half a second. It also gives
  each connection the synchronous receive path, which drops datagrams too short to be STUN, DTLS, RTP or
  RTCP (aiortc's receive task dies on an empty one).
- :func:`check_compatible` verifies that every private name used here still exists with the expected shape.

Every private name is listed once below and verified by :func:`check_compatible`; each hook also checks the
instance it is given. Attach hooks before the peer connection connects (in the ``track`` handler or right
after ``addTransceiver``); aiortc is pinned exactly, and ``tests/media_hooks`` fail if an upgrade breaks a
hook. The design and the reasons are in ``docs/media-design.md``.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import ipaddress
import logging
import random
import time
from asyncio import selector_events
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final, NoReturn, Protocol
from weakref import WeakKeyDictionary

import aioice.ice
import aiortc
import aiortc.rtcpeerconnection
import pylibsrtp
from aiortc import RTCBundlePolicy, RTCConfiguration, RTCIceServer, RTCRtpReceiver, RTCRtpSender
from aiortc import clock as aiortc_clock
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.rate import RateCounter, RemoteBitrateEstimator
from aiortc.rtcdtlstransport import RTCDtlsTransport, RtpRouter
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtcicetransport import RTCIceTransport
from aiortc.rtcrtpparameters import (
    RTCRtpCodecParameters,
    RTCRtpParameters,
    RTCRtpReceiveParameters,
    RTCRtpSendParameters,
)
from aiortc.rtcrtpreceiver import NackGenerator, StreamStatistics
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_PLI,
    AnyRtcpPacket,
    HeaderExtensionsMap,
    RtcpByePacket,
    RtcpPsfbPacket,
    RtpPacket,
    pack_remb_fci,
    unpack_remb_fci,
)

from media.rtcp import SenderReport, SourceDescription
from media.rtp import MalformedPacket, RtpHeader
from media.window_rate import WindowRate

__all__ = [
    "AIORTC_VERSION",
    "PYLIBSRTP_VERSION",
    "AiortcIncompatibleError",
    "DatagramCallback",
    "Negotiated",
    "RawRtpSender",
    "RembCallback",
    "RtcpCallback",
    "RtpCallback",
    "RtpTap",
    "SilentTrack",
    "TappedExtensions",
    "TappedPacket",
    "announce_addresses",
    "attach_rtp_tap",
    "check_compatible",
    "divert_rtp",
    "keep_consent",
    "observe_rtcp",
    "request_keyframe",
    "rtc_configuration",
    "send_remb",
    "send_rtcp",
    "set_stream_id",
]

logger = logging.getLogger(__name__)

#: The aiortc release these hooks were written against and tested with (pinned in pyproject.toml).
AIORTC_VERSION: Final = "1.16.0"

RtpCallback = Callable[["TappedPacket", bytes, int], Awaitable[None] | None]
"""``on_rtp(packet, datagram, arrival_time_ms)``: a plain function or a coroutine function."""

RtcpCallback = Callable[[AnyRtcpPacket], Awaitable[None] | None]
"""``on_rtcp(packet)``: a plain function or a coroutine function."""

RembCallback = Callable[[int, list[int]], None]
"""``on_remb(bitrate, media_ssrcs)``: a REMB that aiortc's estimator would have sent (bits/s; SSRCs)."""

# --- Every private name we use, in one place (verified by check_compatible) ---------------------------------

# Methods looked up on the instance by aiortc itself, which we wrap per instance.
_HANDLE_RTP: Final = "_handle_rtp_packet"  # RTCRtpReceiver: called by RTCDtlsTransport for each RTP packet
_HANDLE_RTP_DATA: Final = "_handle_rtp_data"  # RTCDtlsTransport: gets each decrypted RTP datagram
_HANDLE_RTCP_DATA: Final = "_handle_rtcp_data"  # RTCDtlsTransport: gets each decrypted RTCP datagram
# RTCDtlsTransport._rtp_router (an RtpRouter) and its ssrc_table (SSRC -> receiver): which receiver aiortc
# routes an SSRC to; the fast receive path goes on only while it is still the tapped one.
_DTLS_ROUTER: Final = "_rtp_router"
_ROUTER_SSRCS: Final = "ssrc_table"
_HANDLE_RTCP: Final = "_handle_rtcp_packet"  # RTCRtpReceiver/Sender: called by RTCDtlsTransport per RTCP
_RECEIVE: Final = "receive"  # RTCRtpReceiver.receive(parameters): public, called by RTCPeerConnection
_SEND: Final = "send"  # RTCRtpSender.send(parameters): public, called by RTCPeerConnection
# Name-mangled instance attributes of RTCRtpReceiver.
_RX_JITTER_BUFFER: Final = "_RTCRtpReceiver__jitter_buffer"
_RX_DECODER_THREAD: Final = "_RTCRtpReceiver__decoder_thread"
_RX_STOP_DECODER: Final = "_RTCRtpReceiver__stop_decoder"
_RX_STARTED: Final = "_RTCRtpReceiver__started"
_RX_RTCP_SSRC: Final = "_RTCRtpReceiver__rtcp_ssrc"
_RX_BITRATE_ESTIMATOR: Final = "_RTCRtpReceiver__remote_bitrate_estimator"
# ... whose incoming bitrate (a RateCounter: window and scale) the tap replaces with a WindowRate.
_ESTIMATOR_BITRATE: Final = "incoming_bitrate"
_RATE_WINDOW: Final = "_window_size"
_RATE_SCALE: Final = "_scale"
# ... and what the fast receive path (_FastRoute) feeds as aiortc's _handle_rtp_packet would: the statistics
# per arriving SSRC that receiver reports are built from, the NACK generator, the SSRCs last seen, whether
# the receiver is enabled, and the coroutine that sends a NACK.
_RX_REMOTE_STREAMS: Final = "_RTCRtpReceiver__remote_streams"
_RX_NACK_GENERATOR: Final = "_RTCRtpReceiver__nack_generator"
_RX_ACTIVE_SSRC: Final = "_RTCRtpReceiver__active_ssrc"
_RX_ENABLED: Final = "_enabled"
_RX_SEND_NACK: Final = "_send_rtcp_nack"
# Name-mangled instance attributes of RTCRtpSender (sender-report counters and state).
_TX_STARTED: Final = "_RTCRtpSender__started"
_TX_TRANSPORT: Final = "_RTCRtpSender__transport"
_TX_PACKET_COUNT: Final = "_RTCRtpSender__packet_count"
_TX_OCTET_COUNT: Final = "_RTCRtpSender__octet_count"
_TX_NTP_TIMESTAMP: Final = "_RTCRtpSender__ntp_timestamp"
_TX_RTP_TIMESTAMP: Final = "_RTCRtpSender__rtp_timestamp"
_TX_COUNTERS: Final = (_TX_PACKET_COUNT, _TX_OCTET_COUNT, _TX_NTP_TIMESTAMP, _TX_RTP_TIMESTAMP)
# A RawRtpSender sends its sender reports itself, from send_now when one is due, and stands in for aiortc's
# RTCP task (RTCRtpSender._run_rtcp, started by send() and cancelled by stop(), which waits for the two
# events). What aiortc's task sets besides the report: the last SR's middle 32 NTP bits and when it was sent
# (for the round-trip time of the receiver reports that answer it), and the CNAME for SDES.
_TX_RUN_RTCP: Final = "_run_rtcp"
_TX_RTCP_STARTED: Final = "_RTCRtpSender__rtcp_started"
_TX_RTCP_EXITED: Final = "_RTCRtpSender__rtcp_exited"
_TX_REPORT_STATE: Final = (
    "_RTCRtpSender__lsr",
    "_RTCRtpSender__lsr_time",
    "_RTCRtpSender__cname",
    _TX_RTCP_STARTED,
    _TX_RTCP_EXITED,
)
# RTCRtpSender: the msid stream id aiortc writes into the SDP (one per peer connection unless we set it).
_TX_STREAM_ID: Final = "_stream_id"
# Also used directly (typed in aiortc): RTCRtpSender._ssrc / ._rtx_ssrc, RTCDtlsTransport._send_rtp(data) and
# RTCDtlsTransport._rtp_header_extensions_map (only to rebuild a datagram outside the receive loop).
# aioice: the module function Connection.gather_candidates asks for the addresses to bind host candidates.
_GET_HOST_ADDRESSES: Final = "get_host_addresses"
# RTCRtpReceiver: sends its RTCP (receiver reports, NACK, PLI, and REMB from its estimator) through it.
_RX_SEND_RTCP: Final = "_send_rtcp"
# The send path RawRtpSender.send takes instead of the four coroutines behind RTCDtlsTransport._send_rtp:
# RTCDtlsTransport._state / ._tx_srtp (a pylibsrtp.Session), RTCIceTransport._connection (an aioice
# Connection), Connection._nominated (component -> CandidatePair, read by Connection.sendto), and what
# StunProtocol.send_data does with the pair: protocol.transport.sendto(data, pair.remote_addr).
_DTLS_STATE: Final = "_state"
_CONNECTED: Final = DtlsState.CONNECTED
_DTLS_TX_SRTP: Final = "_tx_srtp"
_DTLS_RX_SRTP: Final = "_rx_srtp"
# The receive path taps and diverted transports take: aioice's StunProtocol.datagram_received hands every
# non-STUN datagram to Connection.data_received (looked up on the instance), which queues it for aiortc's
# DTLS receive task; SRTP is decrypted and handled right there instead (see _ReceivePath).
_ICE_DATA_RECEIVED: Final = "data_received"
# ... and before that, StunProtocol.datagram_received tries to parse every datagram as STUN (an exception per
# media packet); a connection's protocols (Connection._protocols) get a datagram_received that passes
# SRTP/SRTCP (first byte 128-191, RFC 7983) straight on.
_ICE_PROTOCOLS: Final = "_protocols"
_STUN_DATAGRAM_RECEIVED: Final = "datagram_received"
_ICE_CONNECTION: Final = "_connection"
# asyncio's selector datagram transport reads every datagram with recvfrom(max_size): a 256 KiB buffer that
# CPython then shrinks to the datagram. Freed, those buffers leave holes in glibc's heap that the packets
# kept meanwhile (RTX caches) break up, and the resident size grows by the heap's fragmentation (+8-10 % in
# 15 minutes of load, docs/benchmarks.md). The connections' transports read at most _DATAGRAM_READ_BYTES
# (SRTP longer than the receive path's 1,500-byte buffer is dropped anyway). uvloop reads into one buffer
# of its own and copies out the datagram: its transports have no such attribute and are left alone.
_TRANSPORT_READ_SIZE: Final = "max_size"
# The shortest datagram any connection accepts: an RTP header (STUN's is 20 bytes, a DTLS record's 13). aiortc
# reads data[0] (and data[1] for SRTP) of whatever aioice hands on, and an IndexError ends its DTLS receive
# task: an empty datagram from anyone who can reach the port would close the connection.
_SHORTEST_DATAGRAM: Final = 12
_DATAGRAM_READ_BYTES: Final = 2048
_ASYNCIO_DATAGRAM_TRANSPORT_NAME: Final = "_SelectorDatagramTransport"
_ASYNCIO_DATAGRAM_TRANSPORT: Final[type] = getattr(selector_events, _ASYNCIO_DATAGRAM_TRANSPORT_NAME)
_ICE_NOMINATED: Final = "_nominated"
# aioice's Connection.connect starts consent freshness with asyncio.create_task(self.query_consent()) (looked
# up on the instance, so replaced per instance by keep_consent) and keeps the task in _query_consent_task,
# which close() cancels and awaits.
_ICE_QUERY_CONSENT: Final = "query_consent"
_ICE_CONSENT_TASK: Final = "_query_consent_task"
# pylibsrtp.Session: the srtp_t handle and the 1,500-byte work buffer protect() copies each packet into.
_SRTP_CONTEXT: Final = "_srtp"
_SRTP_CDATA: Final = "_cdata"
_SRTP_BUFFER: Final = "_buffer"
#: The pylibsrtp release the send path was written against (pinned in constraints.txt).
PYLIBSRTP_VERSION: Final = "1.0.0"
_SRTP_TRAILER: Final = 16 + 128  # pylibsrtp's SRTP_MAX_TRAILER_LEN: room protect() keeps for the tag
# pylibsrtp's cffi binding (no type information): srtp_protect(srtp_t, void *packet, int *length) -> status.
_srtp_binding: Final[Any] = importlib.import_module("pylibsrtp._binding")
_srtp_ffi: Final[Any] = _srtp_binding.ffi
_srtp_lib: Final[Any] = _srtp_binding.lib
_srtp_protect: Final[Callable[..., int]] = getattr(_srtp_lib, "srtp_protect", lambda *_: 1)
_srtp_unprotect: Final[Callable[..., int]] = getattr(_srtp_lib, "srtp_unprotect", lambda *_: 1)
_srtp_unprotect_rtcp: Final[Callable[..., int]] = getattr(_srtp_lib, "srtp_unprotect_rtcp", lambda *_: 1)

_ORIGINAL_GET_HOST_ADDRESSES: Final[Callable[[bool, bool], list[str]]] = aioice.ice.get_host_addresses

# The header extensions the fast receive path reads (RFC 6464 audio level; abs-send-time for REMB; mid).
_ABS_SEND_TIME_URI: Final = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
_AUDIO_LEVEL_URI: Final = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
_MID_URI: Final = "urn:ietf:params:rtp-hdrext:sdes:mid"
# The fast path gives aiortc's REMB estimator the packets in batches: every this many packets, or with the
# first packet this late after the oldest one waiting (its REMBs come at most every 200 ms anyway).
_ESTIMATE_EVERY: Final = 8
_ESTIMATE_WITHIN_MS: Final = 100

# Seconds from the NTP epoch (1900) to the Unix epoch (1970).
_NTP_UNIX_OFFSET: Final = 2_208_988_800


class AiortcIncompatibleError(RuntimeError):
    """The installed aiortc/aioice no longer has the internals these hooks rely on."""


# --- Compatibility check ------------------------------------------------------------------------------------


def _code_names(owner: object, name: str) -> frozenset[str]:
    """Names (attributes, globals) a function's code refers to; empty when it is missing or not Python."""
    function = inspect.getattr_static(owner, name, None)
    code = getattr(function, "__code__", None)
    return frozenset(code.co_names) if code is not None else frozenset()


def _check_method(owner: type, name: str, params: tuple[str, ...], is_async: bool) -> str | None:
    where = f"{owner.__module__}.{owner.__qualname__}.{name}"
    function = inspect.getattr_static(owner, name, None)
    if function is None or not callable(function):
        return f"{where} is missing"
    actual = tuple(inspect.signature(function).parameters)
    if actual != params:
        return f"{where} signature changed: expected ({', '.join(params)}), found ({', '.join(actual)})"
    if inspect.iscoroutinefunction(function) != is_async:
        return f"{where} is {'no longer' if is_async else 'now'} a coroutine function"
    return None


def _check_uses(owner: object, function: str, names: Iterable[str], meaning: str) -> list[str]:
    where = f"{getattr(owner, '__qualname__', owner)}.{function}"
    used = _code_names(owner, function)
    return [f"{where} no longer refers to {name!r} ({meaning})" for name in names if name not in used]


def check_compatible(*, allow_other_version: bool = False) -> None:
    """Verify that aiortc and aioice still have every internal these hooks use; call it at startup.

    Checks the version pin, the methods we wrap or call (names, parameters, async-ness), and, by reading the
    functions' code objects, that aiortc still creates and uses the private attributes we replace or feed.
    Raises :class:`AiortcIncompatibleError` listing every problem found.
    """
    problems: list[str] = []
    if aiortc.__version__ != AIORTC_VERSION and not allow_other_version:
        problems.append(
            f"aiortc {aiortc.__version__} is installed, the hooks were written for {AIORTC_VERSION}"
        )

    methods: tuple[tuple[type, str, tuple[str, ...], bool], ...] = (
        (RTCRtpReceiver, _RECEIVE, ("self", "parameters"), True),
        (RTCRtpReceiver, _HANDLE_RTP, ("self", "packet", "arrival_time_ms"), True),
        (RTCRtpReceiver, _HANDLE_RTCP, ("self", "packet"), True),
        (RTCRtpReceiver, _RX_STOP_DECODER, ("self",), False),
        (RTCRtpSender, _SEND, ("self", "parameters"), True),
        (RTCRtpSender, _HANDLE_RTCP, ("self", "packet"), True),
        (RTCDtlsTransport, "_send_rtp", ("self", "data"), True),
        (RTCDtlsTransport, _HANDLE_RTP_DATA, ("self", "data", "arrival_time_ms"), True),
    )
    for owner, name, params, is_async in methods:
        problem = _check_method(owner, name, params, is_async)
        if problem:
            problems.append(problem)

    host_params = tuple(inspect.signature(_ORIGINAL_GET_HOST_ADDRESSES).parameters)
    if host_params != ("use_ipv4", "use_ipv6"):
        problems.append(f"aioice.ice.get_host_addresses signature changed: found ({', '.join(host_params)})")

    problems += _check_uses(
        RTCRtpReceiver,
        "__init__",
        (_RX_JITTER_BUFFER, _RX_DECODER_THREAD, _RX_STARTED, _RX_RTCP_SSRC, _RX_BITRATE_ESTIMATOR),
        "receiver state the tap replaces or reads",
    )
    problems += _check_uses(
        RTCRtpReceiver, _RECEIVE, (_RX_DECODER_THREAD,), "the decoder thread starts there"
    )
    problems += _check_uses(
        RTCRtpReceiver, _HANDLE_RTP, (_RX_JITTER_BUFFER, _RX_BITRATE_ESTIMATOR), "where the tap sits"
    )
    users = sorted(
        name for name in vars(RTCRtpReceiver) if _RX_JITTER_BUFFER in _code_names(RTCRtpReceiver, name)
    )
    if users != ["__init__", _HANDLE_RTP]:
        problems.append(
            f"RTCRtpReceiver's jitter buffer is used by {users}; the tap only stands in for add()"
        )
    problems += _check_uses(RTCDtlsTransport, "_recv_next", (_HANDLE_RTP_DATA,), "decrypted RTP goes there")
    problems += _check_uses(
        RemoteBitrateEstimator, "__init__", (_ESTIMATOR_BITRATE,), "the tap replaces its incoming bitrate"
    )
    problems += _check_uses(
        RemoteBitrateEstimator, "add", (_ESTIMATOR_BITRATE, "rate", "reset", "add"), "what it asks of it"
    )
    problems += _check_uses(
        RateCounter, "__init__", (_RATE_WINDOW, _RATE_SCALE), "the window and scale we copy"
    )
    problems += _check_uses(
        RTCDtlsTransport, "__init__", ("_rtp_header_extensions_map",), "extension ids for parsing RTP"
    )
    problems += _check_uses(
        RTCDtlsTransport, _HANDLE_RTP_DATA, (_HANDLE_RTP,), "it hands packets to receivers"
    )
    problems += _check_uses(
        RTCRtpSender, "__init__", ("_ssrc", "_rtx_ssrc", _TX_STARTED, *_TX_COUNTERS), "sender state we use"
    )
    problems += _check_uses(
        RTCRtpSender, "getStats", (_TX_PACKET_COUNT, _TX_OCTET_COUNT), "its statistics count what we send"
    )
    problems += _check_uses(
        RTCRtpSender, _TX_RUN_RTCP, _TX_REPORT_STATE, "RawRtpSender's reports do what its RTCP task does"
    )
    problems += _check_uses(RTCRtpSender, "send", (_TX_RUN_RTCP,), "it starts the RTCP task")
    problems += _check_uses(
        RTCRtpSender, "setTransport", (_TX_TRANSPORT,), "the sender's transport is kept there"
    )
    problems += _check_uses(RTCRtpSender, "stop", (_TX_RTCP_STARTED, _TX_RTCP_EXITED), "it waits for them")
    problems += _check_uses(RTCRtpSender, "__init__", (_TX_STREAM_ID,), "the sender's msid stream id")
    problems += _check_uses(
        aiortc.rtcpeerconnection,
        "create_media_description_for_transceiver",
        (_TX_STREAM_ID,),
        "the msid of an m-section comes from the sender",
    )
    problems += _check_uses(
        aioice.ice.Connection, "gather_candidates", (_GET_HOST_ADDRESSES,), "announce_addresses replaces it"
    )
    problems += _send_path_problems(allow_other_version)
    problems += _fast_path_problems()
    problem = _check_method(RTCRtpReceiver, _RX_SEND_RTCP, ("self", "packet"), True)
    if problem:
        problems.append(problem)
    problems += _check_uses(
        RTCRtpReceiver, _HANDLE_RTP, (_RX_SEND_RTCP,), "its estimator's REMB goes out there (on_remb)"
    )

    if problems:
        raise AiortcIncompatibleError(
            "aiortc/aioice internals changed; review media/aiortc_hooks.py and docs/media-design.md:\n- "
            + "\n- ".join(problems)
        )


def _send_path_problems(allow_other_version: bool) -> list[str]:
    """What RawRtpSender's send path relies on: aiortc's DTLS and ICE transports, aioice, pylibsrtp."""
    problems: list[str] = []
    if pylibsrtp.__version__ != PYLIBSRTP_VERSION and not allow_other_version:
        problems.append(
            f"pylibsrtp {pylibsrtp.__version__} is installed, "
            f"the send path was written for {PYLIBSRTP_VERSION}"
        )
    if not callable(getattr(_srtp_lib, "srtp_protect", None)):
        problems.append("pylibsrtp's binding has no srtp_protect")
    problems += _check_uses(
        RTCDtlsTransport, "__init__", (_DTLS_STATE, _DTLS_TX_SRTP), "the state and SRTP session we send with"
    )
    problems += _check_uses(
        RTCDtlsTransport, "_send_rtp", (_DTLS_STATE, _DTLS_TX_SRTP), "RawRtpSender.send does what it does"
    )
    problems += _check_uses(RTCIceTransport, "__init__", (_ICE_CONNECTION,), "its aioice connection")
    problems += _check_uses(aioice.ice.Connection, "__init__", (_ICE_NOMINATED,), "the nominated pairs")
    problems += _check_uses(aioice.ice.Connection, "sendto", (_ICE_NOMINATED,), "data goes to that pair")
    problems += _check_uses(
        aioice.ice.StunProtocol, "send_data", ("transport", "sendto"), "a pair's datagrams go there"
    )
    problems += _check_uses(
        pylibsrtp.Session, "__init__", (_SRTP_CONTEXT, _SRTP_CDATA, _SRTP_BUFFER), "the session's work buffer"
    )
    problems += _check_uses(
        RTCDtlsTransport, "__init__", (_DTLS_RX_SRTP,), "the SRTP session we decrypt with"
    )
    problems += _check_uses(
        RTCDtlsTransport, "_recv_next", (_DTLS_RX_SRTP,), "the receive path decrypts the same way"
    )
    problems += _check_uses(
        aioice.ice.StunProtocol, "datagram_received", (_ICE_DATA_RECEIVED,), "non-STUN datagrams go there"
    )
    problems += _check_uses(aioice.ice.Connection, "__init__", (_ICE_PROTOCOLS,), "the connection's sockets")
    problem = _check_method(
        aioice.ice.StunProtocol, _STUN_DATAGRAM_RECEIVED, ("self", "data", "addr"), False
    ) or _check_method(aioice.ice.Connection, _ICE_DATA_RECEIVED, ("self", "data", "component"), False)
    if problem:
        problems.append(problem)
    if not callable(getattr(_srtp_lib, "srtp_unprotect", None)):
        problems.append("pylibsrtp's binding has no srtp_unprotect")
    if not isinstance(inspect.getattr_static(aioice.ice.CandidatePair, "remote_addr", None), property):
        problems.append("aioice.ice.CandidatePair.remote_addr is no longer a property")
    problems += _check_uses(
        aioice.ice.Connection, "connect", (_ICE_QUERY_CONSENT, _ICE_CONSENT_TASK), "consent checks start"
    )
    problems += _check_uses(aioice.ice.Connection, "close", (_ICE_CONSENT_TASK,), "close() stops them")
    problem = _check_method(aioice.ice.Connection, _ICE_QUERY_CONSENT, ("self",), True) or _check_method(
        aioice.ice.Connection, "build_request", ("self", "pair", "nominate"), False
    )
    if problem:
        problems.append(problem)
    return problems


def _fast_path_problems() -> list[str]:
    """What the fast receive path (:class:`_FastRoute`) and the synchronous SRTCP path rely on."""
    problems = _check_uses(
        RTCRtpReceiver,
        "__init__",
        (_RX_REMOTE_STREAMS, _RX_NACK_GENERATOR, _RX_ACTIVE_SSRC, _RX_ENABLED),
        "receiver state the fast path feeds",
    )
    problems += _check_uses(
        RTCRtpReceiver,
        _HANDLE_RTP,
        (_RX_REMOTE_STREAMS, _RX_NACK_GENERATOR, _RX_ACTIVE_SSRC, _RX_ENABLED, _RX_SEND_NACK, _RX_RTCP_SSRC),
        "the fast path does what it does",
    )
    problems += _check_uses(
        RTCRtpReceiver, "_run_rtcp", (_RX_REMOTE_STREAMS, _RX_RTCP_SSRC), "receiver reports come from it"
    )
    problems += _check_uses(RTCDtlsTransport, "__init__", (_DTLS_ROUTER,), "the transport's RTP router")
    problems += _check_uses(RtpRouter, "__init__", (_ROUTER_SSRCS,), "the router's SSRC table")
    problems += _check_uses(RtpRouter, "route_rtp", (_ROUTER_SSRCS,), "routing by SSRC")
    problems += _check_uses(
        RtpRouter, "unregister_receiver", (_ROUTER_SSRCS,), "a stopped receiver leaves it"
    )
    problems += _check_uses(
        RTCDtlsTransport, "_recv_next", (_HANDLE_RTCP_DATA, "unprotect_rtcp"), "decrypted RTCP goes there"
    )
    checks: tuple[tuple[type, str, tuple[str, ...], bool], ...] = (
        (RTCRtpReceiver, _RX_SEND_NACK, ("self", "media_ssrc", "lost"), True),
        (RTCDtlsTransport, _HANDLE_RTCP_DATA, ("self", "data"), True),
        (StreamStatistics, "add", ("self", "packet"), False),
        (NackGenerator, "add", ("self", "packet"), False),
        (
            RemoteBitrateEstimator,
            "add",
            ("self", "arrival_time_ms", "abs_send_time", "payload_size", "ssrc"),
            False,
        ),
    )
    for owner, name, params, is_async in checks:
        problem = _check_method(owner, name, params, is_async)
        if problem:
            problems.append(problem)
    if not callable(getattr(_srtp_lib, "srtp_unprotect_rtcp", None)):
        problems.append("pylibsrtp's binding has no srtp_unprotect_rtcp")
    problems += _check_uses(
        _ASYNCIO_DATAGRAM_TRANSPORT,
        "_read_ready",
        (_TRANSPORT_READ_SIZE,),
        "asyncio reads each datagram with that size (small_datagram_reads)",
    )
    return problems


def _require(instance: object, *names: str) -> None:
    missing = [name for name in names if not hasattr(instance, name)]
    if missing:
        raise AiortcIncompatibleError(f"{type(instance).__name__} has no attribute {', '.join(missing)}")


async def _call(callback: Callable[..., Awaitable[None] | None], *args: object) -> None:
    """Run a plain or async callback; log and swallow its errors so aiortc's receive loop never dies."""
    try:
        result = callback(*args)
        if result is not None:
            await result
    except Exception:
        logger.exception("media hook callback %r failed", callback)


# --- Negotiated parameters ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Negotiated:
    """What the SDP negotiation settled for one sender or receiver, in the terms forwarding needs."""

    mid: str
    #: Media codecs (RTX excluded), in aiortc's order: aiortc itself would send ``codecs[0]``.
    codecs: tuple[RTCRtpCodecParameters, ...]
    #: Media payload type -> RTX payload type, for the codecs that negotiated RTX.
    rtx_payload_types: Mapping[int, int]
    #: Header extension URI -> negotiated id.
    header_extensions: Mapping[str, int]
    #: Primary and RTX SSRC: ours for a sender; the remote ones announced in SDP for a receiver (or None).
    ssrc: int | None
    rtx_ssrc: int | None

    def codec_for(self, payload_type: int) -> RTCRtpCodecParameters | None:
        """The negotiated media codec with this payload type."""
        return next((codec for codec in self.codecs if codec.payloadType == payload_type), None)

    @classmethod
    def from_parameters(
        cls, parameters: RTCRtpParameters, ssrc: int | None, rtx_ssrc: int | None
    ) -> Negotiated:
        media = tuple(codec for codec in parameters.codecs if codec.name.lower() != "rtx")
        rtx: dict[int, int] = {}
        for codec in parameters.codecs:
            apt = codec.parameters.get("apt")
            if codec.name.lower() == "rtx" and isinstance(apt, int) and codec.payloadType is not None:
                rtx[apt] = codec.payloadType
        return cls(
            mid=parameters.muxId,
            codecs=media,
            rtx_payload_types=MappingProxyType(rtx),
            header_extensions=MappingProxyType({ext.uri: ext.id for ext in parameters.headerExtensions}),
            ssrc=ssrc,
            rtx_ssrc=rtx_ssrc if rtx else None,
        )


# --- Receive side -------------------------------------------------------------------------------------------


class _TapBuffer:
    """Stands in for the receiver's jitter buffer: keeps the packet aiortc hands over, assembles nothing."""

    __slots__ = ("packet",)

    def __init__(self) -> None:
        self.packet: RtpPacket | None = None

    def add(self, packet: RtpPacket) -> tuple[bool, None]:
        # aiortc 1.16 reads (pli_flag, encoded_frame): never ask for a PLI, never complete a frame.
        self.packet = packet
        return False, None


_DONE: Final = object()
_tasks_in_flight: set[asyncio.Future[None]] = set()


def _step(coroutine: Coroutine[Any, Any, None]) -> object:
    """Resume the coroutine: what it waits for now, or ``_DONE`` once it has ended (its errors logged)."""
    try:
        return coroutine.send(None)
    except StopIteration:
        return _DONE
    except Exception:
        logger.exception("handling an RTP packet failed")
        return _DONE


def _drive(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run an aiortc coroutine to its end now if it never really waits (the RTP path does not: its sends
    are synchronous underneath); should it wait after all, a task finishes it."""
    awaited = _step(coroutine)
    if awaited is not _DONE:
        _tasks_in_flight.add(task := asyncio.ensure_future(_finish(coroutine, awaited)))
        task.add_done_callback(_tasks_in_flight.discard)


async def _finish(coroutine: Coroutine[Any, Any, None], awaited: object) -> None:
    while awaited is not _DONE:
        with contextlib.suppress(Exception):  # the coroutine sees the same outcome when resumed
            await (awaited if isinstance(awaited, asyncio.Future) else asyncio.sleep(0))
        awaited = _step(coroutine)


def _small_datagram_reads(connection: aioice.ice.Connection) -> None:
    """Make the connection's asyncio datagram transports read at most ``_DATAGRAM_READ_BYTES`` a datagram."""
    for protocol in getattr(connection, _ICE_PROTOCOLS):
        transport = getattr(protocol, "transport", None)
        if isinstance(transport, _ASYNCIO_DATAGRAM_TRANSPORT):
            setattr(transport, _TRANSPORT_READ_SIZE, _DATAGRAM_READ_BYTES)


class _ReceivePath:
    """Decrypted SRTP and SRTCP handled inside aioice's datagram callback, not through aiortc's queue and
    DTLS task.

    aiortc queues every datagram (``Connection.data_received``) for a receive task that wakes up, decrypts
    (pylibsrtp allocates per call) and hands it on: two event-loop turns and a task switch per packet. For
    a connection with taps (or diverted), SRTP and SRTCP — not DTLS — are decrypted in place here with a
    preallocated length cell and handled at once; everything else still takes aiortc's way. RTP goes to
    :meth:`handle_rtp`: a packet whose SSRC has a learned :class:`_FastRoute` takes it, any other goes to
    ``RTCDtlsTransport._handle_rtp_data`` (which the taps wrap), as does anything the route does not
    accept. RTCP goes to ``RTCDtlsTransport._handle_rtcp_data``. aiortc's transport counters (``getStats``
    of the transport) do not see these packets.
    """

    __slots__ = (
        "buffer",
        "cdata",
        "connection",
        "context",
        "dtls",
        "handle_rtp",
        "hooked",
        "length",
        "limit",
        "original",
        "routes",
        "srtp",
    )

    def __init__(self, dtls: RTCDtlsTransport) -> None:
        connection = getattr(dtls.transport, _ICE_CONNECTION)
        self.connection = connection
        self.hooked: set[int] = set()
        self.dtls = dtls
        self.original: Callable[[bytes, int], None] = getattr(connection, _ICE_DATA_RECEIVED)
        self.srtp: pylibsrtp.Session | None = None
        self.context: Any = None
        self.cdata: Any = None
        self.buffer: Any = None
        self.limit = 0
        self.length = _srtp_ffi.new("int *")
        #: Arriving SSRC -> its fast route, learned from packets aiortc routed to a tap.
        self.routes: dict[int, _FastRoute] = {}
        #: Where each decrypted RTP datagram goes (an attribute, so that a test can put a lossy link here).
        self.handle_rtp: Callable[[bytes, int], None] = self._handle_rtp
        setattr(connection, _ICE_DATA_RECEIVED, self.data_received)
        self._hook_protocols()

    def _hook_protocols(self) -> None:
        """Let the connection's sockets pass SRTP/SRTCP on without a STUN parse (sockets bound since the
        last call included: gathering may come after the hook)."""
        receive = self.data_received
        _small_datagram_reads(self.connection)
        for protocol in getattr(self.connection, _ICE_PROTOCOLS):
            if id(protocol) in self.hooked:
                continue
            self.hooked.add(id(protocol))
            original = getattr(protocol, _STUN_DATAGRAM_RECEIVED)
            component = protocol.local_candidate.component

            def datagram_received(
                data: bytes,
                addr: tuple[Any, ...],
                original: Callable[[bytes, tuple[Any, ...]], None] = original,
                component: int = component,
            ) -> None:
                if data and 127 < data[0] < 192:
                    receive(data, component)  # which drops what is too short to be SRTP or SRTCP
                else:
                    original(data, addr)  # STUN, or data_received again (which drops b"")

            setattr(protocol, _STUN_DATAGRAM_RECEIVED, datagram_received)

    def data_received(self, data: bytes, component: int) -> None:
        if len(data) < _SHORTEST_DATAGRAM:
            return  # no STUN, DTLS, RTP or RTCP is this short; aiortc's receive task dies on b""
        dtls = self.dtls
        if 127 < data[0] < 192 and getattr(dtls, _DTLS_STATE) is DtlsState.CONNECTED:
            srtp = getattr(dtls, _DTLS_RX_SRTP)
            if srtp is not self.srtp:
                self._use(srtp)
            size = len(data)
            if size <= self.limit:
                buffer = self.buffer
                buffer[0:size] = data
                length = self.length
                length[0] = size
                if 191 < data[1] < 209:  # SRTCP (aiortc's is_rtcp)
                    if not _srtp_unprotect_rtcp(self.context, self.cdata, length):
                        _drive(getattr(dtls, _HANDLE_RTCP_DATA)(buffer[0 : length[0]]))
                elif not _srtp_unprotect(self.context, self.cdata, length):
                    self.handle_rtp(buffer[0 : length[0]], int((time.time() + _NTP_UNIX_OFFSET) * 1000))
            return  # what libsrtp refuses (or what is too long) is dropped, as aiortc does
        if data[0] < 128 and len(self.hooked) < len(getattr(self.connection, _ICE_PROTOCOLS)):
            self._hook_protocols()  # STUN or DTLS: sockets may have been bound since we looked
        self.original(data, component)

    def _handle_rtp(self, data: bytes, arrival_time_ms: int) -> None:
        route = self.routes.get(int.from_bytes(data[8:12], "big")) if len(data) > 11 else None
        if route is None or not route.handle(data, arrival_time_ms):
            _drive(getattr(self.dtls, _HANDLE_RTP_DATA)(data, arrival_time_ms))

    def _use(self, srtp: pylibsrtp.Session) -> None:
        self.srtp = srtp
        self.context = getattr(srtp, _SRTP_CONTEXT)[0]
        self.cdata = getattr(srtp, _SRTP_CDATA)
        self.buffer = getattr(srtp, _SRTP_BUFFER)
        self.limit = len(self.buffer)


# The path lives on its transport (which it refers to, as its connection refers to the path): the cycle goes
# with the connection. A dictionary keyed by transport would keep every closed one alive.
_PATH_ATTRIBUTE: Final = "_tiaojie_receive_path"


def receive_path_of(dtls: RTCDtlsTransport) -> _ReceivePath | None:
    """The transport's receive path, if it has one."""
    path: _ReceivePath | None = getattr(dtls, _PATH_ATTRIBUTE, None)
    return path


def _receive_path(dtls: RTCDtlsTransport) -> _ReceivePath:
    """The transport's synchronous receive path, given to its connection the first time."""
    path = receive_path_of(dtls)
    if path is None:
        _require(dtls.transport, _ICE_CONNECTION)
        path = _ReceivePath(dtls)
        setattr(dtls, _PATH_ATTRIBUTE, path)
    return path


class _DatagramSlot:
    """The decrypted RTP datagram a DTLS transport is handling right now (it handles one at a time)."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data: bytes | None = None


_datagram_slots: WeakKeyDictionary[RTCDtlsTransport, _DatagramSlot] = WeakKeyDictionary()


def _datagram_slot(transport: RTCDtlsTransport) -> _DatagramSlot:
    """Make ``transport`` note each decrypted RTP datagram while aiortc parses and routes it."""
    slot = _datagram_slots.get(transport)
    if slot is None:
        slot = _datagram_slots[transport] = _DatagramSlot()
        deliver: Callable[..., Awaitable[None]] = getattr(transport, _HANDLE_RTP_DATA)
        noted = slot

        async def handle_rtp_data(data: bytes, arrival_time_ms: int) -> None:
            noted.data = data
            try:
                await deliver(data, arrival_time_ms=arrival_time_ms)
            finally:
                noted.data = None

        setattr(transport, _HANDLE_RTP_DATA, handle_rtp_data)
    return slot


def _header_length(data: bytes) -> int:
    """Length of an RTP header: fixed part, CSRCs and the header extension block."""
    first = data[0]
    length = 12 + 4 * (first & 0x0F)
    if first & 0x10:
        length += 4 + 4 * int.from_bytes(data[length + 2 : length + 4], "big")
    return length


def _unwrapped_datagram(rtx: bytes, packet: TappedPacket) -> bytes:
    """The original datagram inside an RTX one (RFC 4588): media PT, SSRC and sequence number, OSN removed."""
    header = _header_length(rtx)
    return b"".join(
        (
            bytes((rtx[0], (packet.marker << 7) | packet.payload_type)),
            packet.sequence_number.to_bytes(2, "big"),
            rtx[4:8],
            packet.ssrc.to_bytes(4, "big"),
            rtx[12:header],
            rtx[header + 2 :],
        )
    )


class TappedExtensions(Protocol):
    """The header extension values a tap's packet carries (aiortc's ``HeaderExtensions`` has these)."""

    @property
    def abs_send_time(self) -> int | None: ...

    @property
    def audio_level(self) -> Any: ...

    @property
    def mid(self) -> Any: ...


class TappedPacket(Protocol):
    """What an RTP tap's callback gets: aiortc's ``RtpPacket`` or the fast path's :class:`_FastPacket`."""

    @property
    def payload_type(self) -> int: ...

    @property
    def marker(self) -> int: ...

    @property
    def sequence_number(self) -> int: ...

    @property
    def timestamp(self) -> int: ...

    @property
    def ssrc(self) -> int: ...

    @property
    def payload(self) -> bytes: ...

    @property
    def padding_size(self) -> int: ...

    @property
    def extensions(self) -> TappedExtensions: ...


class _FastExtensions:
    """The header extension values anything behind a tap reads: abs-send-time, audio level, mid."""

    __slots__ = ("abs_send_time", "audio_level", "mid")

    def __init__(
        self, abs_send_time: int | None, audio_level: tuple[bool, int] | None, mid: str | None
    ) -> None:
        self.abs_send_time = abs_send_time
        self.audio_level = audio_level
        self.mid = mid


_NO_EXTENSIONS: Final = _FastExtensions(None, None, None)


class _FastPacket:
    """One RTP packet as the fast path reads it: the fields of aiortc's ``RtpPacket`` a tap's callback,
    the statistics and the NACK generator use (CSRCs and other extensions are left in the datagram)."""

    __slots__ = (
        "extensions",
        "marker",
        "padding_size",
        "payload",
        "payload_type",
        "sequence_number",
        "ssrc",
        "timestamp",
    )

    def __init__(
        self,
        payload_type: int,
        marker: int,
        sequence_number: int,
        timestamp: int,
        ssrc: int,
        payload: bytes,
        padding_size: int,
        extensions: _FastExtensions,
    ) -> None:
        self.payload_type = payload_type
        self.marker = marker
        self.sequence_number = sequence_number
        self.timestamp = timestamp
        self.ssrc = ssrc
        self.payload = payload
        self.padding_size = padding_size
        self.extensions = extensions


class _FastRoute:
    """aiortc's receive work for one arriving SSRC of a tapped receiver, without aiortc's parse and routing.

    Learned from the first packet aiortc itself routed to the tap (so aiortc decided the SSRC, the payload
    type, whether it is RTX and of which stream); after that, :meth:`handle` does for each packet with that
    SSRC and payload type what ``RTCRtpReceiver._handle_rtp_packet`` would, on aiortc's own state: feed the
    REMB estimator (video with abs-send-time; through the tap, in batches of up to 8 packets or 100 ms, in
    arrival order across the receiver's SSRCs, the newest REMB sent), note the SSRC as active (once a
    second), count the packet in the statistics receiver reports are built from, unwrap RTX, feed the NACK
    generator (and send a NACK when it finds a gap) — then hand the packet to the tap. It skips aiortc's
    payload parsing (its result only fed the jitter buffer the tap stands in for). It returns False, and
    the packet takes aiortc's way, whenever the packet is not what was learned (another payload type, a
    header our parser refuses) or aiortc no longer routes the SSRC to this receiver (renegotiated, stopped).
    """

    __slots__ = (
        "abs_send_time_id",
        "active",
        "active_ms",
        "audio_level_id",
        "estimator",
        "media_payload_type",
        "media_ssrc",
        "mid",
        "mid_id",
        "nack",
        "payload_type",
        "receiver",
        "ssrc",
        "ssrc_table",
        "stats",
        "tap",
    )

    def __init__(self, tap: RtpTap, dtls: RTCDtlsTransport, arrived: RtpPacket, tapped: RtpPacket) -> None:
        receiver = tap.receiver
        self.tap = tap
        self.receiver = receiver
        self.ssrc = arrived.ssrc
        self.payload_type = arrived.payload_type
        self.ssrc_table: dict[int, object] = getattr(getattr(dtls, _DTLS_ROUTER), _ROUTER_SSRCS)
        self.stats: StreamStatistics = getattr(receiver, _RX_REMOTE_STREAMS)[arrived.ssrc]
        self.active: dict[int, object] = getattr(receiver, _RX_ACTIVE_SSRC)
        self.active_ms = 0
        rtx = tapped is not arrived
        self.media_ssrc = tapped.ssrc if rtx else None
        self.media_payload_type = tapped.payload_type
        self.nack: NackGenerator | None = getattr(receiver, _RX_NACK_GENERATOR)
        self.estimator: RemoteBitrateEstimator | None = getattr(receiver, _RX_BITRATE_ESTIMATOR)
        extensions = tap.negotiated.header_extensions if tap.negotiated is not None else {}
        self.abs_send_time_id = extensions.get(_ABS_SEND_TIME_URI)
        self.audio_level_id = extensions.get(_AUDIO_LEVEL_URI)
        self.mid_id = extensions.get(_MID_URI)
        #: The last mid value read, raw and decoded (a publisher repeats the same one).
        self.mid: tuple[bytes, str] = (b"", "")

    def _decode_mid(self, raw: bytes) -> str:
        self.mid = (raw, raw.decode("utf-8", "replace"))
        return self.mid[1]

    def handle(self, data: bytes, arrival_time_ms: int) -> bool:
        """Handle one decrypted datagram with this route's SSRC; False if aiortc should have it instead."""
        receiver = self.receiver
        if self.ssrc_table.get(self.ssrc) is not receiver or not getattr(receiver, _RX_ENABLED):
            return False
        try:
            header = RtpHeader(data)
            values = header.extensions() if header.extension_profile is not None else None
        except MalformedPacket:
            return False  # aiortc's parser decides what becomes of it
        if header.payload_type != self.payload_type:
            return False
        extensions = _NO_EXTENSIONS
        if values:
            abs_send_time = values.get(self.abs_send_time_id) if self.abs_send_time_id else None
            level = values.get(self.audio_level_id) if self.audio_level_id else None
            mid = values.get(self.mid_id) if self.mid_id else None
            extensions = _FastExtensions(
                int.from_bytes(abs_send_time[:3], "big") if abs_send_time else None,
                (level[0] > 0x7F, level[0] & 0x7F) if level else None,
                None if mid is None else self.mid[1] if mid == self.mid[0] else self._decode_mid(mid),
            )
        payload = header.payload
        packet = _FastPacket(
            header.payload_type,
            header.marker,
            header.sequence_number,
            header.timestamp,
            header.ssrc,
            payload,
            header.padding_size,
            extensions,
        )
        if self.estimator is not None and extensions.abs_send_time is not None:
            size = len(payload) + packet.padding_size
            self.tap.estimate_later(arrival_time_ms, extensions.abs_send_time, size, self.ssrc)
        if arrival_time_ms - self.active_ms >= 1000:
            self.active_ms = arrival_time_ms
            self.active[packet.ssrc] = aiortc_clock.current_datetime()
        self.stats.add(packet)  # type: ignore[arg-type]  # reads sequence_number and timestamp only
        if self.media_ssrc is not None:
            if len(payload) < 2:
                return True  # as aiortc: counted, then dropped
            packet = _FastPacket(
                self.media_payload_type,
                packet.marker,
                (payload[0] << 8) | payload[1],
                packet.timestamp,
                self.media_ssrc,
                payload[2:],
                0,
                extensions,
            )
            data = _unwrapped_datagram(data, packet)
        nack = self.nack
        if nack is not None and nack.add(packet):  # type: ignore[arg-type]  # reads sequence_number only
            _drive(getattr(receiver, _RX_SEND_NACK)(packet.ssrc, sorted(nack.missing)))
        self.tap.deliver(packet, data, arrival_time_ms)
        return True


class RtpTap:
    """Delivers every RTP packet a receiver accepts to ``on_rtp``; made by :func:`attach_rtp_tap`."""

    def __init__(
        self,
        receiver: RTCRtpReceiver,
        on_rtp: RtpCallback,
        *,
        aiortc_remb: bool = True,
        on_remb: RembCallback | None = None,
    ) -> None:
        _require(
            receiver, _RX_JITTER_BUFFER, _RX_DECODER_THREAD, _RX_STARTED, _RX_BITRATE_ESTIMATOR, _RX_SEND_RTCP
        )
        if on_remb is not None and not aiortc_remb:
            raise ValueError("on_remb needs aiortc's estimator (aiortc_remb=True)")
        if getattr(receiver, _RX_STARTED):
            raise RuntimeError("attach the RTP tap before the receiver starts (in the 'track' handler)")
        if isinstance(getattr(receiver, _RX_JITTER_BUFFER), _TapBuffer):
            raise RuntimeError("this receiver already has an RTP tap")
        self.receiver = receiver
        #: Packets delivered to the callback so far.
        self.packets = 0
        #: Set when the peer connection starts the receiver (after DTLS connects).
        self.negotiated: Negotiated | None = None
        self._on_rtp = on_rtp
        self._buffer = _TapBuffer()
        self._transport: RTCDtlsTransport | None = None
        self._path: _ReceivePath | None = None
        #: (arrival ms, abs-send-time, size, SSRC) of fast-path packets not yet given to the estimator.
        self._estimates: list[tuple[int, int, int, int]] = []
        self._slot = _DatagramSlot()
        self._started: asyncio.Future[Negotiated] = asyncio.get_running_loop().create_future()
        self._original_handle: Callable[..., Awaitable[None]] = getattr(receiver, _HANDLE_RTP)
        self._original_receive: Callable[[RTCRtpReceiveParameters], Awaitable[None]] = receiver.receive
        setattr(receiver, _RX_JITTER_BUFFER, self._buffer)
        estimator: RemoteBitrateEstimator | None = getattr(receiver, _RX_BITRATE_ESTIMATOR)
        if not aiortc_remb:
            # No REMB from aiortc's estimator (and none of its per-packet work): the forwarder sends its own.
            setattr(receiver, _RX_BITRATE_ESTIMATOR, None)
        elif estimator is not None:
            # The same incoming bitrate without a step per elapsed millisecond (media/window_rate.py).
            counter = getattr(estimator, _ESTIMATOR_BITRATE)
            setattr(
                estimator,
                _ESTIMATOR_BITRATE,
                WindowRate(getattr(counter, _RATE_WINDOW), getattr(counter, _RATE_SCALE)),
            )
        setattr(receiver, _HANDLE_RTP, self._handle_rtp_packet)
        setattr(receiver, _RECEIVE, self._receive)
        if on_remb is not None:
            self._intercept_remb(on_remb)

    def _intercept_remb(self, on_remb: RembCallback) -> None:
        """Hand the REMBs aiortc's estimator makes to ``on_remb`` instead of sending them; other RTCP
        (receiver reports, NACK, PLI) goes out as before."""
        original: Callable[[AnyRtcpPacket], Awaitable[None]] = getattr(self.receiver, _RX_SEND_RTCP)

        async def send_rtcp(packet: AnyRtcpPacket) -> None:
            if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
                try:
                    bitrate, ssrcs = unpack_remb_fci(packet.fci)
                    on_remb(bitrate, ssrcs)
                except Exception:
                    logger.exception("REMB callback %r failed", on_remb)
                return
            await original(packet)

        setattr(self.receiver, _RX_SEND_RTCP, send_rtcp)

    async def started(self) -> Negotiated:
        """Wait until the receiver has started; returns what was negotiated for it."""
        return await asyncio.shield(self._started)

    async def _receive(self, parameters: RTCRtpReceiveParameters) -> None:
        await self._original_receive(parameters)
        self._watch(self.receiver.transport)
        # receive() started a decoder thread; nothing reaches it any more, so end it now. The receiver's
        # track then ends too: its recv() raises MediaStreamError instead of yielding frames.
        getattr(self.receiver, _RX_STOP_DECODER)()
        if not self._started.done():
            encoding = parameters.encodings[0] if parameters.encodings else None
            self.negotiated = Negotiated.from_parameters(
                parameters,
                ssrc=encoding.ssrc if encoding else None,
                rtx_ssrc=encoding.rtx.ssrc if encoding and encoding.rtx else None,
            )
            self._started.set_result(self.negotiated)

    def _watch(self, transport: RTCDtlsTransport) -> None:
        self._transport = transport
        self._slot = _datagram_slot(transport)
        self._path = _receive_path(transport)

    async def _handle_rtp_packet(self, packet: RtpPacket, arrival_time_ms: int) -> None:
        transport = self.receiver.transport
        if transport is not self._transport:  # moved to another transport by a renegotiation
            self._watch(transport)
        data = self._slot.data
        self.estimate_now()  # what the fast path noted goes to the estimator before this packet does
        # aiortc feeds its REMB estimator, statistics (for receiver reports) and NACK generator, unwraps RTX,
        # then hands the media packet to our stand-in jitter buffer.
        await self._original_handle(packet, arrival_time_ms=arrival_time_ms)
        tapped = self._buffer.packet
        if tapped is None:
            return
        self._buffer.packet = None
        if data is None:  # not from the transport's receive loop
            data = tapped.serialize(transport._rtp_header_extensions_map)
        else:
            path = self._path
            route = path.routes.get(packet.ssrc) if path is not None else None
            if path is not None and self.negotiated is not None and (route is None or route.tap is not self):
                path.routes[packet.ssrc] = _FastRoute(self, transport, packet, tapped)
            if tapped is not packet:  # aiortc unwrapped an RTX packet
                data = _unwrapped_datagram(data, tapped)
        self.deliver(tapped, data, arrival_time_ms)

    def estimate_later(self, arrival_time_ms: int, abs_send_time: int, size: int, ssrc: int) -> None:
        """Note a fast-path packet for aiortc's REMB estimator; given to it in batches, in arrival order
        across the receiver's SSRCs (media and RTX share the estimator)."""
        pending = self._estimates
        pending.append((arrival_time_ms, abs_send_time, size, ssrc))
        if len(pending) >= _ESTIMATE_EVERY or arrival_time_ms - pending[0][0] >= _ESTIMATE_WITHIN_MS:
            self.estimate_now()

    def estimate_now(self) -> None:
        """Feed the noted packets to the estimator one after another (its code stays in the CPU's caches for
        the whole batch) and send the newest REMB it makes, as aiortc would have."""
        pending = self._estimates
        if not pending:
            return
        self._estimates = []
        receiver = self.receiver
        estimator: RemoteBitrateEstimator | None = getattr(receiver, _RX_BITRATE_ESTIMATOR)
        if estimator is None:
            return
        remb = None
        for arrival_time_ms, abs_send_time, size, ssrc in pending:
            remb = (
                estimator.add(
                    arrival_time_ms=arrival_time_ms, abs_send_time=abs_send_time, payload_size=size, ssrc=ssrc
                )
                or remb
            )
        rtcp_ssrc = getattr(receiver, _RX_RTCP_SSRC)
        if remb is not None and rtcp_ssrc is not None:
            remb_packet = RtcpPsfbPacket(
                fmt=RTCP_PSFB_APP, ssrc=rtcp_ssrc, media_ssrc=0, fci=pack_remb_fci(*remb)
            )
            _drive(getattr(receiver, _RX_SEND_RTCP)(remb_packet))

    def deliver(self, packet: TappedPacket, data: bytes, arrival_time_ms: int) -> None:
        """Hand one accepted packet to the callback (inline: this runs for every packet)."""
        self.packets += 1
        try:
            result = self._on_rtp(packet, data, arrival_time_ms)
            if result is not None:
                _drive(_awaited(result))
        except Exception:
            logger.exception("RTP tap callback %r failed", self._on_rtp)


async def _awaited(result: Awaitable[None]) -> None:
    try:
        await result
    except Exception:
        logger.exception("RTP tap callback failed")


DatagramCallback = Callable[[bytes, int], None]
"""``on_datagram(data, arrival_time_ms)``: one decrypted RTP datagram (a plain function)."""


def divert_rtp(transport: RTCDtlsTransport, on_datagram: DatagramCallback) -> None:
    """Hand every decrypted RTP datagram of ``transport`` to ``on_datagram`` *instead of* aiortc's receivers.

    Nothing is parsed, routed, counted for receiver reports, NACKed, estimated or decoded: this is for load
    generators that count what arrives as cheaply as possible (a participant wants :func:`attach_rtp_tap`).
    RTCP still reaches aiortc. Under BUNDLE one DTLS transport carries a peer connection's every m-section:
    call it from the ``track`` handler with ``transceiver.receiver.transport``; a transport with taps is
    refused, and diverting twice replaces the callback.
    """
    _require(transport, _HANDLE_RTP_DATA)
    if transport in _datagram_slots:
        raise RuntimeError("this transport has RTP taps; divert a connection without taps")

    async def handle_rtp_data(data: bytes, arrival_time_ms: int) -> None:
        on_datagram(data, arrival_time_ms)

    setattr(transport, _HANDLE_RTP_DATA, handle_rtp_data)
    _receive_path(transport)


def attach_rtp_tap(
    receiver: RTCRtpReceiver,
    on_rtp: RtpCallback,
    *,
    aiortc_remb: bool = True,
    on_remb: RembCallback | None = None,
) -> RtpTap:
    """Send every incoming RTP packet of ``receiver`` to ``on_rtp(packet, datagram, arrival_time_ms)``.

    Call it from the event loop before the receiver starts (in the peer connection's ``track`` handler, or
    after ``addTransceiver``). ``on_rtp`` runs inline in aiortc's receive loop, in arrival order, so it may
    await sends but must not block; its exceptions are logged. ``datagram`` is the decrypted RTP packet as
    it arrived (all header extensions, padding); ``packet`` is a :class:`TappedPacket`: aiortc's parse of it
    for the first packet of each SSRC, a lighter one with the same fields after that. Both come after aiortc

    - dropped packets with an unknown payload type or from an unknown RTX SSRC,
    - counted it for receiver reports (RR) and fed the NACK generator (video) and, unless ``aiortc_remb`` is
      false, the REMB estimator (video with abs-send-time),
    - unwrapped RTX: retransmissions arrive as the original packet (media SSRC, payload type and sequence
      number), possibly late and out of order; ``datagram`` is then rebuilt from the RTX one.

    ``packet.extensions`` holds abs-send-time, the audio level and mid (aiortc's parse: every extension
    it knows), parsed with the negotiated ids; anything else is in the datagram. The packet
    object is shared: copy before changing it. aiortc assembles no frames and decodes nothing for this
    receiver, and never sends a PLI for it on its own.

    ``on_remb(bitrate, media_ssrcs)``, if given, receives the REMBs aiortc's estimator makes (its estimate
    of the publisher's uplink) *instead of* their being sent, so that the caller can combine them with other
    feedback and send the result with :func:`send_remb`.
    """
    return RtpTap(receiver, on_rtp, aiortc_remb=aiortc_remb, on_remb=on_remb)


# --- Send side ----------------------------------------------------------------------------------------------


class SilentTrack(MediaStreamTrack):
    """A track that never yields a frame, for a sender whose RTP we send ourselves.

    With it the sender negotiates like any other (SSRC, RTX SSRC, msid) while its RTP loop sleeps in
    :meth:`recv` (with no track at all, aiortc polls every 20 ms). :meth:`recv` returns only by raising
    :class:`~aiortc.mediastreams.MediaStreamError` once the track is stopped.
    """

    def __init__(self, kind: str) -> None:
        if kind not in ("audio", "video"):
            raise ValueError(f"kind must be 'audio' or 'video', not {kind!r}")
        super().__init__()
        self.kind = kind
        self._stopped = asyncio.Event()

    async def recv(self) -> NoReturn:
        await self._stopped.wait()
        raise MediaStreamError

    def stop(self) -> None:
        super().stop()
        self._stopped.set()


class _SendPath:
    """One connection's way out for RTP, resolved once: its SRTP session and its nominated ICE pair.

    aiortc sends through four coroutines (``RTCDtlsTransport._send_rtp`` → ``RTCIceTransport._send`` →
    ``Connection.send`` → ``sendto`` → ``StunProtocol.send_data``) and pylibsrtp allocates per packet; this
    does the same work synchronously: copy the packet into the session's work buffer, ``srtp_protect``
    in place, and hand the result to the pair's datagram transport (a UDP socket, or aioice's TURN
    transport for a relayed pair). aiortc's transport byte and packet counters (``getStats`` of the
    transport) do not see these packets. A path holds while its DTLS transport is the sender's, still
    connected, with the same nominated pair (:meth:`RawRtpSender.send_now` checks this for every packet).
    """

    __slots__ = (
        "addr",
        "buffer",
        "cdata",
        "context",
        "dtls",
        "length",
        "limit",
        "nominated",
        "pairs",
        "sendto",
        "srtp",
    )

    def __init__(
        self, dtls: RTCDtlsTransport, pair: aioice.ice.CandidatePair, pairs: Mapping[int, object]
    ) -> None:
        srtp: pylibsrtp.Session = getattr(dtls, _DTLS_TX_SRTP)
        self.srtp = srtp
        self.dtls = dtls
        self.pairs = pairs
        self.nominated = pair
        self.sendto: Callable[[bytes, tuple[str, int]], None] = pair.protocol.transport.sendto
        self.addr: tuple[str, int] = pair.remote_addr
        self.context = getattr(srtp, _SRTP_CONTEXT)[0]
        self.cdata = getattr(srtp, _SRTP_CDATA)
        self.buffer = getattr(srtp, _SRTP_BUFFER)
        self.limit = len(self.buffer) - _SRTP_TRAILER
        self.length = _srtp_ffi.new("int *")

    @classmethod
    def resolve(cls, dtls: RTCDtlsTransport | None) -> _SendPath | None:
        """The path of a connected DTLS transport, or None while it is not (or no longer) connected."""
        if dtls is None or getattr(dtls, _DTLS_STATE) is not DtlsState.CONNECTED:
            return None
        ice: RTCIceTransport = dtls.transport
        connection = getattr(ice, _ICE_CONNECTION)
        _small_datagram_reads(connection)  # a subscriber's connection reads its RTCP the same way
        pairs: dict[int, aioice.ice.CandidatePair] = getattr(connection, _ICE_NOMINATED)
        pair = pairs.get(1)
        if pair is None or pair.protocol.transport is None:
            return None
        return cls(dtls, pair, pairs)


def _ntp_now() -> int:
    """The current time as a 64-bit NTP timestamp."""
    return int((time.time() + _NTP_UNIX_OFFSET) * (1 << 32))


class RawRtpSender:
    """Send prepared RTP packets to one subscriber through an :class:`~aiortc.RTCRtpSender`.

    Create it right after ``addTransceiver``/``addTrack`` and before the connection starts: it gives the
    sender a :class:`SilentTrack` (unless it has one) and notes the parameters the sender is started with.
    :meth:`send_now` protects the packet with the subscriber's SRTP session and sends it; for packets with
    the sender's own SSRC it also keeps the packet/octet counters and the NTP/RTP timestamp pair of the
    sender reports, and sends a report (with SDES) when one is due: right after the first packet, then every
    0.5-1.5 s while packets flow (aiortc's interval; its RTCP task, one timer per sender, is replaced by a
    stand-in that only says BYE when the sender stops). RTX packets (the RTX SSRC) are not counted, as in
    aiortc. aiortc's own NACK answering finds nothing to resend (its history stays empty):
    answer NACKs seen through :func:`observe_rtcp` with RTX instead.
    """

    def __init__(self, sender: RTCRtpSender, *, auto_report_clock: bool = True) -> None:
        _require(sender, "_ssrc", "_rtx_ssrc", _TX_STARTED, _TX_TRANSPORT, *_TX_COUNTERS, *_TX_REPORT_STATE)
        if getattr(sender, _TX_STARTED):
            raise RuntimeError(
                "create the RawRtpSender before the sender starts (right after addTransceiver)"
            )
        track: MediaStreamTrack | None = sender.track
        if track is None:
            sender.replaceTrack(SilentTrack(sender.kind))
        elif not isinstance(track, SilentTrack):
            raise ValueError("the sender already sends a real track; give it no track or a SilentTrack")
        self.sender = sender
        #: Our SSRC and RTX SSRC, as announced in SDP (fixed when the sender is created).
        self.ssrc: int = sender._ssrc
        self.rtx_ssrc: int = sender._rtx_ssrc
        self.negotiated: Negotiated | None = None
        self._auto_report_clock = auto_report_clock
        self._extensions = HeaderExtensionsMap()
        self._started: asyncio.Future[Negotiated] = asyncio.get_running_loop().create_future()
        self._original_send: Callable[[RTCRtpSendParameters], Awaitable[None]] = sender.send
        self._ssrc_bytes = self.ssrc.to_bytes(4, "big")
        self._path: _SendPath | None = None
        #: The sender's instance attributes, where its transport, its packet and octet counters and its
        #: report state live (read and written per packet as dict items, not through attribute access).
        self._fields: dict[str, Any] = vars(sender)
        self._last_timestamp: int | None = None
        #: When the next sender report is due (monotonic seconds): with the first packet sent.
        self._report_due = 0.0
        self._sdes: bytes | None = None  # the SDES (CNAME) that follows each report, built once
        setattr(sender, _SEND, self._send_parameters)
        setattr(sender, _TX_RUN_RTCP, self._run_rtcp)

    async def started(self) -> Negotiated:
        """Wait until the sender has started (DTLS connected); returns what was negotiated for it."""
        return await asyncio.shield(self._started)

    async def _send_parameters(self, parameters: RTCRtpSendParameters) -> None:
        await self._original_send(parameters)
        if not self._started.done():
            self._extensions.configure(parameters)
            self.negotiated = Negotiated.from_parameters(parameters, ssrc=self.ssrc, rtx_ssrc=self.rtx_ssrc)
            self._started.set_result(self.negotiated)

    def serialize(self, packet: RtpPacket) -> bytes:
        """Serialize ``packet`` with this subscriber's header-extension ids (others are left out)."""
        return packet.serialize(self._extensions)

    def send_now(self, data: bytes, payload_octets: int = -1) -> bool:
        """Encrypt and send one RTP packet at once; False (and nothing sent) when the connection is not up,
        the packet is too long for the SRTP buffer, or libsrtp refuses it.

        The per-packet path, in one function (it runs for every forwarded copy): no coroutine, no
        allocation beyond the encrypted copy. It copies the packet into the session's work buffer, encrypts
        it in place (``srtp_protect`` with a preallocated length cell) and hands the result to the nominated
        pair's datagram transport, as :class:`_SendPath` describes. ``payload_octets`` is for callers that
        know the packet carries the sender's own SSRC and how much of it is payload (the sender-report octet
        count); by default both are read from ``data``.
        """
        path = self._path
        fields = self._fields
        dtls = fields[_TX_TRANSPORT]  # sender.transport without the property's call
        if (
            path is None
            or dtls is not path.dtls
            or dtls._state is not _CONNECTED  # _DTLS_STATE, read directly: this runs for every packet
            or path.pairs.get(1) is not path.nominated
        ):
            path = self._path = _SendPath.resolve(dtls)
            if path is None:
                return False
        size = len(data)
        if size > path.limit:
            return False
        buffer = path.buffer
        buffer[0:size] = data
        length = path.length
        length[0] = size
        if _srtp_protect(path.context, path.cdata, length):
            return False
        path.sendto(buffer[0 : length[0]], path.addr)
        if payload_octets < 0:
            if data[8:12] != self._ssrc_bytes:
                return True  # RTX, or another stream: not in our sender reports
            padding = data[-1] if data[0] & 0x20 else 0
            payload_octets = max(0, len(data) - _header_length(data) - padding)
        # aiortc's getStats and our reports read the counters from the sender's own attributes
        fields[_TX_PACKET_COUNT] += 1
        fields[_TX_OCTET_COUNT] += payload_octets
        if self._auto_report_clock:
            timestamp = int.from_bytes(data[4:8], "big")
            if timestamp != self._last_timestamp:
                # Sent now: pair the first packet of each frame with the wall clock, as aiortc does.
                self._last_timestamp = timestamp
                self.set_report_clock(_ntp_now(), timestamp)
        now = time.monotonic()
        if now >= self._report_due:
            self._send_report(path, now)
        return True

    def _send_report(self, path: _SendPath, now: float) -> None:
        """A sender report (with SDES) now, as aiortc's RTCP task would send it, and the next one in 0.5-1.5 s
        (aiortc's interval). Sent from the packet path, so a sender that sends nothing sends no report,
        and one that starts again reports at once (its receiver gets the NTP/RTP pair for lip sync)."""
        self._report_due = now + 0.5 + random.random()
        fields = self._fields
        ntp_timestamp: int = fields[_TX_NTP_TIMESTAMP]
        rtp_timestamp: int = fields[_TX_RTP_TIMESTAMP]
        negotiated = self.negotiated
        if not self._auto_report_clock and ntp_timestamp and negotiated and negotiated.codecs:
            # The pair set with set_report_clock (e.g. the publisher's last SR) carried forward to now along
            # the same timeline: lip sync is the same, and each report has an NTP time of its own, so that
            # the receiver reports answering it are told apart (RTT: aiortc matches the last one sent).
            now_ntp = _ntp_now()
            elapsed = (now_ntp - ntp_timestamp) * negotiated.codecs[0].clockRate / (1 << 32)
            ntp_timestamp, rtp_timestamp = now_ntp, (rtp_timestamp + round(elapsed)) & 0xFFFFFFFF
        report = SenderReport(
            self.ssrc, ntp_timestamp, rtp_timestamp, fields[_TX_PACKET_COUNT], fields[_TX_OCTET_COUNT]
        )
        lsr, lsr_time, cname = _TX_REPORT_STATE[:3]
        fields[lsr] = (ntp_timestamp >> 16) & 0xFFFFFFFF
        fields[lsr_time] = time.time()
        name: str | None = fields[cname]
        if self._sdes is None and name is not None:  # set by send(): built once, then
            self._sdes = bytes(SourceDescription.cname(self.ssrc, name.encode()))
        try:
            protected = path.srtp.protect_rtcp(bytes(report) + (self._sdes or b""))
        except pylibsrtp.Error:
            logger.warning("sender report for SSRC %d not protected", self.ssrc)
            return
        path.sendto(protected, path.addr)

    async def _run_rtcp(self) -> None:
        """Stands in for aiortc's RTCP task (started by the sender's ``send()``, cancelled by ``stop()``):
        the reports go out from :meth:`send_now`; this says BYE when the sender stops, as aiortc's does."""
        fields = self._fields
        fields[_TX_RTCP_STARTED].set()
        with contextlib.suppress(asyncio.CancelledError):  # stop() cancels the task and waits for the end
            await asyncio.get_running_loop().create_future()
        await self.sender._send_rtcp([RtcpByePacket(sources=[self.ssrc])])
        fields[_TX_RTCP_EXITED].set()

    async def send(self, data: bytes) -> bool:
        """:meth:`send_now`, for callers in a coroutine."""
        return self.send_now(data)

    def set_report_clock(self, ntp_timestamp: int, rtp_timestamp: int) -> None:
        """Set the NTP/RTP timestamp pair for the next sender reports (e.g. from the publisher's SR)."""
        fields = self._fields
        fields[_TX_NTP_TIMESTAMP] = ntp_timestamp
        fields[_TX_RTP_TIMESTAMP] = rtp_timestamp


def set_stream_id(sender: RTCRtpSender, stream_id: str) -> None:
    """Announce the sender's track in the media stream ``stream_id`` (the first half of ``a=msid``).

    aiortc puts every sender of a peer connection into one stream with a random id. A forwarding server
    wants one stream per publisher: a browser pairs audio and video for lip sync within a stream, and
    ``RTCTrackEvent.streams[0].id`` then names the publisher. Takes effect in the next offer or answer.
    The id must be a non-empty SDP token (no spaces).
    """
    if not stream_id or any(char.isspace() for char in stream_id):
        raise ValueError(f"a stream id is a non-empty token without spaces, not {stream_id!r}")
    _require(sender, _TX_STREAM_ID)
    setattr(sender, _TX_STREAM_ID, stream_id)


# --- RTCP ---------------------------------------------------------------------------------------------------


def observe_rtcp(endpoint: RTCRtpSender | RTCRtpReceiver, on_rtcp: RtcpCallback) -> None:
    """Show ``on_rtcp`` every RTCP packet aiortc routes to this sender or receiver, before aiortc handles it.

    A sender gets the subscriber's feedback about its SSRC: PLI/FIR and NACK (``RtcpPsfbPacket`` /
    ``RtcpRtpfbPacket`` with ``media_ssrc`` = its SSRC), REMB listing its SSRC, receiver-report blocks. A
    receiver gets the publisher's SR and BYE. aiortc still handles each packet afterwards (round-trip time,
    remote statistics, LSR for receiver reports). Observers chain; errors are logged, not raised.
    """
    original: Callable[[AnyRtcpPacket], Awaitable[None]] = getattr(endpoint, _HANDLE_RTCP)

    async def handle(packet: AnyRtcpPacket) -> None:
        await _call(on_rtcp, packet)
        await original(packet)

    setattr(endpoint, _HANDLE_RTCP, handle)


async def send_rtcp(
    endpoint: RTCRtpSender | RTCRtpReceiver, packets: Sequence[AnyRtcpPacket] | bytes
) -> bool:
    """Send RTCP (one compound packet) over the endpoint's transport; False when it is not connected."""
    data = packets if isinstance(packets, bytes) else b"".join(bytes(packet) for packet in packets)
    try:
        await endpoint.transport._send_rtp(data)
    except ConnectionError:
        return False
    return True


def _rtcp_ssrc(receiver: RTCRtpReceiver) -> int:
    _require(receiver, _RX_RTCP_SSRC)
    ssrc: int | None = getattr(receiver, _RX_RTCP_SSRC)
    # RTCPeerConnection gives each receiver its transceiver's sender SSRC; a bare receiver has none.
    return ssrc if ssrc is not None else 0


async def request_keyframe(receiver: RTCRtpReceiver, media_ssrc: int) -> bool:
    """Send a PLI for ``media_ssrc`` to the publisher behind ``receiver``."""
    pli = RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=_rtcp_ssrc(receiver), media_ssrc=media_ssrc)
    return await send_rtcp(receiver, [pli])


async def send_remb(receiver: RTCRtpReceiver, bitrate: int, media_ssrcs: Sequence[int]) -> bool:
    """Send a REMB (receiver estimated maximum bitrate, bits/s) for ``media_ssrcs`` to the publisher."""
    if bitrate < 0:
        raise ValueError("bitrate must not be negative")
    remb = RtcpPsfbPacket(
        fmt=RTCP_PSFB_APP,
        ssrc=_rtcp_ssrc(receiver),
        media_ssrc=0,
        fci=pack_remb_fci(bitrate, list(media_ssrcs)),
    )
    return await send_rtcp(receiver, [remb])


# --- ICE ----------------------------------------------------------------------------------------------------

_announced: tuple[str, ...] | None = None


def _announced_host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    addresses = _announced or ()
    return [
        address
        for address in addresses
        if (use_ipv4 and ipaddress.ip_address(address).version == 4)
        or (use_ipv6 and ipaddress.ip_address(address).version == 6)
    ]


def announce_addresses(addresses: Iterable[str] | None) -> tuple[str, ...] | None:
    """Bind and announce ICE host candidates only on ``addresses``, process-wide; None restores aioice's own.

    aioice binds one UDP socket on an ephemeral port per address (and per ICE component) for each connection
    it gathers for and announces exactly those as host candidates; by default it takes every interface
    address except 127.0.0.1 and ::1. Loopback tests pass ``["127.0.0.1"]``; a server passes its configured
    address(es). Takes effect for connections that gather afterwards. Returns the previous setting.
    """
    global _announced
    previous = _announced
    if addresses is None:
        _announced = None
        setattr(aioice.ice, _GET_HOST_ADDRESSES, _ORIGINAL_GET_HOST_ADDRESSES)
        return previous
    normalized = tuple(str(ipaddress.ip_address(address)) for address in addresses)
    if not normalized:
        raise ValueError("announce at least one address (or None for aioice's default)")
    _announced = normalized
    setattr(aioice.ice, _GET_HOST_ADDRESSES, _announced_host_addresses)
    return previous


# --- ICE consent freshness (RFC 7675) -----------------------------------------------------------------------

CONSENT_INTERVAL: Final = 5.0  # seconds between checks, randomised by ±20 % (RFC 7675 §5.1: 4–6 s)
CONSENT_EXPIRY: Final = 30.0  # consent ends this long after the last answered check (RFC 7675 §5.1)
CONSENT_RETRANSMISSIONS: Final = 3  # aioice's RTO doubles from 0.5 s: answered within 7.5 s or failed
CONSENT_MIN_FAILED: Final = 3  # checks that must have failed since the last answer before consent ends


class _ConsentFreshness:
    """One aioice connection's consent checks, in place of ``Connection.query_consent``.

    aioice sends one check every 4–6 s without retransmission, waits 0.5 s for its answer and closes the
    connection after six unanswered checks in a row: a peer whose answers queue behind half a second of
    media (a server at full load, a phone on a slow network) is hung up on although it answers every check.
    Here each check is retransmitted and may be answered within 7.5 s, checks overlap, and consent ends as
    RFC 7675 says — 30 s after the last answer — once at least three checks sent since have failed (so a
    process that stalled for longer than that does not hang up on everyone the moment it wakes up, before
    the answers waiting in its sockets are read).
    """

    __slots__ = ("answered_at", "checks", "connection", "failed")

    def __init__(self, connection: aioice.ice.Connection) -> None:
        self.connection = connection
        self.answered_at = time.monotonic()
        self.failed = 0
        self.checks: set[asyncio.Future[Any]] = set()

    def _done(self, check: asyncio.Future[Any]) -> None:
        self.checks.discard(check)
        if check.cancelled():
            return
        if check.exception() is None:
            self.answered_at = time.monotonic()
            self.failed = 0
        else:  # no answer in time (TransactionError), or the socket went away
            self.failed += 1

    def expired(self) -> bool:
        return time.monotonic() - self.answered_at > CONSENT_EXPIRY and self.failed >= CONSENT_MIN_FAILED

    async def run(self) -> None:
        connection = self.connection
        password = connection.remote_password
        assert password is not None  # connect() starts the checks only once it has it
        key = password.encode("utf8")
        try:
            while True:
                await asyncio.sleep(CONSENT_INTERVAL * (0.8 + 0.4 * random.random()))
                if self.expired():
                    silent = time.monotonic() - self.answered_at
                    logger.info("ICE consent expired: no check answered for %.0f s", silent)
                    setattr(connection, _ICE_CONSENT_TASK, None)  # close() would wait for this very task
                    await connection.close()
                    return
                pairs: dict[int, aioice.ice.CandidatePair] = getattr(connection, _ICE_NOMINATED)
                for pair in list(pairs.values()):
                    check = asyncio.ensure_future(
                        pair.protocol.request(
                            connection.build_request(pair, nominate=False),
                            pair.remote_addr,
                            integrity_key=key,
                            retransmissions=CONSENT_RETRANSMISSIONS,
                        )
                    )
                    self.checks.add(check)
                    check.add_done_callback(self._done)
        finally:
            for pending in list(self.checks):
                pending.cancel()


def _consent_of(connection: aioice.ice.Connection) -> None:
    """Give an aioice connection the consent checks of :class:`_ConsentFreshness` (once)."""
    if _ICE_QUERY_CONSENT in vars(connection):
        return
    setattr(connection, _ICE_QUERY_CONSENT, lambda: _ConsentFreshness(connection).run())


def keep_consent(pc: aiortc.RTCPeerConnection) -> None:
    """Check ICE consent on ``pc``'s connections the RFC 7675 way (:class:`_ConsentFreshness`).

    Call it right after creating the peer connection: the checks are replaced when ICE starts checking,
    before a pair is nominated (aioice starts its own checks only then). The connections also get the
    synchronous receive path then (:class:`_ReceivePath`: datagrams too short to be anything are dropped,
    SRTP and SRTCP handled in the datagram callback), with or without taps."""

    @pc.on("iceconnectionstatechange")
    def on_ice_state() -> None:
        if pc.iceConnectionState != "checking":
            return
        for transceiver in pc.getTransceivers():
            dtls = transceiver.receiver.transport
            if dtls is not None:
                _require(dtls.transport, _ICE_CONNECTION)
                _consent_of(getattr(dtls.transport, _ICE_CONNECTION))
                _receive_path(dtls)  # short datagrams dropped, SRTCP in the callback, small reads
        if pc.sctp is not None:
            _consent_of(getattr(pc.sctp.transport.transport, _ICE_CONNECTION))


def rtc_configuration(ice_servers: Sequence[RTCIceServer] = ()) -> RTCConfiguration:
    """A peer-connection configuration with exactly these STUN/TURN servers and one transport (max-bundle).

    ``RTCConfiguration()`` without ``iceServers`` means aiortc's default public STUN server; this never does.
    aioice uses at most one STUN and one TURN server (the first of each).
    """
    return RTCConfiguration(iceServers=list(ice_servers), bundlePolicy=RTCBundlePolicy.MAX_BUNDLE)
