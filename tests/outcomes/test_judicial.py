"""Judicial confirmation: the joint application confirmed by each party in the browser, its deadline, a
one-sided application, an offline agreement, and the court's decision."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func, select

from cases.outcome_tables import JcApplication
from rooms.notify import LogNotifier, Message, NotifyFailed
from tests import apihelp
from tests.apihelp import Actors, Caller, upload_form
from tests.factories import case_payload
from tests.outcomes.helpers import agreed_case, events
from tiaojie.clock import FrozenClock
from web.services import Services

actors = apihelp.actors


async def _reported_agreement(
    actors: Actors, **overrides: Any
) -> tuple[dict[str, Any], Caller, dict[str, Any]]:
    case, mediator, material = await agreed_case(actors, **overrides)
    await mediator.post(
        f"/cases/{case['id']}/outcome",
        201,
        json={"result": "agreed", "scope": "full", "agreement_material_id": material["id"]},
    )
    return case, mediator, material


async def _start(mediator: Caller, case: dict[str, Any]) -> dict[str, Any]:
    path = f"/cases/{case['id']}/judicial-confirmation"
    application: dict[str, Any] = await mediator.post(path, 201, json={"notify": False})
    return application


def _token(link: str) -> str:
    assert "/jc#" in link
    return link.split("#", 1)[1]


async def _party(client: TestClient[Any, Any], path: str, status: int, **body: Any) -> dict[str, Any]:
    response = await client.post(f"/jc/api/{path}", json=body)
    data: dict[str, Any] = await response.json()
    assert response.status == status, (response.status, data)
    return data


async def test_both_parties_confirm_and_the_court_decides(
    actors: Actors, client: TestClient[Any, Any], services: Services
) -> None:
    case, mediator, material = await _reported_agreement(actors)
    application = await mediator.post(f"/cases/{case['id']}/judicial-confirmation", 201, json={})
    assert application["status"] == "awaiting_parties"
    assert application["last_day"] == "2026-04-01"
    assert application["agreement_material_id"] == material["id"]
    parties = application["parties"]
    assert sorted(p["side"] for p in parties) == ["applicant", "respondent"]  # the principals, not the agent
    notifier = services.notifier
    assert isinstance(notifier, LogNotifier)
    texts = [m.text for m in notifier.sent if m.purpose == "jc_confirmation"]
    assert len(texts) == 2
    assert all(any(p["link"] in t for t in texts) for p in parties)

    worker, employer = (_token(p["link"]) for p in sorted(parties, key=lambda p: p["side"]))
    shown = await _party(client, "view", 200, token=worker)
    assert shown["party_name"] == "张三"
    assert shown["other_parties"] == ["焦作某机械有限公司"]
    assert shown["court_name"] == "焦作市解放区人民法院"
    assert shown["status"] == "awaiting_parties"
    first = await _party(
        client,
        "answer",
        200,
        token=worker,
        confirm=True,
        phone="13900001111",
        service_address="zs@example.cn",
    )
    assert (first["answer"], first["status"]) == ("confirmed", "awaiting_parties")
    await _party(client, "answer", 409, token=worker, confirm=True)
    assert (await actors.court_a.get(f"/cases/{case['id']}"))["state"] == "reported"  # one side is not enough
    second = await _party(client, "answer", 200, token=employer, confirm=True)
    assert second["status"] == "applied"

    assert (await actors.court_a.get(f"/cases/{case['id']}"))["state"] == "jc_applied"
    applied = [e for e in await events(actors, case["id"]) if e["type"] == "judicial_confirmation.applied"]
    assert len(applied) == 1
    details = applied[0]["data"]["details"]
    assert details["application_id"] == application["id"]
    assert details["agreement_material_id"] == material["id"]
    seen = await actors.court_a.get(f"/cases/{case['id']}/judicial-confirmation")
    worker_row = next(p for p in seen["parties"] if p["side"] == "applicant")
    assert worker_row["phone"] == "13900001111"
    assert worker_row["service_address"] == "zs@example.cn"
    assert len(worker_row["id_number"]) == 18  # identity in full for the court
    assert all(p["answered_at"] and p["link"] is None for p in seen["parties"])
    await actors.union1.get(f"/cases/{case['id']}/judicial-confirmation", 403)

    result = f"/cases/{case['id']}/judicial-confirmation/result"
    await mediator.post(result, 403, code="not_case_court", json={"result": "confirmed"})
    await actors.court_a.post(result, 422, code="required", json={"result": "rejected"})
    decided = await actors.court_a.post(result, json={"result": "rejected", "reason": "协议内容违反法律规定"})
    assert decided["status"] == "rejected"
    assert decided["closed_reason"] == "协议内容违反法律规定"
    assert (await actors.court_a.get(f"/cases/{case['id']}"))["state"] == "jc_rejected"
    assert (await events(actors, case["id"]))[-1]["type"] == "judicial_confirmation.rejected"
    await actors.court_a.post(result, 409, code="jc_not_applied", json={"result": "confirmed"})


async def test_a_one_sided_application_is_refused(actors: Actors, client: TestClient[Any, Any]) -> None:
    case, mediator, _ = await _reported_agreement(actors)
    application = await mediator.post(
        f"/cases/{case['id']}/judicial-confirmation", 201, json={"notify": False}
    )
    worker, employer = (_token(p["link"]) for p in sorted(application["parties"], key=lambda p: p["side"]))
    await mediator.post(f"/cases/{case['id']}/judicial-confirmation", 409, code="jc_already_open", json={})
    await _party(client, "answer", 200, token=worker, confirm=True)
    refused = await _party(client, "answer", 200, token=employer, confirm=False, reason="尚未收到首期款项")
    assert (refused["status"], refused["answer"]) == ("refused", "declined")
    late = await _party(client, "answer", 409, token=worker, confirm=True)
    assert late["error"]["code"] == "jc_not_open"
    state = await mediator.get(f"/cases/{case['id']}/judicial-confirmation")
    assert state["status"] == "refused"
    assert "共同申请" in state["closed_reason"]
    assert "尚未收到首期款项" in state["closed_reason"]
    assert (await actors.court_a.get(f"/cases/{case['id']}"))["state"] == "reported"
    assert not [e for e in await events(actors, case["id"]) if e["type"].startswith("judicial_confirmation")]
    again = await mediator.post(f"/cases/{case['id']}/judicial-confirmation", 201, json={"notify": False})
    assert again["id"] != application["id"]


async def test_after_thirty_days_nobody_can_apply(
    actors: Actors, client: TestClient[Any, Any], clock: FrozenClock
) -> None:
    case, mediator, _ = await _reported_agreement(actors)
    application = await mediator.post(
        f"/cases/{case['id']}/judicial-confirmation", 201, json={"notify": False}
    )
    worker = _token(application["parties"][0]["link"])
    clock.advance(timedelta(days=30, hours=13))  # 2026-04-01 22:00 in Shanghai: still the last day
    assert (await _party(client, "view", 200, token=worker))["status"] == "awaiting_parties"
    clock.advance(timedelta(hours=3))  # 2 April
    shown = await _party(client, "view", 401, token=worker)  # the link ended with the period
    assert shown["error"]["code"] == "link_expired"
    mediator = await actors.user("mediator1")
    late = await mediator.get(f"/cases/{case['id']}/judicial-confirmation")
    assert late["status"] == "lapsed"
    refused = await mediator.post(
        f"/cases/{case['id']}/judicial-confirmation", 422, code="jc_period_expired", json={"notify": False}
    )
    assert "2026-04-01" in refused["error"]["message"]


async def test_only_an_agreed_delegated_case_or_an_offline_agreement_applies(
    actors: Actors, client: TestClient[Any, Any]
) -> None:
    entrusted, mediator, material = await agreed_case(actors, kind="entrusted")
    await mediator.post(
        f"/cases/{entrusted['id']}/outcome",
        201,
        json={
            "result": "agreed",
            "scope": "full",
            "agreement_material_id": material["id"],
            "entrusted_request": "suit_withdrawal",
        },
    )
    await mediator.post(
        f"/cases/{entrusted['id']}/judicial-confirmation", 409, code="illegal_transition", json={}
    )

    offline = await actors.court_a.post(
        "/cases",
        201,
        json=case_payload(offline_agreement=True, agreement_effective_at="2026-03-01T15:00:00+08:00"),
    )
    assert offline["state"] == "offline_agreement_uploaded"
    path = f"/cases/{offline['id']}/judicial-confirmation"
    await actors.court_a.post(path, 422, code="required", json={})
    signed = await actors.court_a.post(f"/cases/{offline['id']}/materials", 201, data=upload_form())
    application = await actors.court_a.post(
        path, 201, json={"agreement_material_id": signed["id"], "notify": False}
    )
    assert application["last_day"] == "2026-03-31"
    for party in application["parties"]:
        await _party(client, "answer", 200, token=_token(party["link"]), confirm=True)
    assert (await actors.court_a.get(f"/cases/{offline['id']}"))["state"] == "jc_applied"
    done = await actors.court_a.post(f"{path}/result", json={"result": "confirmed"})
    assert done["status"] == "confirmed"


async def test_the_party_endpoints_refuse_bad_input(actors: Actors, client: TestClient[Any, Any]) -> None:
    case, mediator, _ = await _reported_agreement(actors)
    application = await mediator.post(
        f"/cases/{case['id']}/judicial-confirmation", 201, json={"notify": False}
    )
    token = _token(application["parties"][0]["link"])
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    attempts: list[tuple[dict[str, Any], int, str | None]] = [
        ({"token": "nonsense"}, 401, "link_malformed"),
        ({"token": forged}, 401, "link_invalid"),
        ({"token": "v1." + token.split(".", 1)[1]}, 401, "link_malformed"),
        ({}, 422, None),
        ({"token": token, "extra": 1}, 422, None),
        ({"token": token, "confirm": "yes please"}, 422, None),
        ({"token": token, "confirm": True, "phone": "12"}, 422, None),
        ({"token": token, "confirm": True, "service_address": "a\x00b"}, 422, "invalid_characters"),
        ({"token": token, "confirm": True, "service_address": "x" * 301}, 422, None),
    ]
    for body, status, code in attempts:
        path = "view" if set(body) <= {"token"} and "token" in body else "answer"
        reply = await _party(client, path, status, **body)
        assert reply["error"]["code"], reply
        if code is not None:
            assert reply["error"]["code"] == code, (body, reply)
    for raw, headers, status in [
        (b"{", {"Content-Type": "application/json"}, 422),
        (b"[]", {"Content-Type": "application/json"}, 422),
        (b"token=x", {"Content-Type": "application/x-www-form-urlencoded"}, 415),
        (b'{"token": "' + b"x" * 20000 + b'"}', {"Content-Type": "application/json"}, 413),
    ]:
        response = await client.post("/jc/api/answer", data=raw, headers=headers)
        assert response.status == status, (raw[:20], response.status)
        assert (await response.json())["error"]["code"]
    shown = await _party(client, "view", 200, token=token)
    assert shown["answer"] is None  # nothing was recorded


async def test_the_page_serves_under_the_strict_policy(client: TestClient[Any, Any]) -> None:
    page = await client.get("/jc")
    assert page.status == 200
    html = await page.text()
    assert '<script src="/jc/app.js" defer></script>' in html
    assert "共同申请司法确认" in html
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    script = await client.get("/jc/app.js")
    assert script.status == 200
    assert "location.hash" in await script.text()


async def test_confirmation_links_go_out_after_the_application_is_stored_and_a_refusal_undoes_nothing(
    actors: Actors, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    case, mediator, _ = await _reported_agreement(actors)
    stored_when_sent: list[bool] = []

    async def refusing(message: Message) -> None:
        async with services.db.read() as session:
            stored_when_sent.append(
                bool(await session.scalar(select(func.count()).select_from(JcApplication)))
            )
        raise NotifyFailed("the SMS gateway answered 503", gateway_status=503)

    monkeypatch.setattr(services.notifier, "send", refusing)
    application = await mediator.post(f"/cases/{case['id']}/judicial-confirmation", 201, json={})
    assert stored_when_sent == [True, True]  # one message per principal party, both after the commit
    assert application["status"] == "awaiting_parties"
    assert all(p["link"] for p in application["parties"])  # for the mediator to pass on
    seen = await actors.court_a.get(f"/cases/{case['id']}/judicial-confirmation")
    assert seen["id"] == application["id"]
