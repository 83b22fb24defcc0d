"""Answering a subscriber's NACKs: a cache of recently sent packets and RTX (RFC 4588) retransmissions.

One :class:`RetransmitCache` per subscriber sender. After rewriting a packet for the subscriber, the
forwarder stores the outgoing bytes (before SRTP) under their outgoing sequence number; a ring of 512
slots was enough for 2 % loss with no decode errors. A NACK is answered from the ring:

- cached → an RTX packet: the stored header with the RTX SSRC, RTX payload type and the RTX stream's own
  sequence number, then the original sequence number (2 bytes) and the original payload (RFC 4588 §4).
  Without negotiated RTX, the stored packet is resent as it was;
- not cached (too old, or never sent) → reported as missing: the caller falls back to a keyframe request,
  since the subscriber will not get that packet;
- resent less than ``min_interval`` ago → skipped: a receiver repeats its NACK until the retransmission
  arrives, and one RTT is how long that takes, so the caller should keep ``min_interval`` near the RTT.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable
from typing import NamedTuple

from media.rtp import HEADER_SIZE, RtpHeader

__all__ = ["NackAnswer", "RetransmitCache"]

_FIXED = struct.Struct("!BBHII")
_SEQ = struct.Struct("!H")


class NackAnswer(NamedTuple):
    """What to do about one NACK."""

    packets: list[bytes]
    """Retransmissions to send now, in the NACK's order."""
    missing: list[int]
    """NACKed sequence numbers the cache cannot answer: request a keyframe instead."""


class RetransmitCache:
    """Recently sent packets of one subscriber stream, by outgoing sequence number, and their RTX."""

    __slots__ = (
        "_mask",
        "_packets",
        "_resent_at",
        "_seqs",
        "_tails",
        "min_interval",
        "missed",
        "retransmitted",
        "rtx_payload_type",
        "rtx_seq",
        "rtx_ssrc",
        "suppressed",
    )

    def __init__(
        self,
        *,
        rtx_ssrc: int | None = None,
        rtx_payload_type: int | None = None,
        rtx_seq: int = 0,
        size: int = 512,
        min_interval: float = 0.1,
    ) -> None:
        if size <= 0 or size & (size - 1):
            raise ValueError(f"size must be a power of two, not {size}")
        if (rtx_ssrc is None) != (rtx_payload_type is None):
            raise ValueError("RTX needs both an SSRC and a payload type")
        self.rtx_ssrc = rtx_ssrc
        self.rtx_payload_type = rtx_payload_type
        self.rtx_seq = rtx_seq & 0xFFFF
        """The next RTX sequence number."""
        self.min_interval = min_interval
        """Least time, in seconds, between two retransmissions of the same packet."""
        self._mask = size - 1
        self._seqs = [-1] * size
        self._packets: list[bytes] = [b""] * size
        self._tails: list[bytes] = [b""] * size
        self._resent_at = [-math.inf] * size
        self.retransmitted = 0
        self.suppressed = 0
        self.missed = 0

    def store(self, seq: int, packet: bytes, tail: bytes = b"") -> None:
        """Remember an outgoing packet (plaintext RTP, as sent) under its sequence number.

        The packet may be given in two parts, ``packet + tail``: a forwarder that sends one publisher
        packet to several subscribers then keeps one copy of the payload (``tail``) for all of them.
        """
        slot = seq & self._mask
        self._seqs[slot] = seq
        self._packets[slot] = packet
        self._tails[slot] = tail
        self._resent_at[slot] = -math.inf

    def get(self, seq: int) -> bytes | None:
        """The stored packet with this sequence number, if still in the ring."""
        slot = seq & self._mask
        return self._packets[slot] + self._tails[slot] if self._seqs[slot] == seq else None

    def answer(self, lost: Iterable[int], now: float) -> NackAnswer:
        """Retransmissions for the NACKed sequence numbers, and the ones that cannot be answered."""
        packets: list[bytes] = []
        missing: list[int] = []
        for seq in lost:
            slot = seq & self._mask
            if self._seqs[slot] != seq:
                missing.append(seq)
                continue
            if now - self._resent_at[slot] < self.min_interval:
                self.suppressed += 1
                continue
            self._resent_at[slot] = now
            packets.append(self._rtx(self._packets[slot] + self._tails[slot]))
        self.retransmitted += len(packets)
        self.missed += len(missing)
        return NackAnswer(packets, missing)

    def _rtx(self, packet: bytes) -> bytes:
        if self.rtx_ssrc is None or self.rtx_payload_type is None:
            return packet
        header = RtpHeader(packet)
        offset = header.payload_offset
        seq = self.rtx_seq
        self.rtx_seq = (seq + 1) & 0xFFFF
        head = _FIXED.pack(
            packet[0],
            (packet[1] & 0x80) | self.rtx_payload_type,
            seq,
            header.timestamp,
            self.rtx_ssrc,
        )
        return b"".join(
            (head, packet[HEADER_SIZE:offset], _SEQ.pack(header.sequence_number), packet[offset:])
        )
