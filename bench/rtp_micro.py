"""Micro-benchmark of the per-packet media building blocks: µs per operation, best of several runs.

Each figure is the fastest of ``--repeat`` runs of ``--number`` calls, so it estimates the cost on an idle
core; a loaded machine shows larger and noisier numbers. aiortc's own parser and serialiser are timed on the
same packet for comparison.

    python -m bench.rtp_micro [--number 100000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import itertools
import struct
import timeit
from collections.abc import Callable

from aiortc.rtp import RtpPacket

from media.codecs import h264_is_keyframe, vp8_is_keyframe
from media.keyframes import KeyframeRelay
from media.retransmit import RetransmitCache
from media.rewrite import StreamRewriter, Vp8PictureIdRewriter
from media.rtcp import Nack, SenderReport, SourceDescription, parse_rtcp
from media.rtp import RtpHeader, abs_send_time, encode_extensions, rewrite

__all__ = ["main"]

PAYLOAD = 1100
ABS_SEND_TIME = b"\x12\x34\x56"


def vp8_packet(seq: int = 1000) -> bytes:
    """A 1,100-byte-payload VP8 packet with mid and abs-send-time (one-byte form), as a browser sends it."""
    extensions = encode_extensions({4: b"0", 2: ABS_SEND_TIME})
    descriptor = bytes((0x90, 0x80, 0x80 | 0x12, 0x34))  # X, S; I with a 15-bit picture id
    vp8_header = b"\x10\x02\x00\x9d\x01\x2a"  # P=0: a keyframe
    payload = descriptor + vp8_header + bytes(PAYLOAD - len(descriptor) - len(vp8_header))
    return struct.pack("!BBHII", 0x90, 0x80 | 96, seq, 123456, 0x11223344) + extensions + payload


def h264_fu_a() -> bytes:
    return bytes((0x7C, 0x85, 0x88)) + bytes(PAYLOAD)


def cases() -> dict[str, tuple[str, dict[str, object]]]:
    packet = vp8_packet()
    header = RtpHeader.parse(packet)
    start, end = header.payload_offset, header.payload_end
    rewriter = StreamRewriter(video=True, clock_rate=90000, initial_seq=1, initial_timestamp=1)
    rewriter.forward(0x11223344, 0, 123456, 0.0, keyframe=True)
    cache = RetransmitCache(rtx_ssrc=5, rtx_payload_type=97)
    for seq in range(512):
        cache.store(seq, packet)
    compound = bytes(SenderReport(1, 2, 3, 4, 5)) + bytes(SourceDescription.cname(1, b"x" * 16))
    # What media.forwarder.OutSlot builds per packet: the subscriber's block around abs-send-time, prebuilt.
    head = struct.pack("!HHB", 0xBEDE, 2, (3 << 4) | 2)
    tail = bytes(((4 << 4) | 0,)) + b"1" + bytes(2)
    names: dict[str, object] = {
        "packet": packet,
        "fu_a": h264_fu_a(),
        "header": header,
        "start": start,
        "end": end,
        "rewriter": rewriter,
        "ids": Vp8PictureIdRewriter(),
        "cache": cache,
        "relay": KeyframeRelay(),
        "compound": compound,
        "nack": Nack(1, 2, (100, 101, 105, 130)),
        "seqs": itertools.cycle(range(1, 65536)),
        "now": itertools.count(0, 0.001),
        "aiortc_packet": RtpPacket.parse(packet),
        "fixed": struct.Struct("!BBHII"),
        "head": head,
        "tail": tail,
        "payload_tail": packet[header.payload_offset :],
        "ast": ABS_SEND_TIME,
        **{
            f.__name__: f
            for f in (RtpHeader, rewrite, abs_send_time, vp8_is_keyframe, h264_is_keyframe, parse_rtcp)
        },
        "RtpPacket": RtpPacket,
    }
    return {
        "RTP parse (RtpHeader(data))": ("RtpHeader(packet)", names),
        "RTP parse (RtpHeader.parse(data))": ("RtpHeader.parse(packet)", names),
        "RTP extensions() of a parsed header": ("header.extensions()", names),
        "RTP rewrite, no extensions": ("rewrite(packet, ssrc=7, seq=8, timestamp=9)", names),
        "RTP rewrite with mid + abs-send-time": (
            "rewrite(packet, ssrc=7, seq=8, timestamp=9, extensions={3: b'1', 2: abs_send_time(0.5)})",
            names,
        ),
        "RTP forwarded copy, prebuilt block (forwarder)": (
            "b''.join((fixed.pack(0x90, 0x80 | 96, 8, 9, 7), b'', head, ast, tail, payload_tail))",
            names,
        ),
        "VP8 keyframe check": ("vp8_is_keyframe(packet, start, end)", names),
        "H.264 keyframe check (FU-A)": ("h264_is_keyframe(fu_a)", names),
        "StreamRewriter.forward, in segment": (
            "rewriter.forward(0x11223344, next(seqs), 123456, 0.0)",
            names,
        ),
        "Vp8PictureIdRewriter.rewrite, pass-through": (
            "ids.rewrite(packet, start, end, segment_start=False)",
            names,
        ),
        "NACK cache insert (RetransmitCache.store)": ("cache.store(next(seqs) & 511, packet)", names),
        "NACK answer, one RTX packet": ("cache.answer((next(seqs) & 511,), next(now))", names),
        "KeyframeRelay.request": ("relay.request(next(now))", names),
        "RTCP parse, SR + SDES": ("parse_rtcp(compound)", names),
        "RTCP build NACK": ("bytes(nack)", names),
        "aiortc RtpPacket.parse (reference)": ("RtpPacket.parse(packet)", names),
        "aiortc RtpPacket.serialize (reference)": ("aiortc_packet.serialize()", names),
    }


def measure(statement: str, names: dict[str, object], number: int, repeat: int) -> float:
    """Microseconds per execution of ``statement``, best of ``repeat`` runs."""
    timer = timeit.Timer(statement, globals=names)
    return min(timer.repeat(repeat=repeat, number=number)) / number * 1e6


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--number", type=int, default=100_000, help="calls per run")
    parser.add_argument("--repeat", type=int, default=5, help="runs; the fastest counts")
    args = parser.parse_args(argv)
    results: dict[str, float] = {}
    width = max(map(len, cases()))
    out(f"{'operation':<{width}}  µs/op")
    for name, (statement, names) in cases().items():
        results[name] = measure(statement, names, args.number, args.repeat)
        out(f"{name:<{width}}  {results[name]:6.3f}")
    return results


if __name__ == "__main__":
    main()
