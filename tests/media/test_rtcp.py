"""media.rtcp: round trips of every packet type, aiortc as an oracle both ways, malformed input."""

from __future__ import annotations

import contextlib
import random
import struct

import pytest
from aiortc import rtp as aiortc_rtp

from media.rtcp import (
    Bye,
    Fir,
    FirEntry,
    Nack,
    Pli,
    ReceiverReport,
    Remb,
    ReportBlock,
    RtcpPacket,
    SdesChunk,
    SenderReport,
    SourceDescription,
    UnknownRtcp,
    is_rtcp,
    nack_pairs,
    ntp_from_unix,
    ntp_middle,
    ntp_to_unix,
    parse_rtcp,
    round_trip_time,
)
from media.rtp import MalformedPacket

SEED = 5104
BLOCK = ReportBlock(
    0xCAFE, fraction_lost=12, packets_lost=-3, highest_sequence=70000, jitter=9, lsr=5, dlsr=6
)
EXAMPLES: dict[str, RtcpPacket] = {
    "SR": SenderReport(1, ntp_from_unix(1_772_413_200.25), 90000, 12, 3400, (BLOCK, ReportBlock(7))),
    "SR without blocks": SenderReport(1, 2, 3, 4, 5),
    "RR": ReceiverReport(9, (BLOCK,)),
    "RR without blocks": ReceiverReport(9),
    "SDES": SourceDescription(
        (SdesChunk(1, ((1, b"cname@x"), (2, b"name"))), SdesChunk(2, ((1, b"abc"),)), SdesChunk(3))
    ),
    "BYE": Bye((1, 2, 3)),
    "BYE with reason": Bye((4,), b"bye now"),
    "BYE without sources": Bye(),
    "NACK": Nack(1, 2, (100, 101, 116, 117, 200)),
    "NACK across wrap": Nack(1, 2, (65534, 65535, 0, 3, 20)),
    "PLI": Pli(1, 2),
    "FIR": Fir(1, (FirEntry(2, 7), FirEntry(3, 255))),
    "REMB": Remb(1, 1_500_000, (2, 3)),
    "REMB without SSRCs": Remb(1, 300),
    "transport-cc": UnknownRtcp(205, 15, struct.pack("!II", 1, 2) + bytes(8)),
    "APP": UnknownRtcp(204, 3, struct.pack("!I", 1) + b"NAME" + b"data"),
    "PSFB app that is not REMB": UnknownRtcp(206, 15, struct.pack("!II", 1, 0) + b"ABCD"),
    "SLI": UnknownRtcp(206, 2, struct.pack("!III", 1, 2, 3)),
}


@pytest.mark.parametrize("packet", EXAMPLES.values(), ids=EXAMPLES.keys())
def test_every_packet_type_round_trips(packet: RtcpPacket) -> None:
    data = bytes(packet)
    assert len(data) % 4 == 0
    assert parse_rtcp(data) == [packet]
    assert is_rtcp(data)


def test_compound_round_trips() -> None:
    packets = list(EXAMPLES.values())
    assert parse_rtcp(b"".join(map(bytes, packets))) == packets


def test_remb_bitrate_keeps_18_significant_bits() -> None:
    [exact] = parse_rtcp(bytes(Remb(1, (1 << 18) - 1)))
    assert isinstance(exact, Remb)
    assert exact.bitrate == (1 << 18) - 1
    [rounded] = parse_rtcp(bytes(Remb(1, 2_500_001)))
    assert isinstance(rounded, Remb)
    assert 2_500_001 - 16 < rounded.bitrate <= 2_500_001


def test_sdes_cname_helper() -> None:
    [sdes] = parse_rtcp(bytes(SourceDescription.cname(5, b"{cname}")))
    assert isinstance(sdes, SourceDescription)
    assert sdes.chunks[0].ssrc == 5
    assert sdes.chunks[0].cname == b"{cname}"
    assert SdesChunk(1, ((2, b"name"),)).cname is None


