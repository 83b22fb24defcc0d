"""The pure parts of signing: the seal signer waits for everyone, the hash chain and its verifier, one-time
code rules, signing links, the signature parser, and the images drawn deterministically."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image

from agreements import images, links, strokes
from agreements.codes import CodePolicy, Verdict, code_hash, judge, new_code, retry_after
from agreements.pdf import DEFAULT_FONT
from agreements.signing import Order, Signer, Signing, SigningStatus, sign
from agreements.trail import GENESIS, Entry, chain, entry_hash, verify
from tests.agreements.test_text_and_versions import needs_font
from tiaojie.errors import InvalidInput, PayloadTooLarge, TiaojieError

H = "b" * 64
T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


@pytest.mark.parametrize("order", list(Order))
def test_the_last_signer_waits_for_every_other_required_signer(order: Order) -> None:
    signers = (
        Signer("worker"),
        Signer("agent", required=False),
        Signer("mediator"),
        Signer("seal", last=True),
    )
    state = Signing(H, signers, order)
    assert "seal" not in state.waiting_for()
    with pytest.raises(TiaojieError) as caught:
        sign(state, "seal", H)
    assert caught.value.code == "not_your_turn"
    state, _ = sign(state, "worker", H)
    state, _ = sign(state, "mediator", H)
    assert "seal" in state.waiting_for()
    assert state.status is SigningStatus.OPEN  # the seal is required
    state, events = sign(state, "seal", H)
    assert state.status is SigningStatus.EFFECTIVE
    assert [e.value for e in events] == ["signed", "took_effect"]


def _entries(n: int) -> list[Entry]:
    out: list[Entry] = []
    for i in range(n):
        out.append(
            chain(
                Entry(
                    seq=0,
                    at=T0 + timedelta(seconds=i),
                    case_id="cas_1",
                    round_id="sgr_1",
                    version_id="agv_1",
                    actor_kind="party",
                    actor_id=f"pty_{i}",
                    actor=f"当事人 {i}",
                    action="signed",
                    ip="127.0.0.1",
                    user_agent="UA",
                    document_sha256=H,
                    details={"n": i},
                ),
                out[-1] if out else None,
            )
        )
    return out


def test_the_chain_detects_a_changed_removed_or_reordered_entry() -> None:
    entries = _entries(5)
    assert entries[0].prev_hash == GENESIS
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    good = verify(entries)
    assert (good.intact, good.entries, good.head, good.problems) == (True, 5, entries[-1].entry_hash, ())
    assert verify(entries, expected_head=entries[-1].entry_hash).intact

    tampering: dict[str, Any] = {"ip": "10.0.0.1", "actor": "别人", "details": {"n": 9}, "at": T0, "seq": 7}
    for field, value in tampering.items():
        changed = list(entries)
        changed[2] = replace(entries[2], **{field: value})
        found = verify(changed)
        assert not found.intact
        assert "altered" in {p.code for p in found.problems if p.seq == changed[2].seq}, field
    removed = entries[:2] + entries[3:]
    assert {(p.seq, p.code) for p in verify(removed).problems} >= {(4, "broken_link"), (4, "out_of_sequence")}
    swapped = [entries[0], entries[2], entries[1], *entries[3:]]
    assert {p.code for p in verify(swapped).problems} == {"broken_link", "out_of_sequence"}
    # Cut off the end: only the anchored head shows it.
    assert verify(entries[:4]).intact
    assert [p.code for p in verify(entries[:4], expected_head=entries[-1].entry_hash).problems] == [
        "head_mismatch"
    ]
    # Re-hashing a changed entry does not help: the next entry's link breaks.
    forged = replace(entries[2], ip="10.0.0.1")
    forged = replace(forged, entry_hash=entry_hash(forged))
    assert [(p.seq, p.code) for p in verify([*entries[:2], forged, *entries[3:]]).problems] == [
        (4, "broken_link")
    ]


def test_code_rules() -> None:
    policy = CodePolicy()
    code = new_code()
    assert len(code) == 6
    assert code.isdigit()
    stored = code_hash("secret", "otp_1", code)
    assert stored != code_hash("secret", "otp_2", code) != code_hash("other", "otp_1", code)
    args = {"stored_hash": stored, "code_id": "otp_1", "secret": "secret", "expires_at": T0, "policy": policy}
    before = T0 - timedelta(seconds=1)
    assert judge(given=code, attempts=0, used=False, now=before, **args) is Verdict.OK  # type: ignore[arg-type]
    wrong = "000000" if code != "000000" else "111111"
    assert judge(given=wrong, attempts=0, used=False, now=before, **args) is Verdict.WRONG  # type: ignore[arg-type]
    assert judge(given=code, attempts=5, used=False, now=before, **args) is Verdict.EXHAUSTED  # type: ignore[arg-type]
    assert judge(given=code, attempts=0, used=False, now=T0, **args) is Verdict.EXPIRED  # type: ignore[arg-type]
    assert judge(given=code, attempts=0, used=True, now=before, **args) is Verdict.USED  # type: ignore[arg-type]

    assert retry_after([], T0, policy) is None
    assert retry_after([T0], T0 + timedelta(seconds=10), policy) == 50
    assert retry_after([T0], T0 + timedelta(seconds=60), policy) is None
    five = [T0 + timedelta(minutes=m) for m in range(0, 50, 10)]
    assert retry_after(five, T0 + timedelta(minutes=50), policy) == 600
    assert retry_after(five, T0 + timedelta(minutes=60), policy) is None


def test_links_are_bound_and_expire() -> None:
    claims = links.SignerClaims("sgn_1", "sgr_1", "worker", 2, int((T0 + timedelta(hours=1)).timestamp()))
    token = links.issue(claims, secret="s" * 40)
    assert token.startswith("sg1.")
    assert links.verify(token, secret="s" * 40, now=T0) == claims
    for bad, secret, now, code in (
        (token, "t" * 40, T0, "link_invalid"),
        (token, "s" * 40, T0 + timedelta(hours=1), "link_expired"),
        ("jc1." + token[4:], "s" * 40, T0, "link_malformed"),
        (token + "x", "s" * 40, T0, "link_invalid"),
    ):
        with pytest.raises(links.LinkError) as caught:
            links.verify(bad, secret=secret, now=now)
        assert caught.value.code == code


def test_the_parser_keeps_what_was_drawn() -> None:
    drawn = strokes.parse(
        {"width": 300, "height": 100, "strokes": [[[0, 0, 0], [10, 5, 16.5, 0.5]], [[20, 5, 40]]]}
    )
    assert (drawn.width, drawn.height, drawn.points, drawn.duration_ms) == (300, 100, 3, 40)
    assert drawn.strokes[0][1] == strokes.Point(10, 5, 16.5, 0.5)
    assert strokes.canonical({"b": 1, "a": [1.5, "签"]}) == '{"a":[1.5,"签"],"b":1}'.encode()
    with pytest.raises(InvalidInput) as caught:
        strokes.parse({"width": 300, "height": 100, "strokes": [[[0, 0, float("nan")], [1, 1, 1]]]})
    assert (caught.value.code, caught.value.field) == ("malformed_signature", "signature.strokes.0.0.2")
    with pytest.raises(PayloadTooLarge):
        strokes.parse({"width": 300, "height": 100, "strokes": [], "pad": "x" * strokes.MAX_BYTES})


def _pixel(picture: Image.Image, at: tuple[int, int]) -> tuple[int, ...]:
    value = picture.getpixel(at)
    assert isinstance(value, tuple)
    return value


def test_the_signature_image_is_deterministic() -> None:
    drawn = strokes.parse({"width": 200, "height": 80, "strokes": [[[10, 10, 0, 0.2], [190, 70, 500, 1]]]})
    first = images.signature_png(drawn)
    assert first == images.signature_png(drawn)
    picture = Image.open(io.BytesIO(first))
    assert (picture.size, picture.mode) == ((200, 80), "RGBA")
    assert _pixel(picture, (100, 40))[3] == 255  # ink on the line
    assert _pixel(picture, (190, 10))[3] == 0  # transparent elsewhere


@needs_font
def test_the_seal_is_deterministic_round_and_red() -> None:
    first = images.seal_png("解放区劳动争议调解委员会", DEFAULT_FONT)
    assert first == images.seal_png("解放区劳动争议调解委员会", DEFAULT_FONT)
    assert first != images.seal_png("修武县劳动争议调解中心", DEFAULT_FONT)
    seal = Image.open(io.BytesIO(first))
    assert seal.size == (images.SEAL_SIZE, images.SEAL_SIZE)
    red, green, blue, alpha = _pixel(seal, (images.SEAL_SIZE // 2, images.SEAL_SIZE // 2))  # the star
    assert alpha == 255
    assert red > 150
    assert green < 60
    assert blue < 60
    assert _pixel(seal, (2, 2))[3] == 0  # outside the ring
