"""media.retransmit: RTX packets parse back to the original, misses are reported, repeats rate-limited."""

from __future__ import annotations

import pytest
from aiortc.rtp import RtpPacket, unwrap_rtx

from media.retransmit import NackAnswer, RetransmitCache
from media.rtp import ONE_BYTE_PROFILE, RtpHeader
from tests.media.packets import RtpSpec, build_rtp

RTX_SSRC = 0x5EED
RTX_PT = 97


def sent_packet(seq: int, **changes: object) -> bytes:
    spec = RtpSpec(
        seq=seq,
        timestamp=90000 + seq,
        ssrc=0x1234,
        marker=seq % 3 == 0,
        extension_profile=ONE_BYTE_PROFILE,
        extensions=[(1, b"0"), (3, b"\x01\x02\x03")],
        payload=b"payload of %d" % seq,
    )
    for name, value in changes.items():
        setattr(spec, name, value)
    return build_rtp(spec)


def cache(**options: object) -> RetransmitCache:
    return RetransmitCache(rtx_ssrc=RTX_SSRC, rtx_payload_type=RTX_PT, rtx_seq=65535, **options)  # type: ignore[arg-type]


def test_rtx_packet_format_parses_back_to_the_original() -> None:
    retransmit = cache()
    originals = {seq: sent_packet(seq) for seq in (65534, 65535, 0, 1)}
    for seq, packet in originals.items():
        retransmit.store(seq, packet)
    answer = retransmit.answer([65535, 0], now=1.0)
    assert answer.missing == []
    assert len(answer.packets) == 2
    for rtx_seq, (seq, rtx) in zip((65535, 0), zip((65535, 0), answer.packets, strict=True), strict=True):
        header = RtpHeader.parse(rtx)
        original = RtpHeader.parse(originals[seq])
        assert (header.ssrc, header.payload_type, header.sequence_number) == (RTX_SSRC, RTX_PT, rtx_seq)
        assert header.timestamp == original.timestamp
        assert header.marker == original.marker
        assert header.extensions() == original.extensions()
        assert header.payload == seq.to_bytes(2, "big") + original.payload
        oracle = unwrap_rtx(RtpPacket.parse(rtx), payload_type=96, ssrc=0x1234)
        assert (oracle.sequence_number, oracle.payload) == (seq, original.payload)
        assert oracle.timestamp == original.timestamp
    assert retransmit.rtx_seq == 1


def test_rtx_keeps_csrcs_and_padding() -> None:
    retransmit = cache()
    packet = sent_packet(7, csrcs=[11, 22], padding=5)
    retransmit.store(7, packet)
    [rtx] = retransmit.answer([7], now=0.0).packets
    header = RtpHeader.parse(rtx)
    assert header.csrcs() == (11, 22)
    assert header.padding_size == 5
    assert header.payload == b"\x00\x07" + RtpHeader.parse(packet).payload


def test_without_rtx_the_stored_packet_is_resent() -> None:
    retransmit = RetransmitCache()
    packet = sent_packet(9)
    retransmit.store(9, packet)
    assert retransmit.answer([9], now=0.0) == NackAnswer([packet], [])


def test_missing_packets_are_reported_for_a_pli() -> None:
    retransmit = cache()
    for seq in range(1000, 1600):
        retransmit.store(seq & 0xFFFF, sent_packet(seq))
    answer = retransmit.answer([1000, 1087, 1088, 1599, 1600], now=0.0)
    assert answer.missing == [1000, 1087, 1600]  # evicted by 512 newer packets, or never sent
    assert [RtpHeader.parse(p).payload[:2] for p in answer.packets] == [b"\x04\x40", b"\x06\x3f"]
    assert retransmit.get(1088) == sent_packet(1088)
    assert retransmit.get(1087) is None
    assert (retransmit.retransmitted, retransmit.missed) == (2, 3)


def test_repeated_nacks_within_the_interval_are_suppressed() -> None:
    retransmit = cache(min_interval=0.1)
    retransmit.store(5, sent_packet(5))
    assert len(retransmit.answer([5, 5], now=1.0).packets) == 1
    assert retransmit.answer([5], now=1.05) == NackAnswer([], [])
    assert len(retransmit.answer([5], now=1.1).packets) == 1
    assert retransmit.suppressed == 2
    retransmit.store(5, sent_packet(5, payload=b"65536 later"))  # a new packet may be resent at once
    assert len(retransmit.answer([5], now=1.11).packets) == 1


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="power of two"):
        RetransmitCache(size=500)
    with pytest.raises(ValueError, match="both"):
        RetransmitCache(rtx_ssrc=1)