def test_nack_pairs() -> None:
    assert nack_pairs([]) == []
    assert nack_pairs([5]) == [(5, 0)]
    assert nack_pairs([5, 6, 21]) == [(5, 0b1000000000000001)]
    assert nack_pairs([5, 22]) == [(5, 0), (22, 0)]
    assert nack_pairs([65534, 65535, 0, 3]) == [(65534, 0b10011)]
    assert nack_pairs([3, 0, 65535, 65534, 3]) == [(65534, 0b10011)]
    rng = random.Random(SEED)
    for _ in range(300):
        base = rng.randrange(1 << 16)
        seqs = {(base + rng.randrange(200)) & 0xFFFF for _ in range(rng.randrange(1, 40))}
        [nack] = parse_rtcp(bytes(Nack(1, 2, tuple(seqs))))
        assert isinstance(nack, Nack)
        assert sorted(nack.lost) == sorted(seqs)
        assert len(nack.lost) == len(seqs)


def random_block(rng: random.Random) -> ReportBlock:
    return ReportBlock(
        ssrc=rng.randrange(1 << 32),
        fraction_lost=rng.randrange(256),
        packets_lost=rng.randrange(-(1 << 23), 1 << 23),
        highest_sequence=rng.randrange(1 << 32),
        jitter=rng.randrange(1 << 32),
        lsr=rng.randrange(1 << 32),
        dlsr=rng.randrange(1 << 32),
    )


def to_aiortc_block(block: ReportBlock) -> aiortc_rtp.RtcpReceiverInfo:
    return aiortc_rtp.RtcpReceiverInfo(
        ssrc=block.ssrc,
        fraction_lost=block.fraction_lost,
        packets_lost=block.packets_lost,
        highest_sequence=block.highest_sequence,
        jitter=block.jitter,
        lsr=block.lsr,
        dlsr=block.dlsr,
    )


def random_pair(rng: random.Random) -> tuple[RtcpPacket, object]:
    """One random packet of a type both parsers decode: ours, and aiortc's equivalent."""
    ssrc, media = rng.randrange(1 << 32), rng.randrange(1 << 32)
    kind = rng.randrange(8)
    if kind == 0:
        blocks = tuple(random_block(rng) for _ in range(rng.randrange(4)))
        ntp, rtp_ts, count, octets = (rng.randrange(1 << 64), *(rng.randrange(1 << 32) for _ in range(3)))
        info = aiortc_rtp.RtcpSenderInfo(ntp, rtp_ts, count, octets)
        return SenderReport(ssrc, ntp, rtp_ts, count, octets, blocks), aiortc_rtp.RtcpSrPacket(
            ssrc, info, [to_aiortc_block(b) for b in blocks]
        )
    if kind == 1:
        blocks = tuple(random_block(rng) for _ in range(rng.randrange(4)))
        return ReceiverReport(ssrc, blocks), aiortc_rtp.RtcpRrPacket(
            ssrc, [to_aiortc_block(b) for b in blocks]
        )
    if kind == 2:
        items = tuple(
            (rng.randrange(1, 9), rng.randbytes(rng.randrange(0, 40))) for _ in range(rng.randrange(1, 4))
        )
        return SourceDescription((SdesChunk(ssrc, items),)), aiortc_rtp.RtcpSdesPacket(
            [aiortc_rtp.RtcpSourceInfo(ssrc, list(items))]
        )
    if kind == 3:
        sources = tuple(rng.randrange(1 << 32) for _ in range(rng.randrange(1, 5)))
        return Bye(sources), aiortc_rtp.RtcpByePacket(list(sources))
    if kind == 4:
        base = rng.randrange(60000)
        lost = tuple(sorted({base + rng.randrange(100) for _ in range(rng.randrange(1, 30))}))
        return Nack(ssrc, media, lost), aiortc_rtp.RtcpRtpfbPacket(1, ssrc, media, list(lost))
    if kind == 5:
        return Pli(ssrc, media), aiortc_rtp.RtcpPsfbPacket(1, ssrc, media)
    if kind == 6:
        entries = tuple(
            FirEntry(rng.randrange(1 << 32), rng.randrange(256)) for _ in range(rng.randrange(1, 4))
        )
        fci = b"".join(struct.pack("!IB3x", *entry) for entry in entries)
        return Fir(ssrc, entries), aiortc_rtp.RtcpPsfbPacket(4, ssrc, 0, fci)
    bitrate = rng.randrange(1 << 18) << rng.randrange(20)
    ssrcs = tuple(rng.randrange(1 << 32) for _ in range(rng.randrange(4)))
    fci = aiortc_rtp.pack_remb_fci(bitrate, list(ssrcs))
    return Remb(ssrc, bitrate, ssrcs), aiortc_rtp.RtcpPsfbPacket(15, ssrc, 0, fci)


