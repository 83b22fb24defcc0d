"""media.rewrite: keyframe gating, continuity across mute/resume and SSRC changes, reordering, NACK map."""

from __future__ import annotations

import random

import pytest

from media.codecs import Vp8Descriptor
from media.rewrite import Drop, Forward, RewriterState, StreamRewriter, Vp8PictureIdRewriter
from media.rtp import RtpHeader, rewrite, seq_diff, ts_diff
from tests.media.packets import RtpSpec, build_rtp

A = 0xAAAA0001
B = 0xBBBB0002
FRAME = 3000  # 90 kHz at 30 fps
FPS = 30


def video(initial_seq: int = 100, initial_timestamp: int = 5000) -> StreamRewriter:
    return StreamRewriter(
        video=True, clock_rate=90000, initial_seq=initial_seq, initial_timestamp=initial_timestamp
    )


def audio(initial_seq: int = 100, initial_timestamp: int = 5000) -> StreamRewriter:
    return StreamRewriter(
        video=False, clock_rate=48000, initial_seq=initial_seq, initial_timestamp=initial_timestamp
    )


def state(rewriter: StreamRewriter) -> RewriterState:
    return rewriter.state  # a call, so that mypy does not narrow it from one assertion to the next


def forwarded(verdict: Forward | Drop) -> Forward:
    assert isinstance(verdict, Forward), verdict
    return verdict


def test_video_starts_only_at_a_keyframe() -> None:
    rewriter = video()
    assert state(rewriter) is RewriterState.WAITING
    assert rewriter.awaiting_keyframe(A)
    for seq in range(1000, 1005):
        assert rewriter.forward(A, seq, 90000 + seq * 10, now=1.0) is Drop.NEED_KEYFRAME
    assert rewriter.last_seq is None
    assert rewriter.forward(A, 1005, 777, now=1.0, keyframe=True) == Forward(100, 5000, True)
    assert state(rewriter) is RewriterState.FORWARDING
    assert not rewriter.awaiting_keyframe(A)
    assert rewriter.forward(A, 1006, 777, now=1.0) == Forward(101, 5000, False)
    assert rewriter.forward(A, 1007, 777 + FRAME, now=1.03) == Forward(102, 5000 + FRAME, False)
    assert rewriter.forward(A, 1004, 777 - FRAME, now=1.03) is Drop.TOO_OLD
    assert rewriter.last_seq == 102
    assert rewriter.ssrc == A


def test_audio_starts_at_any_packet_and_ignores_keyframe_flags() -> None:
    rewriter = audio()
    assert not rewriter.awaiting_keyframe(A)
    assert rewriter.forward(A, 7, 960, now=0.0) == Forward(100, 5000, True)
    assert rewriter.forward(A, 8, 1920, now=0.02) == Forward(101, 5960, False)


def test_sequence_numbers_and_timestamps_wrap() -> None:
    rewriter = video(initial_seq=65534, initial_timestamp=(1 << 32) - FRAME)
    seq, ts = 65533, (1 << 32) - 2 * FRAME
    out = [forwarded(rewriter.forward(A, seq, ts, now=0.0, keyframe=True))]
    for i in range(1, 6):
        out.append(
            forwarded(rewriter.forward(A, (seq + i) & 0xFFFF, (ts + i * FRAME) & 0xFFFFFFFF, now=i / FPS))
        )
    assert [f.seq for f in out] == [65534, 65535, 0, 1, 2, 3]
    assert [f.timestamp for f in out] == [(1 << 32) - FRAME + i * FRAME & 0xFFFFFFFF for i in range(6)]


def test_reordering_and_duplicates() -> None:
    rewriter = video()
    assert forwarded(rewriter.forward(A, 10, 0, now=0.0, keyframe=True)).seq == 100
    assert forwarded(rewriter.forward(A, 12, FRAME, now=0.0)).seq == 102
    assert rewriter.forward(A, 12, FRAME, now=0.0) is Drop.DUPLICATE
    late = forwarded(rewriter.forward(A, 11, 0, now=0.0))
    assert late == Forward(101, 5000, False)
    assert rewriter.forward(A, 11, 0, now=0.0) is Drop.DUPLICATE
    assert rewriter.forward(A, 10, 0, now=0.0) is Drop.DUPLICATE
    assert rewriter.last_seq == 102
    for seq in range(13, 13 + 600):
        forwarded(rewriter.forward(A, seq, FRAME, now=0.0))
    newest = 13 + 600 - 1
    assert rewriter.forward(A, newest - 512, FRAME, now=0.0) is Drop.TOO_OLD
    assert rewriter.forward(A, newest - 511, FRAME, now=0.0) is Drop.DUPLICATE


