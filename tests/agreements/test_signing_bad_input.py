"""Signing refuses bad input with a clear code and keeps stored data as it was (SQLite and PostgreSQL):
superseded versions and double signing are in the flow tests; here wrong, expired and exhausted codes, the
rate limit on sending codes (with the frozen clock), malformed and oversized signatures, a wrong document
hash, bad links, and who may see, sign, seal and read the trail. A tampered trail row is detected."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from rooms.notify import Message, NotifyFailed
from tests.agreements.signhelp import (
    ONE_MINUTE,
    Party,
    drawing,
    frozen_case,
    last_code,
    notifier,
    parties_from_links,
    signing_snapshot,
)
from tests.apihelp import Actors, Caller, actors, new_case  # noqa: F401


async def _open_round(people: Actors, **body: Any) -> tuple[dict[str, Any], dict[str, Any], dict[str, Party]]:
    case, version = await frozen_case(people)
    mediator = await people.user("mediator1")
    round_ = await mediator.post(
        f"/cases/{case['id']}/agreement/versions/{version['id']}/signing", 201, json=body
    )
    return case, version, parties_from_links(people, round_)


def _body(sha: str, code: str | None = "123456", signature: Any = None) -> dict[str, Any]:
    auth: dict[str, Any] = {"method": "one_time_code"}
    if code is not None:
        auth["code"] = code
    return {"document_sha256": sha, "auth": auth, "signature": drawing() if signature is None else signature}


async def test_wrong_expired_and_exhausted_codes(actors: Actors) -> None:  # noqa: F811
    case, version, parties = await _open_round(actors)
    sha = version["pdf_sha256"]
    worker = parties["worker"]
    await worker.view()
    before = await signing_snapshot(actors)
    await worker.expect("POST", "/signature", 422, code="otp_required", json=_body(sha, code=None))
    await worker.expect("POST", "/signature", 422, code="otp_required", json=_body(sha))
    await worker.expect("POST", "/signature", 422, json=_body(sha, code="12345"))  # not six digits
    assert await signing_snapshot(actors) == before

    await worker.expect("POST", "/code", 200)
    code = last_code(actors)
    wrong = "000000" if code != "000000" else "111111"
    before = await signing_snapshot(actors)
    refused = await worker.expect("POST", "/signature", 422, code="otp_wrong", json=_body(sha, wrong))
    assert refused["error"]["attempts_left"] == 4
    after = await signing_snapshot(actors)
    # The try counts (one attempt, one otp_failed entry in the trail), and nothing else changed.
    changed = {k for k in before if before[k] != after[k]}
    assert changed == {"agreement_trail", next(k for k in before if k.startswith("otp_"))}
    trail = await actors.court_a.get(f"/cases/{case['id']}/agreement/trail")
    assert trail["entries"][-1]["action"] == "otp_failed"
    assert trail["entries"][-1]["details"]["attempts_left"] == 4

    # Expired: the code stops working after TIAOJIE_SIGNING_CODE_TTL_SECONDS.
    actors.clock.advance(timedelta(seconds=301))
    before = await signing_snapshot(actors)
    await worker.expect("POST", "/signature", 422, code="otp_expired", json=_body(sha, code))
    assert await signing_snapshot(actors) == before

    # Exhausted: after five wrong tries even the right code is refused, until a new one is sent.
    await worker.expect("POST", "/code", 200)
    code = last_code(actors)
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1, 0):
        refused = await worker.expect("POST", "/signature", 422, code="otp_wrong", json=_body(sha, wrong))
        assert refused["error"]["attempts_left"] == left
    before = await signing_snapshot(actors)
    await worker.expect("POST", "/signature", 422, code="otp_attempts_exhausted", json=_body(sha, code))
    assert await signing_snapshot(actors) == before
    actors.clock.advance(ONE_MINUTE)
    await worker.expect("POST", "/code", 200)
    signed = await worker.expect("POST", "/signature", 201, json=_body(sha, last_code(actors)))
    assert signed["me"]["status"] == "signed"
    # A used code does not sign twice, nor does anyone.
    await worker.expect("POST", "/signature", 409, code="already_signed", json=_body(sha, last_code(actors)))


async def test_sending_codes_is_rate_limited_per_signer(actors: Actors) -> None:  # noqa: F811
    _, _, parties = await _open_round(actors)
    worker, employer = parties["worker"], parties["employer"]
    await worker.expect("POST", "/code", 200)
    before = await signing_snapshot(actors)
    sent = len(actors.services.notifier.sent)  # type: ignore[attr-defined]
    reply = await worker.call("POST", "/code")
    assert (reply.status, reply.error["code"], reply.headers["Retry-After"]) == (
        429,
        "otp_rate_limited",
        "60",
    )
    actors.clock.advance(timedelta(seconds=45))
    reply = await worker.call("POST", "/code")
    assert (reply.status, reply.headers["Retry-After"]) == (429, "15")
    assert await signing_snapshot(actors) == before
    assert len(actors.services.notifier.sent) == sent  # type: ignore[attr-defined]
    await employer.expect("POST", "/code", 200)  # another signer has a limit of their own
    for _ in range(4):
        actors.clock.advance(ONE_MINUTE)
        await worker.expect("POST", "/code", 200)
    actors.clock.advance(ONE_MINUTE)
    reply = await worker.call("POST", "/code")  # the sixth in the hour
    assert (reply.status, reply.error["code"]) == (429, "otp_rate_limited")
    assert 3000 < int(reply.headers["Retry-After"]) <= 3600 - 4 * 61
    actors.clock.advance(timedelta(seconds=int(reply.headers["Retry-After"])))
    await worker.expect("POST", "/code", 200)


async def test_malformed_and_oversized_signatures_and_wrong_hashes(actors: Actors) -> None:  # noqa: F811
    case, version, parties = await _open_round(actors)
    sha = version["pdf_sha256"]
    worker = parties["worker"]
    await worker.view()
    await worker.expect("POST", "/code", 200)
    code = last_code(actors)
    good = drawing()
    stroke = good["strokes"][0]
    malformed: list[tuple[Any, str]] = [
        ([], "signature"),
        ({"width": 320, "height": 160}, "signature.strokes"),
        ({**good, "extra": 1}, "signature.extra"),
        ({**good, "width": 20}, "signature.width"),
        ({**good, "width": 320.5}, "signature.width"),
        ({**good, "strokes": []}, "signature.strokes"),
        ({**good, "strokes": [[]]}, "signature.strokes.0"),
        ({**good, "strokes": [[[1, 1, 0]]]}, "signature.strokes"),  # a single point
        ({**good, "strokes": [[[1, 1]]]}, "signature.strokes.0.0"),
        ({**good, "strokes": [[[1, 1, 0], [400, 1, 5]]]}, "signature.strokes.0.1"),  # off the canvas
        ({**good, "strokes": [[[1, 1, 10], [2, 2, 5]]]}, "signature.strokes.0.1.2"),  # time goes back
        ({**good, "strokes": [stroke, [[1, 1, 0], [2, 2, 1]]]}, "signature.strokes.1.0.2"),
        ({**good, "strokes": [[[1, 1, 0], [True, 2, 5]]]}, "signature.strokes.0.1.0"),
        ({**good, "strokes": [[[1, 1, 0], ["2", 2, 5]]]}, "signature.strokes.0.1.0"),
        ({**good, "strokes": [[[1, 1, 0, 1.5], [2, 2, 5]]]}, "signature.strokes.0.0.3"),
        ({**good, "strokes": [[[1, 1, 0], [2, 2, 700000]]]}, "signature.strokes.0.1.2"),
        ({**good, "strokes": [[[1, 1, i]] for i in range(201)]}, "signature.strokes"),
        ({**good, "strokes": [[[1, 1, i] for i in range(8001)]]}, "signature.strokes.0"),
    ]
    before = await signing_snapshot(actors)
    for signature, field in malformed:
        refused = await worker.expect(
            "POST", "/signature", 422, code="malformed_signature", json=_body(sha, code, signature)
        )
        assert refused["error"]["field"] == field, (
            signature if len(str(signature)) < 200 else field,
            refused,
        )
    # Over 256 KiB of strokes (within the JSON body limit): 413; over the JSON limit: 413 too.
    big = {
        "width": 4096,
        "height": 4096,
        "strokes": [[[4000.123456, 4000.123456, i, 0.123456] for i in range(7900)]],
    }
    assert 256 * 1024 < len(json.dumps(big)) < actors.services.settings.max_json_bytes
    await worker.expect("POST", "/signature", 413, code="payload_too_large", json=_body(sha, code, big))
    huge = json.dumps(_body(sha, code, {"pad": "x" * actors.services.settings.max_json_bytes}))
    reply = await worker.call(
        "POST", "/signature", data=io.BytesIO(huge.encode()), headers={"Content-Type": "application/json"}
    )
    assert (reply.status, reply.error["code"]) == (413, "payload_too_large")
    await worker.expect("POST", "/signature", 422, code="document_hash_mismatch", json=_body("0" * 64, code))
    await worker.expect("POST", "/signature", 422, json=_body("not-a-hash", code))
    await worker.expect("POST", "/signature", 422, json={**_body(sha, code), "auth": {"method": "telepathy"}})
    await worker.expect(
        "POST",
        "/signature",
        422,
        code="malformed_json",
        data=b"{",
        headers={"Content-Type": "application/json"},
    )
    assert await signing_snapshot(actors) == before
    # The code was never tried: it still signs.
    await worker.expect("POST", "/signature", 201, json=_body(sha, code))
    # The mediator's signature is parsed the same way, and must follow viewing the document.
    mediator = await actors.user("mediator1")
    rid = (await mediator.get(f"/cases/{case['id']}/agreement/signing"))["current"]["id"]
    base = f"/cases/{case['id']}/agreement/signing/{rid}"
    before = await signing_snapshot(actors)
    await mediator.post(
        base + "/signature", 409, code="document_not_viewed", json={"document_sha256": sha, "signature": good}
    )
    await mediator.get(base + "/document")
    before = await signing_snapshot(actors)
    await mediator.post(
        base + "/signature",
        422,
        code="malformed_signature",
        json={"document_sha256": sha, "signature": {"width": 1}},
    )
    await mediator.post(
        base + "/signature",
        422,
        code="document_hash_mismatch",
        json={"document_sha256": "a" * 64, "signature": good},
    )
    assert await signing_snapshot(actors) == before


async def test_bad_links(actors: Actors) -> None:  # noqa: F811
    case, _, parties = await _open_round(actors)
    worker = parties["worker"]
    for token, code in (
        ("", "unauthenticated"),
        ("sg1.abc", "link_malformed"),
        (worker.token[:-2] + ("AA" if not worker.token.endswith("AA") else "BB"), "link_invalid"),
        (actors.world.tokens["court_a"], "link_malformed"),
    ):
        caller = Party(Caller(actors.client, {"Authorization": f"Bearer {token}"}, "x"), "x", "x", token)
        await caller.expect("GET", "/round", 401, code=code)
    # Reissuing revokes the older link.
    mediator = await actors.user("mediator1")
    current = (await mediator.get(f"/cases/{case['id']}/agreement/signing"))["current"]
    reissued = await mediator.post(
        f"/cases/{case['id']}/agreement/signing/{current['id']}/links",
        json={"signer_ids": [worker.signer_id]},
    )
    assert [link["signer_id"] for link in reissued["links"]] == [worker.signer_id]
    await worker.expect("GET", "/round", 401, code="link_revoked")
    fresh = parties_from_links(actors, reissued)["worker"]
    await fresh.expect("GET", "/round", 200)
    await mediator.post(
        f"/cases/{case['id']}/agreement/signing/{current['id']}/links",
        422,
        code="not_a_signer",
        json={"signer_ids": [actors.mediator_id("m1")]},
    )
    # Links expire (TIAOJIE_SIGNING_LINK_HOURS).
    actors.clock.advance(timedelta(hours=73))
    await fresh.expect("GET", "/round", 401, code="link_expired")
    # The console API does not take a signing token, nor the signing API an API key.
    await Caller(actors.client, {"Authorization": f"Bearer {fresh.token}"}, "x").get("/cases", 401)


async def test_who_may_see_sign_and_seal(actors: Actors) -> None:  # noqa: F811
    case, version, parties = await _open_round(actors)
    sha = version["pdf_sha256"]
    base = f"/cases/{case['id']}/agreement"
    mediator = await actors.user("mediator1")
    rid = (await mediator.get(f"{base}/signing"))["current"]["id"]
    before = await signing_snapshot(actors)
    outsiders = [
        actors.court_b,
        actors.union2,
        await actors.user("mediator2"),
        await actors.user("mediator3"),
    ]
    for caller in outsiders:
        await caller.get(f"{base}/signing", 404)
        await caller.get(f"{base}/signing/{rid}", 404)
        await caller.get(f"{base}/signing/{rid}/document", 404)
        await caller.get(f"{base}/trail", 404)
        await caller.post(f"{base}/signing/{rid}/seal", 404, json={"document_sha256": sha})
    # Within the case: the union sees the rounds; the court reads but does not sign; only a union user seals.
    assert (await actors.union1.get(f"{base}/signing"))["current"]["id"] == rid
    await actors.union1.get(f"{base}/trail", 403)
    await actors.court_a.post(f"{base}/versions/{version['id']}/signing", 403, json={})
    await actors.court_a.post(
        f"{base}/signing/{rid}/signature", 403, json={"document_sha256": sha, "signature": drawing()}
    )
    await actors.union1.post(
        f"{base}/signing/{rid}/seal", 403, code="seal_needs_user", json={"document_sha256": sha}
    )
    await mediator.post(f"{base}/signing/{rid}/seal", 403, json={"document_sha256": sha})
    await actors.union1.post(f"{base}/signing/{rid}/links", 403, json={})
    await actors.union1.get(f"{base}/signing/{rid}/document", 403, code="seal_needs_user")
    await actors.union1.get(f"{base}/signing/{rid}/signatures/sig_00000000000000000000000000/image", 403)
    await actors.court_a.get(f"{base}/signing/{rid}/signatures/sig_00000000000000000000000000/image", 404)
    await actors.court_a.get(f"{base}/signing/sgr_00000000000000000000000000", 404, code="unknown_round")
    await mediator.post(f"{base}/versions/{version['id']}/signing", 409, code="illegal_transition", json={})
    assert await signing_snapshot(actors) == before
    # The document a party signs is not readable with another round's or case's link.
    other_case, _, other_parties = await _open_round(actors)
    assert other_case["id"] != case["id"]
    mine = await parties["worker"].expect("GET", "/round", 200)
    theirs = await other_parties["worker"].expect("GET", "/round", 200)
    assert mine["round_id"] != theirs["round_id"]


async def test_a_row_changed_behind_the_triggers_is_detected(actors: Actors, backend: str) -> None:  # noqa: F811
    case, version, parties = await _open_round(actors)
    base = f"/cases/{case['id']}/agreement"
    worker = parties["worker"]
    await worker.view()
    await worker.expect("POST", "/code", 200)
    await worker.expect("POST", "/signature", 201, json=_body(version["pdf_sha256"], last_code(actors)))
    trail = await actors.court_a.get(f"{base}/trail")
    assert trail["verification"]["intact"] is True
    seq = next(e["seq"] for e in trail["entries"] if e["action"] == "signed")
    engine = actors.services.db.engine
    async with engine.begin() as conn:
        # The table refuses changes...
        refused = False
        try:
            async with conn.begin_nested():
                await conn.execute(text("UPDATE agreement_trail SET actor = 'x' WHERE seq = :s"), {"s": seq})
        except Exception:
            refused = True
        assert refused
    # ... so someone with the database's keys goes around the triggers.
    async with engine.begin() as conn:
        if backend == "postgres":
            await conn.execute(text("ALTER TABLE agreement_trail DISABLE TRIGGER USER"))
        else:
            await conn.execute(text("DROP TRIGGER agreement_trail_no_update"))
            await conn.execute(text("DROP TRIGGER agreement_trail_no_delete"))
        await conn.execute(
            text("UPDATE agreement_trail SET ip = '10.0.0.9' WHERE case_id = :c AND seq = :s"),
            {"c": case["id"], "s": seq},
        )
    checked = (await actors.court_a.get(f"{base}/trail"))["verification"]
    assert (checked["intact"], checked["problems"]) == (False, [{"seq": seq, "code": "altered"}])
    async with engine.begin() as conn:
        await conn.execute(
            text("DELETE FROM agreement_trail WHERE case_id = :c AND seq = :s"),
            {"c": case["id"], "s": seq - 1},
        )
    problems = (await actors.court_a.get(f"{base}/trail"))["verification"]["problems"]
    assert {"seq": seq, "code": "broken_link"} in problems
    assert any(p["code"] == "out_of_sequence" for p in problems)
    if backend == "postgres":
        async with engine.begin() as conn:
            await conn.execute(text("ALTER TABLE agreement_trail ENABLE TRIGGER USER"))


async def test_the_sms_gateway_is_called_after_the_code_is_stored(
    actors: Actors,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Any link holder can ask for a code: a slow gateway must not hold the request's transaction (on SQLite
    the write lock of every worker). While the gateway takes its time, other writes go through; a gateway
    that refuses is answered `notify_failed`."""
    case, version = await frozen_case(actors)
    mediator = await actors.user("mediator1")
    round_ = await mediator.post(
        f"/cases/{case['id']}/agreement/versions/{version['id']}/signing", 201, json={}
    )
    worker = parties_from_links(actors, round_)["worker"]
    await worker.view()
    gateway = notifier(actors)
    original = gateway.send
    asked = asyncio.Event()
    answer = asyncio.Event()

    async def slow_send(message: Message) -> None:
        asked.set()
        await answer.wait()
        await original(message)

    monkeypatch.setattr(gateway, "send", slow_send)
    sending = asyncio.create_task(worker.expect("POST", "/code", 200))
    await asyncio.wait_for(asked.wait(), 10)
    created = await asyncio.wait_for(new_case(actors), 10)  # a write meanwhile: not held up
    assert created["state"] == "created"
    answer.set()
    await asyncio.wait_for(sending, 10)
    assert len(last_code(actors)) == 6

    async def refusing(message: Message) -> None:
        raise NotifyFailed("the SMS gateway answered 503", gateway_status=503)

    monkeypatch.setattr(gateway, "send", refusing)
    actors.clock.advance(timedelta(minutes=2))
    delivered = last_code(actors)
    await worker.expect("POST", "/code", 400, code="notify_failed")
    # The undelivered code was withdrawn: it does not count against the limit (a code may be asked for
    # again at once), and the code that did arrive still works.
    monkeypatch.setattr(gateway, "send", original)
    body = {"document_sha256": version["pdf_sha256"], "auth": {"method": "one_time_code", "code": delivered}}
    await worker.expect("POST", "/signature", 201, json={**body, "signature": drawing()})
    trail = await mediator.get(f"/cases/{case['id']}/agreement/trail")
    assert "otp_not_delivered" in [e["action"] for e in trail["entries"]]
