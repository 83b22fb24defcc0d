"""Signing the agreement over the API, on SQLite and PostgreSQL: the whole flow from a frozen version to an
effective agreement (links and codes through the development notifier, each party signs, the mediator, the
seal), the evidence handed to the sealer, the webhooks; ordered signing; refusal; a new version voiding the
open round; signing in the live session."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from PIL import Image
from sqlalchemy import select
from yarl import URL

from agreements.trail import GENESIS
from cases.tables import Case
from rooms.tables import MediationSession, SessionParticipant, SessionRecord
from tests.agreements.signhelp import (
    RecordingSealer,
    drawing,
    frozen_case,
    last_code,
    parties_from_links,
    sha256,
    signing_snapshot,
)
from tests.agreements.test_api import content
from tests.apihelp import Actors, actors  # noqa: F401
from webhooks.tables import WebhookEvent


async def _sign_with_code(people: Actors, party: Any, sha: str, **extra: Any) -> Any:
    await party.view()
    sent = await party.expect("POST", "/code", 200)
    assert sent["sent_to"].startswith(("138", "139", "0391"))
    assert "*" in sent["sent_to"]
    body = {"document_sha256": sha, "auth": {"method": "one_time_code", "code": last_code(people)}}
    return await party.expect("POST", "/signature", 201, json={**body, "signature": drawing(), **extra})


async def _event_types(people: Actors, case_id: str) -> list[str]:
    async with people.services.db.read() as session:
        rows = await session.scalars(
            select(WebhookEvent.type)
            .where(WebhookEvent.case_id == case_id)
            .order_by(WebhookEvent.occurred_at)
        )
        return list(rows)


async def test_the_whole_flow_to_an_effective_agreement(actors: Actors) -> None:  # noqa: F811
    sealer = RecordingSealer()
    actors.services.evidence.attach(sealer)
    case, version = await frozen_case(actors, settlement="partial", unsettled_claims="加班费")
    sha = version["pdf_sha256"]
    mediator = await actors.user("mediator1")
    base = f"/cases/{case['id']}/agreement"
    round_ = await mediator.post(f"{base}/versions/{version['id']}/signing", 201, json={})
    assert (round_["status"], round_["order"], round_["seal_required"], round_["outcome"]) == (
        "open",
        "parallel",
        True,
        "partial",
    )
    roles = [(s["role"], s["required"], s["last"]) for s in round_["signers"]]
    assert roles == [
        ("worker", True, False),
        ("employer", True, False),
        ("agent", False, False),
        ("mediator", True, False),
        ("organisation_seal", True, True),
    ]
    assert (await actors.court_a.get(f"/cases/{case['id']}"))["state"] == "awaiting_signatures"
    parties = parties_from_links(actors, round_)
    assert set(parties) == {"worker", "employer", "agent"}
    worker, employer = parties["worker"], parties["employer"]

    view = await worker.expect("GET", "/round", 200)
    assert (view["document_sha256"], view["version_number"], view["me"]["status"]) == (sha, 1, "pending")
    assert (view["auth_methods"], view["viewed"], view["phone_masked"]) == (
        ["one_time_code"],
        False,
        "138****8000",
    )
    assert view["organisation_name"] == "解放区劳动争议调解委员会"
    pdf, header = await worker.view()
    assert sha256(pdf) == header == sha
    await worker.expect("POST", "/code", 200)
    signed = await worker.expect(
        "POST",
        "/signature",
        201,
        json={
            "document_sha256": sha,
            "auth": {"method": "one_time_code", "code": last_code(actors)},
            "signature": drawing(),
        },
    )
    assert (signed["me"]["status"], signed["me"]["auth_method"], signed["viewed"]) == (
        "signed",
        "one_time_code",
        True,
    )
    await _sign_with_code(actors, employer, sha)
    await _sign_with_code(actors, parties["agent"], sha)  # the agent countersigns (optional)

    # The seal waits for every other required signer, whatever the order.
    union_user = await actors.user("union_admin1")
    rid = round_["id"]
    await union_user.get(f"{base}/signing/{rid}/document")
    await union_user.post(
        f"{base}/signing/{rid}/seal", 409, code="not_your_turn", json={"document_sha256": sha}
    )
    document = await mediator.call("GET", f"{base}/signing/{rid}/document")
    assert (document.status, sha256(document.body)) == (200, sha)
    after = await mediator.post(
        f"{base}/signing/{rid}/signature",
        201,
        json={"document_sha256": sha, "signature": drawing(30, strokes=3)},
    )
    assert after["waiting_for"] == [actors.world.orgs["o1"]]
    assert (await actors.court_a.get(f"/cases/{case['id']}"))["state"] == "awaiting_signatures"
    sealed = await union_user.post(f"{base}/signing/{rid}/seal", 201, json={"document_sha256": sha})
    assert sealed["status"] == "effective"
    assert sealed["effective_at"] is not None

    got = await actors.court_a.get(f"/cases/{case['id']}")
    assert (got["state"], got["outcome"], got["termination_reason"]) == (
        "agreed",
        "partial",
        "agreement_reached",
    )
    async with actors.services.db.read() as session:
        stored = await session.get(Case, case["id"])
        assert stored is not None
        assert stored.agreement_effective_at is not None
    types = await _event_types(actors, case["id"])
    assert types.count("agreement.signed") == 5
    assert types.count("agreement.effective") == 1
    assert "case.signatures_requested" in types
    assert types.count("case.closed") == 1

    # The evidence goes to the sealer once the transaction committed.
    await actors.services.evidence.drain()
    assert len(sealer.received) == 1
    evidence = sealer.received[0]
    assert (evidence.case_id, evidence.version_id, evidence.document_sha256) == (
        case["id"],
        version["id"],
        sha,
    )
    assert sha256(evidence.document_pdf) == sha
    assert evidence.organisation_name == "解放区劳动争议调解委员会"
    assert [(s.role, s.auth_method.value) for s in evidence.signatures] == [
        ("worker", "one_time_code"),
        ("employer", "one_time_code"),
        ("agent", "one_time_code"),
        ("mediator", "account"),
        ("organisation_seal", "account"),
    ]
    assert all(s.image_png.startswith(b"\x89PNG") for s in evidence.signatures)
    assert [e.seq for e in evidence.trail] == list(range(1, len(evidence.trail) + 1))
    assert evidence.trail[-1].action == "effective"
    assert (await mediator.get(f"{base}/signing"))["current"]["evidence_status"] == "delivered"

    # The trail: every step, intact, for the court and the mediator only.
    trail = await actors.court_a.get(f"{base}/trail")
    assert trail["verification"] == {
        "intact": True,
        "entries": len(trail["entries"]),
        "head": trail["entries"][-1]["entry_hash"],
        "problems": [],
    }
    assert trail["entries"][0]["prev_hash"] == GENESIS
    actions = [e["action"] for e in trail["entries"]]
    assert actions[:2] == ["signatures_requested", "links_issued"]
    for action in ("viewed", "otp_sent", "otp_verified", "signed", "sealed", "effective"):
        assert action in actions
    worker_signed = next(e for e in trail["entries"] if e["action"] == "signed")
    assert (worker_signed["auth_method"], worker_signed["document_sha256"]) == ("one_time_code", sha)
    assert worker_signed["ip"] == "127.0.0.1"
    assert worker_signed["user_agent"]
    await actors.union1.get(f"{base}/trail", 403)
    await actors.court_b.get(f"{base}/trail", 404)

    # Each signature's image and strokes are kept under their hashes.
    signer = next(s for s in sealed["signers"] if s["role"] == "worker")
    image = await actors.court_a.call(
        "GET", f"{base}/signing/{rid}/signatures/{signer['signature_id']}/image"
    )
    assert sha256(image.body) == image.headers["X-Content-SHA256"] == signer["image_sha256"]
    assert Image.open(io.BytesIO(image.body)).size == (320, 160)
    strokes = await actors.court_a.call(
        "GET", f"{base}/signing/{rid}/signatures/{signer['signature_id']}/strokes"
    )
    assert sha256(strokes.text.encode()) == strokes.headers["X-Content-SHA256"]
    assert strokes.body["width"] == 320
    assert strokes.text.startswith('{"height":160,"strokes":[[[20,40,0,0.4],[29,47,16,0.5]')
    seal = next(s for s in sealed["signers"] if s["role"] == "organisation_seal")
    await actors.court_a.get(f"{base}/signing/{rid}/signatures/{seal['signature_id']}/strokes", 404)

    # Once effective, nobody signs any more; the mediator reports the outcome as for any agreed case.
    before = await signing_snapshot(actors)
    body = {
        "document_sha256": sha,
        "auth": {"method": "one_time_code", "code": "000000"},
        "signature": drawing(),
    }
    await worker.expect("POST", "/signature", 409, code="already_signed", json=body)
    assert await signing_snapshot(actors) == before
    await mediator.post(f"/cases/{case['id']}/outcome", 201, json={"result": "agreed"})
    assert (await actors.court_a.get(f"/cases/{case['id']}"))["state"] == "reported"


async def test_ordered_signing_follows_the_sequence_and_the_evidence_waits_for_a_sealer(
    actors: Actors,  # noqa: F811
) -> None:
    actors.services.evidence.detach()  # the service's own sealer, for this test: none (the sealing is down)
    case, version = await frozen_case(actors)
    sha = version["pdf_sha256"]
    mediator = await actors.user("mediator1")
    base = f"/cases/{case['id']}/agreement"
    worker_id = next(p["id"] for p in case["parties"] if p["party_type"] == "worker")
    employer_id = next(p["id"] for p in case["parties"] if p["party_type"] == "employer")
    mediator_id = actors.mediator_id("m1")
    await mediator.post(
        f"{base}/versions/{version['id']}/signing",
        422,
        code="invalid_sequence",
        json={"order": "ordered", "sequence": [employer_id, worker_id]},
    )
    await mediator.post(
        f"{base}/versions/{version['id']}/signing",
        422,
        code="sequence_not_ordered",
        json={"sequence": [employer_id, worker_id, mediator_id]},
    )
    round_ = await mediator.post(
        f"{base}/versions/{version['id']}/signing",
        201,
        json={"order": "ordered", "sequence": [employer_id, mediator_id, worker_id], "seal": False},
    )
    assert round_["waiting_for"] == [
        employer_id,
        next(p["id"] for p in case["parties"] if p["role"] == "agent"),
    ]
    parties = parties_from_links(actors, round_)
    worker, employer = parties["worker"], parties["employer"]
    await worker.view()
    await worker.expect("POST", "/code", 409, code="not_your_turn")
    body = {
        "document_sha256": sha,
        "auth": {"method": "one_time_code", "code": "123456"},
        "signature": drawing(),
    }
    await worker.expect("POST", "/signature", 409, code="not_your_turn", json=body)
    await _sign_with_code(actors, employer, sha)
    await mediator.get(f"{base}/signing/{round_['id']}/document")
    await mediator.post(
        f"{base}/signing/{round_['id']}/signature", 201, json={"document_sha256": sha, "signature": drawing()}
    )
    union_user = await actors.user("union_admin1")
    await union_user.post(
        f"{base}/signing/{round_['id']}/seal", 409, code="seal_not_required", json={"document_sha256": sha}
    )
    done = await _sign_with_code(actors, worker, sha)
    assert done["status"] == "effective"
    got = await actors.court_a.get(f"/cases/{case['id']}")
    assert (got["state"], got["outcome"]) == ("agreed", "full")
    # No sealer attached yet: the evidence waits; attached later, the next pass delivers it, once.
    assert (await mediator.get(f"{base}/signing"))["current"]["evidence_status"] == "pending"
    sealer = RecordingSealer(fail=1)
    actors.services.evidence.attach(sealer)
    assert await actors.services.evidence.deliver_pending() == []  # the sealer failed: kept pending
    assert (await mediator.get(f"{base}/signing"))["current"]["evidence_status"] == "pending"
    assert await actors.services.evidence.deliver_pending() == [round_["id"]]
    assert await actors.services.evidence.deliver_pending() == []
    assert [e.version_id for e in sealer.received] == [version["id"]]
    assert [s.role for s in sealer.received[0].signatures] == ["employer", "mediator", "worker"]


async def test_a_refusal_terminates_the_mediation(actors: Actors) -> None:  # noqa: F811
    case, version = await frozen_case(actors)
    mediator = await actors.user("mediator1")
    base = f"/cases/{case['id']}/agreement"
    round_ = await mediator.post(f"{base}/versions/{version['id']}/signing", 201, json={})
    parties = parties_from_links(actors, round_)
    await _sign_with_code(actors, parties["worker"], version["pdf_sha256"])
    before = await signing_snapshot(actors)
    await parties["agent"].expect(
        "POST", "/refusal", 403, code="refusal_not_allowed", json={"reason": "不同意"}
    )
    await parties["employer"].expect("POST", "/refusal", 422, json={"reason": ""})
    await parties["employer"].expect("POST", "/refusal", 422, code="reason_required", json={"reason": "   "})
    assert await signing_snapshot(actors) == before
    shown = await parties["employer"].expect("POST", "/refusal", 200, json={"reason": "付款期限太短"})
    assert (shown["status"], shown["me"]["status"]) == ("refused", "refused")
    got = await actors.court_a.get(f"/cases/{case['id']}")
    assert (got["state"], got["outcome"], got["termination_reason"]) == (
        "terminated",
        "failed",
        "refused_to_sign",
    )
    listed = await actors.court_a.get(f"{base}/signing")
    assert listed["current"]["refusal"] == {
        "signer_id": parties["employer"].signer_id,
        "reason": "付款期限太短",
    }
    assert "case.closed" in await _event_types(actors, case["id"])
    trail = await mediator.get(f"{base}/trail")
    assert trail["entries"][-1]["action"] == "refused"
    assert trail["entries"][-1]["details"] == {"reason": "付款期限太短"}
    body = {
        "document_sha256": version["pdf_sha256"],
        "auth": {"method": "one_time_code", "code": "123456"},
        "signature": drawing(),
    }
    await parties["agent"].expect("POST", "/signature", 409, code="signing_closed", json=body)


async def test_a_new_version_voids_the_open_round_and_returns_the_case_to_mediation(
    actors: Actors,  # noqa: F811
) -> None:
    case, version = await frozen_case(actors)
    mediator = await actors.user("mediator1")
    base = f"/cases/{case['id']}/agreement"
    first = await mediator.post(f"{base}/versions/{version['id']}/signing", 201, json={})
    parties = parties_from_links(actors, first)
    await _sign_with_code(actors, parties["worker"], version["pdf_sha256"])
    draft = await mediator.expect("PUT", base + "/draft", 200, json=content(facts="修改后的事实。"))
    assert draft["number"] == 2
    assert (await actors.court_a.get(f"/cases/{case['id']}"))["state"] == "in_mediation"
    listed = await mediator.get(f"{base}/signing")
    assert listed["current"]["status"] == "void"
    employer = parties["employer"]
    await employer.view()
    before = await signing_snapshot(actors)
    await employer.expect("POST", "/code", 409, code="version_superseded")
    body = {
        "document_sha256": version["pdf_sha256"],
        "auth": {"method": "one_time_code", "code": "123456"},
        "signature": drawing(),
    }
    await employer.expect("POST", "/signature", 409, code="version_superseded", json=body)
    assert await signing_snapshot(actors) == before
    await mediator.post(f"{base}/versions/{version['id']}/signing", 409, code="version_superseded", json={})
    await mediator.post(f"{base}/versions/{draft['id']}/signing", 409, code="not_frozen", json={})
    second = await mediator.post(
        f"{base}/versions/{draft['id']}/freeze", json={"revision": draft["revision"]}
    )
    again = await mediator.post(f"{base}/versions/{second['id']}/signing", 201, json={})
    assert again["document_sha256"] == second["pdf_sha256"] != version["pdf_sha256"]
    assert [r["status"] for r in (await mediator.get(f"{base}/signing"))["rounds"]] == ["void", "open"]
    actions = [e["action"] for e in (await mediator.get(f"{base}/trail"))["entries"]]
    assert "voided" in actions
    # An offline agreement uploaded while awaiting signatures voids the round too; its outcome is stated.
    from tests.apihelp import upload_form

    uploaded = await mediator.post(f"{base}/uploads", 201, data=upload_form())
    assert (await actors.court_a.get(f"/cases/{case['id']}"))["state"] == "in_mediation"
    await mediator.post(f"{base}/versions/{uploaded['id']}/signing", 422, code="outcome_required", json={})
    third = await mediator.post(f"{base}/versions/{uploaded['id']}/signing", 201, json={"outcome": "partial"})
    assert (third["outcome"], third["document_sha256"]) == ("partial", uploaded["pdf_sha256"])


async def test_a_party_checked_in_the_live_session_signs_in_session(actors: Actors) -> None:  # noqa: F811
    case, version = await frozen_case(actors)
    mediator = await actors.user("mediator1")
    base = f"/cases/{case['id']}/agreement"
    round_ = await mediator.post(f"{base}/versions/{version['id']}/signing", 201, json={"seal": False})
    worker = parties_from_links(actors, round_)["worker"]
    await worker.view()
    body = {
        "document_sha256": version["pdf_sha256"],
        "auth": {"method": "in_session"},
        "signature": drawing(),
    }
    await worker.expect("POST", "/signature", 422, code="in_session_not_verified", json=body)
    # The room records the mediator's identity check of the worker's seat in a live session of the case.
    now = actors.clock.now()
    async with actors.services.db.session() as session:
        session.add(
            MediationSession(
                id="mss_01JD9W3W2QK8Y4V6T7Z5R3M2N1",
                case_id=case["id"],
                mode="joint",
                status="live",
                scheduled_start=now,
                scheduled_end=now + timedelta(hours=1),
                created_by="mediator1",
                created_at=now,
                started_at=now,
            )
        )
        await session.flush()
        session.add(
            SessionParticipant(
                id="spt_01JD9W3W2QK8Y4V6T7Z5R3M2N1",
                session_id="mss_01JD9W3W2QK8Y4V6T7Z5R3M2N1",
                role="worker",
                party_id=worker.signer_id,
                display_name=worker.name,
                link_expires_at=now + timedelta(days=1),
                created_at=now,
            )
        )
        await session.flush()
        for result in ("failed", "verified"):
            session.add(
                SessionRecord(
                    session_id="mss_01JD9W3W2QK8Y4V6T7Z5R3M2N1",
                    participant_id="spt_mediator",
                    kind="identity_checked",
                    actor="王调解",
                    data={
                        "participant_id": "spt_01JD9W3W2QK8Y4V6T7Z5R3M2N1",
                        "method": "id_card",
                        "result": result,
                    },
                    at=now,
                )
            )
    assert (await worker.expect("GET", "/round", 200))["auth_methods"] == ["one_time_code", "in_session"]
    signed = await worker.expect("POST", "/signature", 201, json=body)
    assert signed["me"]["auth_method"] == "in_session"
    # Once the session has ended, the check no longer stands for a signature.
    async with actors.services.db.session() as session:
        live = await session.get(MediationSession, "mss_01JD9W3W2QK8Y4V6T7Z5R3M2N1")
        assert live is not None
        live.status = "ended"
    employer = parties_from_links(actors, round_)["employer"]
    await employer.view()
    await employer.expect("POST", "/signature", 422, code="in_session_not_verified", json=body)


async def test_both_openapi_documents_describe_the_signing_routes(actors: Actors) -> None:  # noqa: F811
    main = await actors.court_a.get("/openapi.json")
    signing = {
        op["operationId"]
        for item in main["paths"].values()
        for op in item.values()
        if "signing" in op["tags"]
    }
    assert signing == {
        "request_agreement_signatures",
        "get_agreement_signing",
        "get_signing_round",
        "reissue_signing_links",
        "download_signing_document",
        "sign_agreement_as_mediator",
        "seal_agreement",
        "download_signature_image",
        "download_signature_strokes",
        "get_agreement_trail",
    }
    reply = await actors.nobody.call("GET", URL("/sign/api/openapi.json"))
    party = reply.body
    assert set(party["paths"]) == {
        f"/sign/api/{p}" for p in ("round", "document", "code", "signature", "refusal", "sealed")
    }
    body = party["paths"]["/sign/api/signature"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]
    assert set(body["properties"]) == {"document_sha256", "auth", "signature"}
    assert body["properties"]["signature"]["required"] == ["width", "height", "strokes"]
    assert "429" in party["paths"]["/sign/api/code"]["post"]["responses"]
    assert (await actors.nobody.call("GET", URL("/sign/api/round"))).status == 401