def run_frames(
    rewriter: StreamRewriter, ssrc: int, seq: int, ts: int, now: float, frames: int, *, keyframe_first: bool
) -> tuple[int, int, float, list[Forward | Drop]]:
    """Feed ``frames`` one-packet frames at 30 fps; returns the next seq, ts, time and the verdicts."""
    verdicts = []
    for i in range(frames):
        verdicts.append(rewriter.forward(ssrc, seq, ts, now, keyframe=keyframe_first and i == 0))
        seq, ts, now = (seq + 1) & 0xFFFF, (ts + FRAME) & 0xFFFFFFFF, now + 1 / FPS
    return seq, ts, now, verdicts


def test_continuity_across_mute_and_resume() -> None:
    rewriter = video()
    seq, ts, now, verdicts = run_frames(rewriter, A, 40000, 123456, 10.0, 30, keyframe_first=True)
    last = forwarded(verdicts[-1])
    last_time = now - 1 / FPS
    rewriter.pause()
    assert state(rewriter) is RewriterState.PAUSED
    assert not rewriter.awaiting_keyframe(A)
    seq, ts, now, verdicts = run_frames(rewriter, A, seq, ts, now, 60, keyframe_first=True)
    assert set(verdicts) == {Drop.PAUSED}
    rewriter.resume()
    assert rewriter.awaiting_keyframe(A)
    seq, ts, now, verdicts = run_frames(rewriter, A, seq, ts, now, 5, keyframe_first=False)
    assert set(verdicts) == {Drop.NEED_KEYFRAME}
    resumed_at = now
    seq, ts, now, verdicts = run_frames(rewriter, A, seq, ts, now, 10, keyframe_first=True)
    first = forwarded(verdicts[0])
    assert first.segment_start
    assert first.seq == (last.seq + 1) & 0xFFFF
    assert ts_diff(first.timestamp, last.timestamp) == round((resumed_at - last_time) * 90000)
    assert [forwarded(v).seq for v in verdicts] == [(first.seq + i) & 0xFFFF for i in range(10)]
    assert [forwarded(v).timestamp for v in verdicts] == [first.timestamp + i * FRAME for i in range(10)]
    assert rewriter.forward(A, (seq - 12) & 0xFFFF, 0, now) is Drop.TOO_OLD  # from before the pause


def test_resume_without_pause_is_a_no_op() -> None:
    rewriter = video()
    forwarded(rewriter.forward(A, 1, 0, now=0.0, keyframe=True))
    rewriter.resume()
    assert state(rewriter) is RewriterState.FORWARDING


def test_switch_to_a_new_ssrc_at_its_keyframe() -> None:
    rewriter = video()
    seq_a, ts_a, now, _verdicts = run_frames(rewriter, A, 500, 1000, 0.0, 10, keyframe_first=True)
    assert rewriter.awaiting_keyframe(B)
    assert rewriter.forward(B, 9000, 77, now) is Drop.NEED_KEYFRAME
    still_a = forwarded(rewriter.forward(A, seq_a, ts_a, now))  # A keeps flowing until B can start
    switch = forwarded(rewriter.forward(B, 9001, 77, now + 0.001, keyframe=True))
    assert switch.segment_start
    assert switch.seq == (still_a.seq + 1) & 0xFFFF
    assert ts_diff(switch.timestamp, still_a.timestamp) == 90000 // 50  # the minimum step
    assert rewriter.ssrc == B
    assert rewriter.forward(A, seq_a + 1, ts_a + FRAME, now) is Drop.STALE_SOURCE
    assert not rewriter.awaiting_keyframe(A)
    after = forwarded(rewriter.forward(B, 9002, 77 + FRAME, now + 0.03))
    assert after == Forward((switch.seq + 1) & 0xFFFF, (switch.timestamp + FRAME) & 0xFFFFFFFF, False)
    assert rewriter.original(switch.seq) == (B, 9001)
    assert rewriter.original(still_a.seq) == (A, seq_a)


def test_audio_switches_ssrc_at_once_and_ignores_the_old_one() -> None:
    rewriter = audio()
    forwarded(rewriter.forward(A, 1, 0, now=0.0))
    last = forwarded(rewriter.forward(A, 2, 960, now=0.02))
    switch = forwarded(rewriter.forward(B, 50000, 4, now=1.02))
    assert switch.seq == last.seq + 1
    assert ts_diff(switch.timestamp, last.timestamp) == 48000
    assert rewriter.forward(A, 3, 1920, now=1.03) is Drop.STALE_SOURCE


def test_old_sources_are_remembered_but_not_forever() -> None:
    rewriter = audio()
    sources = [0x100 + i for i in range(6)]
    for i, ssrc in enumerate(sources):
        forwarded(rewriter.forward(ssrc, 1, 0, now=float(i)))
    assert rewriter.forward(sources[1], 2, 0, now=9.0) is Drop.STALE_SOURCE
    assert isinstance(rewriter.forward(sources[0], 2, 0, now=9.0), Forward)  # dropped off the list of four


