"""Recording the outcome, the OMR 21 report, the court's acknowledgement and what is still unacknowledged."""

from __future__ import annotations

from datetime import timedelta

from tests import apihelp
from tests.apihelp import Actors, accepted_case, mediating_case
from tests.outcomes.helpers import REPORT, agreed_case, events, failed_report
from tiaojie.clock import FrozenClock

actors = apihelp.actors


async def test_a_failed_mediation_is_reported_with_the_omr21_report_and_acknowledged(
    actors: Actors, clock: FrozenClock
) -> None:
    case = await mediating_case(actors)
    mediator = await actors.user("mediator1")
    report = await mediator.post(f"/cases/{case['id']}/outcome", 201, json=failed_report())
    assert report["state"] == "reported"
    assert report["outcome"] == "failed"
    assert report["reason"] == "positions_too_far"
    assert report["reason_label"] == "当事人分歧较大且难以达成调解协议"
    assert {k: report[k] for k in REPORT} == REPORT
    assert report["acknowledged_at"] is None
    assert await actors.court_a.get(f"/cases/{case['id']}/outcome") == report

    clock.advance(timedelta(days=3))
    waiting = await actors.court_a.get("/outcomes/unacknowledged")
    assert [(w["case_id"], w["waiting_days"], w["outcome"]) for w in waiting] == [(case["id"], 3, "failed")]
    mediator = await actors.user("mediator1")  # a new console session: the clock moved by days
    assert [w["case_id"] for w in await mediator.get("/outcomes/unacknowledged")] == [case["id"]]
    assert await actors.court_b.get("/outcomes/unacknowledged") == []
    await actors.court_b.get(f"/cases/{case['id']}/outcome", 404)

    await mediator.post(f"/cases/{case['id']}/outcome/acknowledge", 403, code="not_case_court", json={})
    acknowledged = await actors.court_a.post(
        f"/cases/{case['id']}/outcome/acknowledge", json={"note": "已收到，恢复审理"}
    )
    assert acknowledged["state"] == "acknowledged"
    assert acknowledged["acknowledgement_note"] == "已收到，恢复审理"
    assert await actors.court_a.get("/outcomes/unacknowledged") == []
    await actors.court_a.post(f"/cases/{case['id']}/outcome/acknowledge", 409, json={})

    sent = await events(actors, case["id"])
    assert [e["type"] for e in sent][-3:] == ["case.closed", "case.reported", "case.acknowledged"]
    closed, reported = sent[-3]["data"], sent[-2]["data"]
    assert (closed["outcome"], closed["reason"]) == ("failed", "positions_too_far")
    assert reported["details"]["report_id"]
    assert reported["details"]["outcome"] == "failed"


async def test_a_case_terminated_earlier_is_reported_with_its_own_reason(actors: Actors) -> None:
    case = await accepted_case(actors)
    await actors.court_a.post(
        f"/cases/{case['id']}/terminate", json={"reason": "party_unreachable", "note": "无法联系"}
    )
    mediator = await actors.user("mediator1")
    await mediator.post(
        f"/cases/{case['id']}/outcome", 422, code="reason_mismatch", json=failed_report("party_refuses")
    )
    report = await mediator.post(f"/cases/{case['id']}/outcome", 201, json=failed_report("party_unreachable"))
    assert report["reason"] == "party_unreachable"
    await mediator.post(f"/cases/{case['id']}/outcome", 409, code="already_reported", json=failed_report())


