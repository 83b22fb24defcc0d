"""Authorisation boundaries: who sees which case, roster data and personal data, and who may act.

A case a caller may not see does not exist for them (404 on every route, never 403); personal data is
masked for a union and in full for the court and the mediator handling the case; API keys are checked.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from accounts.service import create_api_key, revoke_api_key
from tests import apihelp
from tests.apihelp import (
    API,
    Actors,
    Caller,
    accepted_case,
    assigned_case,
    new_case,
    no_such_id,
    rich_case,
    snapshot,
    upload_form,
    valid_body,
)
from tests.factories import case_payload
from web.auth import KEY_CACHE

_PARAM = re.compile(r"\{(\w+)\}")

actors = apihelp.actors


async def _operations(caller: Caller) -> list[tuple[str, str, dict[str, Any]]]:
    spec = await caller.get("/openapi.json")
    return [
        (method.upper(), path.removeprefix(API), operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


async def _call_route(caller: Caller, method: str, path: str, operation: dict[str, Any], body: Any) -> Any:
    if "multipart/form-data" in operation.get("requestBody", {}).get("content", {}):
        return await caller.call(method, path, data=upload_form())
    if body is not None:
        return await caller.call(method, path, json=body)
    return await caller.call(method, path)


async def test_a_case_outside_the_callers_scope_is_not_found_on_every_route(actors: Actors) -> None:
    ids = await rich_case(actors)
    outsiders = [
        actors.court_b,
        actors.union2,
        await actors.user("mediator3"),
        await actors.user("mediator2"),
    ]
    before = await snapshot(actors.services)
    routes = [(m, p, op) for m, p, op in await _operations(actors.court_a) if "{case_id}" in p]
    assert len(routes) >= 20
    for method, template, operation in routes:
        path = _PARAM.sub(lambda m: ids.get(m.group(1)) or no_such_id(m.group(1)), template)
        body = valid_body(operation["operationId"], ids, actors.world)
        # A route this test has no valid body for may refuse the body before it looks for the case.
        unknown_body = body is None and "application/json" in operation.get("requestBody", {}).get(
            "content", {}
        )
        for caller in outsiders:
            reply = await _call_route(caller, method, path, operation, {} if unknown_body else body)
            if unknown_body and reply.status == 422:
                continue
            assert reply.status == 404, (caller, method, path, reply.status, reply.text)
            assert reply.error["code"] == "not_found"
            assert ids["case_id"] not in reply.text
    assert await snapshot(actors.services) == before
    for caller in outsiders:
        assert (await caller.get("/cases"))["items"] == []
        numbers = await caller.get("/cases", params={"case_number": "x"})
        assert numbers["items"] == []


async def test_union_sees_only_its_own_organisations_mediators_and_cases(actors: Actors) -> None:
    world = actors.world
    case = await assigned_case(actors)
    assert [c["id"] for c in (await actors.union1.get("/cases"))["items"]] == [case["id"]]
    assert [c["id"] for c in (await actors.org1.get("/cases"))["items"]] == [case["id"]]
    assert (await actors.union2.get("/cases"))["items"] == []
    assert (await actors.union2.get("/cases", params={"organisation_id": world.orgs["o1"]}))["items"] == []
    await actors.union2.get(f"/cases/{case['id']}", 404)
    for org in ("u1", "o1"):
        await actors.union2.get(f"/organisations/{world.orgs[org]}", 404)
    assert {o["id"] for o in await actors.union2.get("/organisations")} == {
        world.orgs["u2"],
        world.orgs["o2"],
    }
    for mediator in ("m1", "m2"):
        await actors.union2.get(f"/mediators/{world.mediators[mediator]}", 404)
    listed = await actors.union2.get("/mediators", params={"organisation_id": world.orgs["o1"]})
    assert listed["items"] == []
    # Probing another union's mediator through a roster submission reveals nothing either.
    for body in (
        {"court_id": world.courts["a"], "mediator_id": world.mediators["m1"]},
        {
            "court_id": world.courts["a"],
            "mediator_id": world.mediators["m1"],
            "organisation_id": world.orgs["o2"],
        },
        {"court_id": world.courts["a"], "organisation_id": world.orgs["o1"]},
    ):
        await actors.union2.post("/roster-entries", 404, json=body, code="not_found")
    me = await actors.union2.get("/me")
    assert me["kind"] == "union"
    assert set(me["organisation_ids"]) == {world.orgs["u2"], world.orgs["o2"]}


async def test_personal_data_is_masked_for_the_union(actors: Actors) -> None:
    payload = case_payload()
    case = await actors.court_a.post("/cases", 201, json=payload)
    await actors.court_a.post(
        f"/cases/{case['id']}/assignment", json={"mediator_id": actors.mediator_id("m1")}
    )
    sent = {p["name"]: p for p in payload["parties"]}
    secrets = [
        value
        for party in payload["parties"]
        for key in ("id_number", "phone", "address", "service_address")
        if (value := party.get(key))
    ]
    mediator = await actors.user("mediator1")

    for caller in (actors.court_a, mediator):
        full = await caller.get(f"/cases/{case['id']}")
        for party in full["parties"]:
            assert party["masked"] is False
            assert party["id_number"] == sent[party["name"]]["id_number"]
            assert party["phone"] == sent[party["name"]]["phone"]
        listed = (await caller.get("/cases"))["items"][0]
        assert all(p["masked"] is False for p in listed["parties"])

    for caller in (actors.union1, actors.org1):
        reply = await caller.call("GET", f"/cases/{case['id']}")
        assert reply.status == 200
        for secret in secrets:
            assert secret not in reply.text, secret
        for party in reply.body["parties"]:
            assert party["masked"] is True
            assert party["name"] == sent[party["name"]]["name"]  # names stay readable
            original = sent[party["name"]]
            assert party["id_number"] != original["id_number"]
            assert "*" in party["id_number"]
            assert party["id_number"][-4:] == original["id_number"][-4:]
            if original.get("phone"):
                assert "*" in party["phone"]
        worker = next(p for p in reply.body["parties"] if p["party_type"] == "worker")
        assert worker["phone"] == "138****8000"
        assert worker["address"].startswith("河南省焦作市")
        assert "民主路" not in worker["address"]
        listing = await caller.call("GET", "/cases")
        assert all(p["masked"] is True for p in listing.body["items"][0]["parties"])
        for secret in secrets:
            assert secret not in listing.text
        events = await caller.call("GET", f"/cases/{case['id']}/events")
        for secret in secrets:
            assert secret not in events.text
        # The union acting on the case gets the masked view back too.
    accepted = await actors.union1.call("POST", f"/cases/{case['id']}/accept", json={})
    assert accepted.status == 200
    assert all(p["masked"] is True for p in accepted.body["parties"])
    for secret in secrets:
        assert secret not in accepted.text


async def test_materials_are_for_the_court_and_the_handling_mediator(actors: Actors) -> None:
    case = await accepted_case(actors)
    path = f"/cases/{case['id']}/materials"
    material = await actors.court_a.post(path, 201, data=upload_form())
    download = f"{path}/{material['id']}"
    assert (await actors.court_a.call("GET", download)).status == 200
    assert (await (await actors.user("mediator1")).call("GET", download)).status == 200
    for who in ("union1", "org1"):
        reply = await actors.key(who).call("GET", download)
        assert reply.status == 403, reply.text
        assert reply.error["code"] == "forbidden"
        assert b"%PDF" not in (reply.body if isinstance(reply.body, bytes) else reply.text.encode())
        await actors.key(who).post(path, 403, data=upload_form())
    for caller in (
        actors.union2,
        actors.court_b,
        await actors.user("mediator3"),
        await actors.user("mediator2"),
    ):
        await caller.get(download, 404)
    # A material of another case is not reachable through this one.
    other = await new_case(actors)
    await actors.court_a.get(f"/cases/{other['id']}/materials/{material['id']}", 404)


async def test_api_keys_are_checked(actors: Actors) -> None:
    services = actors.services
    async with services.db.session() as session:
        unused = await create_api_key(
            session, name="unused", now=services.clock.now(), court_id=actors.world.courts["a"]
        )
        used = await create_api_key(
            session, name="used", now=services.clock.now(), court_id=actors.world.courts["a"]
        )
    client = actors.client
    used_caller = Caller(client, {"Authorization": f"Bearer {used.token}"}, "used")
    await used_caller.get("/cases")
    async with services.db.session() as session:
        await revoke_api_key(session, unused.key.id, now=services.clock.now())
        await revoke_api_key(session, used.key.id, now=services.clock.now())
    # A cached key works until the cache forgets it (30 s; here: cleared as when that time has passed).
    client.app[KEY_CACHE].clear()

    key_id, _, secret = actors.world.tokens["court_a"].partition(".")
    bad = {
        "revoked, never used": f"Bearer {unused.token}",
        "revoked after use": f"Bearer {used.token}",
        "wrong secret": f"Bearer {key_id}.{'x' * len(secret)}",
        "unknown key": "Bearer key_00000000000000000000000000.secret",
        "garbage": "Bearer garbage",
        "too long": "Bearer " + "k" * 300,
        "empty": "Bearer ",
        "other scheme": f"Basic {actors.world.tokens['court_a']}",
        "no scheme": actors.world.tokens["court_a"],
    }
    for label, header in bad.items():
        caller = Caller(client, {"Authorization": header}, label)
        for method, path, kwargs in (
            ("GET", "/cases", {}),
            ("POST", "/cases", {"json": case_payload()}),
            ("GET", "/me", {}),
        ):
            reply = await caller.call(method, path, **kwargs)
            assert reply.status == 401, (label, method, path, reply.status, reply.text)
            assert reply.error["code"] in ("unauthenticated", "invalid_api_key"), reply.body
            assert reply.headers["WWW-Authenticate"].startswith("Bearer")
    # No credentials at all: every route of the document answers 401 (the document itself is public), but
    # the public ones (verifying a sealed agreement), which say so in the document.
    spec = await actors.nobody.get("/openapi.json")
    public = set()
    for path, item in spec["paths"].items():
        for method in item:
            if {} in item[method]["security"]:
                public.add((method, path))
                continue
            url = _PARAM.sub(lambda m: no_such_id(m.group(1)), path)
            reply = await actors.nobody.call(method.upper(), url, json={} if method != "get" else None)
            assert (reply.status, reply.error["code"]) == (401, "unauthenticated"), (method, path, reply.text)
    assert public == {("post", "/api/v1/verify"), ("get", "/api/v1/verify/{code}")}
    expired = Caller(client, {"Cookie": "tj_session=not-a-session"}, "bogus cookie")
    reply = await expired.call("GET", "/cases")
    assert (reply.status, reply.error["code"]) == (401, "session_expired")
    assert (await actors.court_a.get("/me"))["kind"] == "court"  # the good key still works


async def test_sessions_expire_and_need_csrf(actors: Actors) -> None:
    case = await assigned_case(actors)
    mediator = await actors.user("mediator1")
    await mediator.get(f"/cases/{case['id']}")
    await mediator.post(
        f"/cases/{case['id']}/accept", 403, json={}, headers={"X-CSRF-Token": "wrong"}, code="csrf_failed"
    )
    actors.clock.advance(timedelta(hours=13))
    await mediator.get(f"/cases/{case['id']}", 401, code="session_expired")
    # The bearer key wins over a cookie.
    both = Caller(actors.client, {**mediator.headers, **actors.court_a.headers}, "both")
    assert (await both.get("/me"))["kind"] == "court"


async def test_only_a_court_creates_cases(actors: Actors) -> None:
    mediator = await actors.user("mediator1")
    union_admin = await actors.user("union_admin1")
    before = await snapshot(actors.services)
    for caller in (actors.union1, actors.union2, actors.org1, mediator, union_admin):
        await caller.post("/cases", 403, json=case_payload(), code="forbidden")
    assert await snapshot(actors.services) == before
    clerk = await actors.user("clerk_a")
    created = await clerk.post("/cases", 201, json=case_payload())
    assert created["court_id"] == actors.world.courts["a"]


async def test_who_may_act_on_a_visible_case(actors: Actors) -> None:
    case = await assigned_case(actors)
    path = f"/cases/{case['id']}"
    mediator = await actors.user("mediator1")
    await mediator.post(f"{path}/assignment", 403, json={"mediator_id": actors.mediator_id("m2")})
    await actors.union1.post(f"{path}/assignment", 403, json={"mediator_id": actors.mediator_id("m2")})
    await actors.court_a.post(f"{path}/decline", 403, json={"reason": "x"})
    await mediator.post(f"{path}/accept", json={})
    await actors.court_a.post(f"{path}/begin", 403)
    await actors.union1.post(f"{path}/begin", 403)
    await actors.union1.post(f"{path}/suspend", 403, json={"kind": "appraisal", "reason": "x"})
    await actors.union1.post(f"{path}/terminate", 403, json={"reason": "other"})
    await actors.union1.post(f"{path}/disclosures", 403, json={"kind": "none"})
    worker = next(p for p in case["parties"] if p["party_type"] == "worker")
    await actors.union1.post(
        f"{path}/change-requests", 403, json={"party_id": worker["id"], "kind": "change", "reason": "x"}
    )
    seen = await actors.union1.get(path)
    assert "assign" not in seen["allowed_actions"]
    assert "read_material" not in seen["allowed_actions"]
    court = await actors.court_a.get(path)
    assert "begin_mediation" not in court["allowed_actions"]
    assert "read_material" in court["allowed_actions"]
    assert "begin_mediation" in (await mediator.get(path))["allowed_actions"]


async def test_a_mediator_who_has_not_accepted_cannot_terminate(client: Any, api: Any, world: Any) -> None:
    """Before accepting, the mediator declines; terminating is the court's (found by the console work)."""
    from tests.factories import PASSWORD, case_payload

    case = await api.as_("court_a").post("/cases", json=case_payload(), expect=201)
    await api.as_("court_a").post(
        f"/cases/{case['id']}/assignment", json={"mediator_id": world.mediators["m1"]}, expect=200
    )
    login = await client.post("/api/v1/session", json={"username": "mediator1", "password": PASSWORD})
    headers = {"X-CSRF-Token": (await login.json())["csrf_token"]}
    seen = await (await client.get(f"/api/v1/cases/{case['id']}", headers=headers)).json()
    assert "terminate" not in seen["allowed_actions"]
    assert "decline" in seen["allowed_actions"]
    response = await client.post(
        f"/api/v1/cases/{case['id']}/terminate", json={"reason": "party_refuses"}, headers=headers
    )
    assert response.status == 403
    court = await api.as_("court_a").get(f"/cases/{case['id']}")
    assert "terminate" in court["allowed_actions"]