def test_paused_rewriter_drops_new_sources_too() -> None:
    rewriter = audio()
    rewriter.pause()
    assert rewriter.forward(A, 1, 0, now=0.0) is Drop.PAUSED
    rewriter.resume()
    assert forwarded(rewriter.forward(A, 2, 0, now=0.1)).seq == 100


def test_nack_translation_remembers_the_last_512_packets() -> None:
    rewriter = video(initial_seq=65000)
    for seq in range(3000, 3700):
        forwarded(rewriter.forward(A, seq, 0, now=0.0, keyframe=seq == 3000))
    newest = rewriter.last_seq
    assert newest == (65000 + 699) & 0xFFFF
    assert rewriter.original(newest) == (A, 3699)
    assert rewriter.original((newest - 511) & 0xFFFF) == (A, 3699 - 511)
    assert rewriter.original((newest - 512) & 0xFFFF) is None
    assert rewriter.original((newest + 1) & 0xFFFF) is None


def test_outgoing_timestamp_translates_sender_reports() -> None:
    rewriter = video(initial_timestamp=10)
    assert rewriter.outgoing_timestamp(A, 1000) is None
    forwarded(rewriter.forward(A, 1, 1000, now=0.0, keyframe=True))
    assert rewriter.outgoing_timestamp(A, 1000 + 90000) == 10 + 90000
    assert rewriter.outgoing_timestamp(B, 1000) is None
    rewriter.pause()
    assert rewriter.outgoing_timestamp(A, 1000) is None