def test_aiortc_and_we_read_each_others_bytes() -> None:
    rng = random.Random(SEED + 1)
    for _ in range(100):
        pairs = [random_pair(rng) for _ in range(rng.randrange(1, 5))]
        ours = [packet for packet, _ in pairs]
        theirs_bytes = b"".join(bytes(theirs) for _, theirs in pairs)  # type: ignore[call-overload]
        ours_bytes = b"".join(map(bytes, ours))
        if not any(isinstance(packet, SourceDescription) for packet in ours):
            assert ours_bytes == theirs_bytes  # aiortc may end an SDES chunk with one word more of nulls
        assert parse_rtcp(theirs_bytes) == ours
        for packet, oracle in zip(ours, aiortc_rtp.RtcpPacket.parse(ours_bytes), strict=True):
            assert_equivalent(packet, oracle)


def assert_equivalent(packet: RtcpPacket, oracle: object) -> None:
    if isinstance(packet, SenderReport | ReceiverReport):
        assert oracle.ssrc == packet.ssrc  # type: ignore[attr-defined]
        assert [to_aiortc_block(b) for b in packet.reports] == oracle.reports  # type: ignore[attr-defined]
    if isinstance(packet, SenderReport):
        info = oracle.sender_info  # type: ignore[attr-defined]
        assert (info.ntp_timestamp, info.rtp_timestamp, info.packet_count, info.octet_count) == (
            packet.ntp_timestamp,
            packet.rtp_timestamp,
            packet.packet_count,
            packet.octet_count,
        )
    elif isinstance(packet, SourceDescription):
        assert [(c.ssrc, list(c.items)) for c in packet.chunks] == [(c.ssrc, c.items) for c in oracle.chunks]  # type: ignore[attr-defined]
    elif isinstance(packet, Bye):
        assert list(packet.sources) == oracle.sources  # type: ignore[attr-defined]
    elif isinstance(packet, Nack):
        assert (packet.sender_ssrc, packet.media_ssrc) == (oracle.ssrc, oracle.media_ssrc)  # type: ignore[attr-defined]
        assert sorted(packet.lost) == sorted(seq & 0xFFFF for seq in oracle.lost)  # type: ignore[attr-defined]
    elif isinstance(packet, Pli | Fir):
        assert oracle.fmt == (1 if isinstance(packet, Pli) else 4)  # type: ignore[attr-defined]
        assert (packet.sender_ssrc, packet.media_ssrc) == (oracle.ssrc, oracle.media_ssrc)  # type: ignore[attr-defined]
    elif isinstance(packet, Remb):
        assert aiortc_rtp.unpack_remb_fci(oracle.fci) == (packet.bitrate, list(packet.ssrcs))  # type: ignore[attr-defined]