async def test_what_each_result_needs(actors: Actors) -> None:
    case, mediator, material = await agreed_case(actors)
    path = f"/cases/{case['id']}/outcome"
    await mediator.post(path, 422, code="required", json={"result": "terminated", "reason": "other"})
    await mediator.post(path, 422, code="required", json={"result": "terminated", "report": REPORT})
    await mediator.post(
        path, 422, code="unexpected_field", json={**failed_report(), "agreement_material_id": material["id"]}
    )
    await mediator.post(path, 422, code="required", json={"result": "agreed", "scope": "full"})
    await mediator.post(
        path, 422, code="required", json={"result": "agreed", "agreement_material_id": material["id"]}
    )
    await mediator.post(
        path,
        422,
        code="unknown_material",
        json={"result": "agreed", "scope": "full", "agreement_material_id": "mat_00000000000000000000000000"},
    )
    await mediator.post(
        path,
        422,
        code="unexpected_field",
        json={"result": "agreed", "scope": "full", "agreement_material_id": material["id"], "report": REPORT},
    )
    await mediator.post(
        path,
        422,
        code="unexpected_field",
        json={
            "result": "agreed",
            "scope": "full",
            "agreement_material_id": material["id"],
            "entrusted_request": "mediation_document",
        },
    )
    await mediator.post(
        path,
        422,
        json={
            "result": "agreed",
            "scope": "full",
            "agreement_material_id": material["id"],
            "agreement_effective_at": "2030-01-01T00:00:00+08:00",
        },
    )
    await actors.court_a.post(path, 403, code="not_case_mediator", json=failed_report())
    assert (await actors.court_a.get(f"/cases/{case['id']}"))["state"] == "in_mediation"
    assert [e["type"] for e in await events(actors, case["id"])][-1] == "case.mediation_started"


async def test_an_agreement_is_recorded_with_the_signed_document(actors: Actors) -> None:
    case, mediator, material = await agreed_case(actors)
    report = await mediator.post(
        f"/cases/{case['id']}/outcome",
        201,
        json={"result": "agreed", "scope": "partial", "agreement_material_id": material["id"]},
    )
    assert (report["state"], report["outcome"], report["reason"]) == (
        "reported",
        "partial",
        "agreement_reached",
    )
    assert report["agreement_material_id"] == material["id"]
    assert report["agreement_effective_at"] == "2026-03-02T01:00:00Z"
    assert report["jc_last_day"] == "2026-04-01"  # 30 days, the first not counted (CPL 85, CPL 205)
    assert report["course"] is None
    sent = await events(actors, case["id"])
    assert [e["type"] for e in sent][-4:] == [
        "case.signatures_requested",
        "case.closed",
        "agreement.effective",
        "case.reported",
    ]
    closed = sent[-3]["data"]
    assert (closed["state"], closed["outcome"]) == ("agreed", "partial")
    assert closed["details"]["agreement_sha256"] == material["sha256"]
    effective = sent[-2]["data"]
    assert (effective["agreement_id"], effective["sha256"]) == (material["id"], material["sha256"])
    assert effective["effective_at"] == "2026-03-02T01:00:00Z"


async def test_an_entrusted_agreement_asks_for_a_mediation_document(actors: Actors) -> None:
    case, mediator, material = await agreed_case(actors, kind="entrusted")
    path = f"/cases/{case['id']}/outcome"
    agreed = {"result": "agreed", "scope": "full", "agreement_material_id": material["id"]}
    await mediator.post(path, 422, code="required", json=agreed)
    report = await mediator.post(path, 201, json={**agreed, "entrusted_request": "mediation_document"})
    assert report["entrusted_request"] == "mediation_document"
    assert report["jc_last_day"] is None
    done = await actors.court_a.post(f"{path}/acknowledge", json={})
    assert done["state"] == "mediation_doc_requested"
    assert [e["type"] for e in await events(actors, case["id"])][-2:] == [
        "case.acknowledged",
        "case.mediation_document_requested",
    ]


async def test_an_outcome_cannot_be_recorded_before_the_mediation(actors: Actors) -> None:
    case = await apihelp.assigned_case(actors)
    mediator = await actors.user("mediator1")
    await mediator.post(f"/cases/{case['id']}/outcome", 403, code="forbidden", json=failed_report())
    accepted = await mediator.post(f"/cases/{case['id']}/accept", json={})
    assert accepted["state"] == "accepted"
    body = {"result": "agreed", "scope": "full", "agreement_material_id": "mat_00000000000000000000000000"}
    await mediator.post(f"/cases/{case['id']}/outcome", 409, code="illegal_transition", json=body)
    await actors.court_a.post(f"/cases/{case['id']}/outcome/acknowledge", 409, code="not_reported", json={})