def test_random_stream_keeps_the_invariants() -> None:
    """Reordering, duplicates, loss, pauses and source changes: no outgoing number is used twice, offsets are
    constant within a segment, each segment continues right after the newest number sent, and every
    outgoing number maps back to its publisher packet."""
    rng = random.Random(3550)
    rewriter = video(initial_seq=rng.randrange(1 << 16), initial_timestamp=rng.randrange(1 << 32))
    now = 0.0
    ssrc = A
    seq = rng.randrange(1 << 16)
    ts = rng.randrange(1 << 32)
    used: dict[int, tuple[int, int]] = {}  # extended outgoing seq → (ssrc, publisher seq)
    out_ext = -1
    segment: tuple[int, int] | None = None
    segments = 0
    for step in range(12000):
        if step % 3000 == 2999:
            rewriter.pause()
        if step % 3000 == 100:
            rewriter.resume()
        if step % 7000 == 6999:
            ssrc, seq, ts = ssrc + 1, rng.randrange(1 << 16), rng.randrange(1 << 32)
        batch = [(seq + i) & 0xFFFF for i in range(4)]
        rng.shuffle(batch)
        if rng.random() < 0.1:
            batch.append(batch[0])
        if rng.random() < 0.05:
            batch.pop()
        for s in batch:
            packet_ts = (ts + seq_diff(s, seq) // 2 * FRAME) & 0xFFFFFFFF
            keyframe = rng.random() < 0.02
            verdict = rewriter.forward(ssrc, s, packet_ts, now, keyframe=keyframe)
            if isinstance(verdict, Drop):
                continue
            offsets = ((verdict.seq - s) & 0xFFFF, (verdict.timestamp - packet_ts) & 0xFFFFFFFF)
            if verdict.segment_start:
                assert out_ext == -1 or verdict.seq == (out_ext + 1) & 0xFFFF
                segment = offsets
                segments += 1
            assert offsets == segment
            ext = out_ext + seq_diff(verdict.seq, out_ext & 0xFFFF) if out_ext >= 0 else verdict.seq
            assert ext not in used, (step, verdict)
            used[ext] = (ssrc, s)
            out_ext = max(out_ext, ext)
            assert rewriter.original(verdict.seq) == (ssrc, s)
        seq, ts, now = (seq + 4) & 0xFFFF, (ts + 2 * FRAME) & 0xFFFFFFFF, now + 2 / FPS
    assert len(used) > 6000
    assert segments == 5  # the first, 3 resumes, 1 source change


def vp8_packet(
    seq: int, picture_id: int, tl0: int | None = None, *, bits: int = 15, keyframe: bool = False
) -> bytes:
    descriptor = Vp8Descriptor(
        start_of_partition=True, picture_id=picture_id, picture_id_bits=bits, tl0picidx=tl0, temporal_id=0
    )
    vp8_header = b"\x00\x01\x02" if keyframe else b"\x01\x01\x02"
    return build_rtp(RtpSpec(seq=seq, payload=bytes(descriptor) + vp8_header + b"frame", padding=2))


def descriptor_of(packet: bytes) -> Vp8Descriptor:
    header = RtpHeader.parse(packet)
    return Vp8Descriptor.parse(packet, header.payload_offset, header.payload_end)


def forward_vp8(
    rewriter: StreamRewriter, ids: Vp8PictureIdRewriter, ssrc: int, packet: bytes, now: float, keyframe: bool
) -> bytes:
    header = RtpHeader.parse(packet)
    verdict = forwarded(
        rewriter.forward(ssrc, header.sequence_number, header.timestamp, now, keyframe=keyframe)
    )
    payload = ids.rewrite(
        packet, header.payload_offset, header.payload_end, segment_start=verdict.segment_start
    )
    return rewrite(packet, ssrc=1, seq=verdict.seq, timestamp=verdict.timestamp, payload=payload)


def test_picture_ids_pass_through_until_a_switch_then_continue() -> None:
    rewriter = video()
    ids = Vp8PictureIdRewriter()
    sent = []
    for i in range(5):  # ids wrap at 2^15 and TL0PICIDX at 2^8, and still pass through
        packet = vp8_packet(10 + i, (32765 + i) & 0x7FFF, tl0=(254 + i) & 0xFF, keyframe=i == 0)
        sent.append(forward_vp8(rewriter, ids, A, packet, i / FPS, keyframe=i == 0))
        assert sent[-1][12:] == packet[12:]
    for i in range(5):  # a new publisher stream, whose ids are behind
        packet = vp8_packet(700 + i, 30000 + i, tl0=200 + i, keyframe=i == 0)
        sent.append(forward_vp8(rewriter, ids, B, packet, 1 + i / FPS, keyframe=i == 0))
    descriptors = [descriptor_of(packet) for packet in sent]
    assert [d.picture_id for d in descriptors] == [(32765 + i) & 0x7FFF for i in range(10)]
    assert [d.tl0picidx for d in descriptors] == [(254 + i) & 0xFF for i in range(10)]
    assert all(d.picture_id_bits == 15 and d.temporal_id == 0 for d in descriptors)
    for packet in sent:
        header = RtpHeader.parse(packet)
        assert header.padding_size == 2
        assert packet[header.payload_end - 5 : header.payload_end] == b"frame"


def test_picture_ids_that_moved_forward_across_a_pause_pass_through() -> None:
    rewriter = video()
    ids = Vp8PictureIdRewriter()
    sent = [forward_vp8(rewriter, ids, A, vp8_packet(10, 500, tl0=7, keyframe=True), 0.0, keyframe=True)]
    rewriter.pause()
    rewriter.resume()
    packet = vp8_packet(100, 590, tl0=40, keyframe=True)
    sent.append(forward_vp8(rewriter, ids, A, packet, 3.0, keyframe=True))
    header = RtpHeader.parse(packet)
    assert ids.rewrite(packet, header.payload_offset, header.payload_end, segment_start=False) is None
    packet = vp8_packet(101, 591, tl0=41)
    sent.append(forward_vp8(rewriter, ids, A, packet, 3.03, keyframe=False))
    assert [descriptor_of(p).picture_id for p in sent] == [500, 590, 591]
    assert [descriptor_of(p).tl0picidx for p in sent] == [7, 40, 41]
    far = vp8_packet(200, 590 + 9000, tl0=42, keyframe=True)  # a jump of more than a quarter: re-based
    rewriter.pause()
    rewriter.resume()
    assert descriptor_of(forward_vp8(rewriter, ids, A, far, 9.0, keyframe=True)).picture_id == 592


def test_short_picture_ids_are_widened_when_they_wrap() -> None:
    ids = Vp8PictureIdRewriter()
    out = []
    for i in range(4):
        packet = vp8_packet(i, (126 + i) & 0x7F, bits=7)
        payload = ids.rewrite(packet, 12, len(packet) - 2, segment_start=i == 0)
        data = packet if payload is None else rewrite(packet, ssrc=1, seq=i, timestamp=0, payload=payload)
        out.append(descriptor_of(data))
    assert [d.picture_id for d in out] == [126, 127, 128, 129]
    assert [d.picture_id_bits for d in out] == [7, 7, 15, 15]


@pytest.mark.parametrize("state", [RewriterState.PAUSED, RewriterState.WAITING])
def test_awaiting_keyframe_for_unknown_sources(state: RewriterState) -> None:
    rewriter = video()
    forwarded(rewriter.forward(A, 1, 0, now=0.0, keyframe=True))
    if state is RewriterState.PAUSED:
        rewriter.pause()
        assert not rewriter.awaiting_keyframe(B)
    else:
        assert rewriter.awaiting_keyframe(B)