def raw(packet_type: int, count: int, body: bytes, *, padding: bool = False) -> bytes:
    return struct.pack("!BBH", 0x80 | (0x20 if padding else 0) | count, packet_type, len(body) // 4) + body


MALFORMED = {
    "empty": b"",
    "truncated header": bytes(Pli(1, 2))[:3],
    "version 1": b"\x41" + bytes(Pli(1, 2))[1:],
    "length overruns": bytes(Pli(1, 2))[:-4],
    "second packet truncated": bytes(Pli(1, 2)) + bytes(Pli(1, 2))[:6],
    "padding count 0": raw(206, 1, bytes(8), padding=True),
    "padding longer than body": raw(206, 1, bytes(7) + b"\x09", padding=True),
    "padding without body": raw(206, 1, b"", padding=True),
    "SR shorter than its count": raw(200, 1, bytes(24)),
    "SR shorter than sender info": raw(200, 0, bytes(20)),
    "RR shorter than its count": raw(201, 2, bytes(28)),
    "SDES chunk truncated": raw(202, 2, bytes(struct.pack("!I", 1)) + b"\x01\x01a\x00"),
    "SDES without terminator": raw(202, 1, struct.pack("!I", 1) + b"\x01\x02ab"),
    "SDES item overrun": raw(202, 1, struct.pack("!I", 1) + b"\x01\x09ab"),
    "BYE shorter than its count": raw(203, 2, bytes(4)),
    "BYE reason overrun": raw(203, 1, bytes(4) + b"\x09abc"),
    "NACK shorter than SSRCs": raw(205, 1, bytes(4)),
    "NACK of odd length": raw(205, 1, bytes(12) + b"\x00\x00\x00\x02", padding=True),
    "PLI shorter than SSRCs": raw(206, 1, bytes(4)),
    "FIR entry truncated": raw(206, 4, bytes(12)),
    "REMB truncated": raw(206, 15, bytes(8) + b"REMB"),
    "REMB shorter than its SSRC count": raw(206, 15, bytes(8) + b"REMB\x02\x00\x00\x01" + bytes(4)),
}


@pytest.mark.parametrize("data", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_rtcp_raises(data: bytes) -> None:
    with pytest.raises(MalformedPacket):
        parse_rtcp(data)


def test_padding_is_stripped() -> None:
    body = struct.pack("!II", 1, 2) + b"\x00\x00\x00\x04"
    assert parse_rtcp(raw(206, 1, body, padding=True)) == [Pli(1, 2)]


def test_sr_profile_extension_after_the_blocks_is_ignored() -> None:
    report = SenderReport(1, 2, 3, 4, 5, (BLOCK,))
    data = bytes(report)
    extended = struct.pack("!BBH", data[0], data[1], len(data) // 4) + data[4:] + b"ext!"
    assert parse_rtcp(extended) == [report]


def test_truncated_and_corrupted_compounds_raise_only_malformed_packet() -> None:
    rng = random.Random(SEED + 2)
    for _ in range(150):
        data = b"".join(bytes(random_pair(rng)[0]) for _ in range(rng.randrange(1, 4)))
        candidates = [data[:cut] for cut in range(0, len(data), 3)]
        for _ in range(20):
            corrupted = bytearray(data)
            corrupted[rng.randrange(len(data))] = rng.randrange(256)
            candidates.append(bytes(corrupted))
        for candidate in candidates:
            with contextlib.suppress(MalformedPacket):
                parse_rtcp(candidate)


def test_is_rtcp_demultiplexes_by_the_second_byte() -> None:
    assert is_rtcp(bytes(Pli(1, 2)))
    assert not is_rtcp(b"\x80\x60" + bytes(10))  # RTP, payload type 96
    assert not is_rtcp(b"\x80\xe0" + bytes(10))  # RTP, payload type 96 with the marker bit
    assert not is_rtcp(b"\x80")


def test_ntp_helpers_and_round_trip_time() -> None:
    now = 1_772_413_200.5
    ntp = ntp_from_unix(now)
    assert ntp >> 32 == 1_772_413_200 + 2_208_988_800
    assert ntp & 0xFFFFFFFF == 1 << 31
    assert ntp_to_unix(ntp) == pytest.approx(now, abs=1e-6)
    sent = ntp_from_unix(now - 0.25)
    block = ReportBlock(1, lsr=ntp_middle(sent), dlsr=int(0.05 * 65536))
    rtt = round_trip_time(block, ntp)
    assert rtt == pytest.approx(0.2, abs=1e-3)
    assert round_trip_time(ReportBlock(1), ntp) is None
    assert round_trip_time(ReportBlock(1, lsr=ntp_middle(ntp), dlsr=10), ntp) == 0.0
