"""The parties' access to their recordings: who is entitled to which part, the signed party link (issue,
expiry, wrong party, tampering, other purposes), the party page, playback with HTTP Range, the audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select

from cases import jc_links
from cases.tables import AuditEvent, Party
from recordings import party_links
from recordings.jobs import claim_render, run_render
from recordings.party_access import entitled
from recordings.party_links import PartyLinkClaims, PartyLinkError
from recordings.tables import Recording
from rooms import tokens as join_tokens
from tests.conftest import START, Api
from tests.factories import World
from tests.recordings.test_service import record_and_seal
from tests.signaling.test_room_protocol import new_scene
from tiaojie import signed
from tiaojie.clock import FrozenClock
from web.party_recordings_page import COOKIE
from web.services import Services

pytestmark = pytest.mark.timeout(120)
Client = TestClient[Any, Any]
SECRET = "s" * 40


# --- who may see what (pure) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("part", "mode", "recorded", "applicant", "respondent"),
    [
        ("main", "joint", {"applicant"}, True, True),  # the main room of a joint session: every party
        ("main", "joint", set(), True, True),
        ("c1", "joint", {"applicant"}, True, False),  # a caucus with the worker's side only
        ("c1", "joint", {"applicant", "respondent"}, True, True),  # both sides were in it
        ("c1", "joint", set(), False, False),  # only the mediator was recorded
        ("main", "separate", {"respondent"}, False, True),  # each side at its own time
        ("main", "separate", {"applicant", "respondent"}, False, False),  # spans both sides' times
    ],
)
def test_entitlement(part: str, mode: str, recorded: set[str], applicant: bool, respondent: bool) -> None:
    assert entitled(part=part, mode=mode, recorded_sides=recorded, side="applicant") is applicant
    assert entitled(part=part, mode=mode, recorded_sides=recorded, side="respondent") is respondent


# --- the link (pure) -----------------------------------------------------------------------------------


def _claims(**changes: Any) -> PartyLinkClaims:
    base = {
        "case_id": "cas_1",
        "party_id": "pty_1",
        "role": "principal",
        "side": "applicant",
        "expires_at": int((START + timedelta(days=7)).timestamp()),
    }
    return PartyLinkClaims(**{**base, **changes})


def _code(token: str, now: Any = START) -> str:
    with pytest.raises(PartyLinkError) as caught:
        party_links.verify(token, secret=SECRET, now=now)
    return caught.value.code


def test_link_round_trip_expiry_and_tampering() -> None:
    token = party_links.issue(_claims(), secret=SECRET)
    assert party_links.verify(token, secret=SECRET, now=START) == _claims()
    assert _code(token, START + timedelta(days=7)) == "link_expired"
    version, _payload, signature = token.split(".")
    forged = party_links.issue(_claims(party_id="pty_2"), secret=SECRET).split(".")[1]
    assert _code(f"{version}.{forged}.{signature}") == "link_invalid"  # another party's claims, old signature
    assert _code(party_links.issue(_claims(), secret="t" * 40)) == "link_invalid"  # another deployment
    assert _code(token[:-2]) in ("link_invalid", "link_malformed")
    assert _code("pr1.x") == "link_malformed"
    assert _code("") == "link_malformed"


def test_links_of_other_purposes_are_refused() -> None:
    # Same version and payload shape, but signed for judicial confirmation: not genuine here.
    payload = {"c": "cas_1", "p": "pty_1", "r": "principal", "s": "applicant", "exp": 2_000_000_000}
    other = signed.seal(
        payload, version="pr1", purpose=b"tiaojie judicial confirmation link v1", secret=SECRET
    )
    assert _code(other) == "link_invalid"
    jc = jc_links.issue(jc_links.JcClaims("jca_1", "pty_1", 2_000_000_000), secret=SECRET)
    assert _code(jc) == "link_malformed"
    join = join_tokens.issue(
        join_tokens.JoinClaims("ses_1", "spt_1", "applicant", 1, 2_000_000_000), secret=SECRET
    )
    assert _code(join) == "link_malformed"
    # And the reverse: a recordings link is no confirmation link.
    with pytest.raises(jc_links.LinkError):
        jc_links.verify(party_links.issue(_claims(), secret=SECRET), secret=SECRET, now=START)


# --- through the service --------------------------------------------------------------------------------


async def _record(services: Services, scene: dict[str, Any], clock: FrozenClock, **where: str) -> str:
    return await record_and_seal(
        services.db, scene, clock, services.settings.effective_media_dir, 2.0, **where
    )


async def _render(services: Services, recording_id: str, clock: FrozenClock) -> None:
    assert await claim_render(services.db, recording_id, at=clock.now())
    outcome = await run_render(services.db, services.settings.effective_media_dir, recording_id, clock)
    assert outcome.status.value == "ready", outcome.error


async def _parties(services: Services, case_id: str) -> dict[str, Party]:
    async with services.db.read() as session:
        rows = (await session.scalars(select(Party).where(Party.case_id == case_id))).all()
    names = {"张三": "worker", "焦作某机械有限公司": "employer", "李律师": "agent"}
    return {names[p.name]: p for p in rows}


async def _audit(services: Services, action: str) -> list[AuditEvent]:
    async with services.db.read() as session:
        return list(
            (
                await session.scalars(
                    select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
                )
            ).all()
        )


async def test_issuing_links_is_for_the_mediator_and_the_court(
    client: Client, api: Api, services: Services, scene: dict[str, Any], clock: FrozenClock
) -> None:
    case = scene["case_id"]
    path = f"/cases/{case}/recording-links"
    none = await api.as_("court_a").post(path, json={}, expect=409)
    assert none["error"]["code"] == "no_sealed_recordings"
    main = await _record(services, scene, clock)
    await api.as_("union1").post(path, json={}, expect=403)
    await api.as_("court_b").post(path, json={}, expect=404)
    bad = await api.as_("court_a").post(
        path, json={"party_ids": ["pty_00000000000000000000000000"]}, expect=422
    )
    assert bad["error"]["code"] == "unknown_party"
    await api.as_("court_a").post(path, json={"valid_days": 31}, expect=422)
    await api.as_("court_a").post(path, json={"notify": "yes please"}, expect=422)

    before = len(services.notifier.sent)  # type: ignore[attr-defined]
    links = await api.as_("court_a").post(path, json={}, expect=201)
    assert {link["name"] for link in links} == {"张三", "焦作某机械有限公司", "李律师"}
    assert all(link["recordings"] == [main] for link in links)
    assert all(link["url"].startswith(services.settings.base_url() + "/pr#pr1.") for link in links)
    assert all(
        link["expires_at"].startswith((START + timedelta(days=7)).date().isoformat()) for link in links
    )
    sent = services.notifier.sent[before:]  # type: ignore[attr-defined]
    assert {m.purpose for m in sent} == {"recording_link"}
    assert len(sent) == 3
    assert all("仅限本人" in m.text for m in sent)
    issued = await _audit(services, "recording_link_issued")
    assert len(issued) == 3
    assert {e.case_id for e in issued} == {case}
    async with services.db.read() as session:
        recording = await session.get(Recording, main)
        assert recording is not None
        assert recording.render_status == "queued"  # the playback is made for the parties

    # The mediator (logged in to the console by the scene) gives one party a link, without an SMS.
    parties = await _parties(services, case)
    response = await client.post(
        f"/api/v1{path}",
        json={"party_ids": [parties["worker"].id], "notify": False, "valid_days": 2},
        headers={"X-CSRF-Token": scene["csrf"]},
    )
    assert response.status == 201, await response.text()
    [one] = await response.json()
    assert one["party_id"] == parties["worker"].id
    assert one["notified"] is False
    assert len(services.notifier.sent) == before + 3  # type: ignore[attr-defined]


async def _view(client: Client, token: str, expect: int = 200) -> Any:
    response = await client.post("/pr/api/view", json={"token": token})
    body = await response.json()
    assert response.status == expect, body
    return body


async def test_each_party_sees_and_plays_only_their_recordings(
    client: Client, api: Api, world: World, services: Services, scene: dict[str, Any], clock: FrozenClock
) -> None:
    case = scene["case_id"]
    main = await _record(services, scene, clock)
    caucus = await _record(services, scene, clock, part="c1")  # the worker alone with the mediator
    other_scene = await new_scene(client, api, world)
    elsewhere = await _record(services, other_scene, clock)  # another case's recording
    links = await api.as_("court_a").post(f"/cases/{case}/recording-links", json={}, expect=201)
    token = {link["name"]: link["url"].split("#", 1)[1] for link in links}
    worker, employer, agent = token["张三"], token["焦作某机械有限公司"], token["李律师"]
    await _render(services, main, clock)

    # The worker: the main room (ready) and their own caucus (still being prepared).
    response = await client.post("/pr/api/view", json={"token": worker})
    assert response.status == 200
    seen = await response.json()
    set_cookie = response.headers["Set-Cookie"]
    assert set_cookie.startswith(f"{COOKIE}=")
    for attribute in ("HttpOnly", "SameSite=Strict", "Path=/pr/play/", "Max-Age=604800"):
        assert attribute in set_cookie, set_cookie
    assert seen["party_name"] == "张三"
    assert [(r["id"], r["part"], r["playback"]) for r in seen["recordings"]] == [
        (main, "main", "ready"),
        (caucus, "c1", "preparing"),
    ]
    assert seen["recordings"][0]["url"] == f"/pr/play/{main}"
    assert client.session.cookie_jar.filter_cookies(client.make_url(f"/pr/play/{main}")).get(COOKIE)
    assert not client.session.cookie_jar.filter_cookies(client.make_url("/api/v1/cases")).get(COOKIE)

    whole = await client.get(f"/pr/play/{main}")
    assert whole.status == 200
    assert whole.headers["Content-Type"] == "video/mp4"
    assert whole.headers["Cache-Control"] == "private, no-store"
    body = await whole.read()
    size = len(body)
    assert size > 1000
    part = await client.get(f"/pr/play/{main}", headers={"Range": "bytes=100-199"})
    assert part.status == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{size}"
    assert await part.read() == body[100:200]
    download = await client.get(f"/pr/play/{main}?download=1")
    assert download.status == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    not_ready = await client.get(f"/pr/play/{caucus}")
    assert not_ready.status == 409
    assert (await not_ready.json())["error"]["code"] == "render_not_ready"
    assert (await client.get(f"/pr/play/{elsewhere}")).status == 404  # another case's recording
    assert (await client.get("/pr/play/rec_00000000000000000000000000")).status == 404

    # The employer and their agent: the main room only; the worker's caucus does not exist for them.
    for name, their in (("employer", employer), ("agent", agent)):
        shown = await _view(client, their)
        assert [r["id"] for r in shown["recordings"]] == [main], name
        assert (await client.get(f"/pr/play/{caucus}")).status == 404
        assert (await client.get(f"/pr/play/{main}", headers={"Range": "bytes=0-99"})).status == 206

    # Every look is audited, with the party as the actor.
    parties = await _parties(services, case)
    listed = await _audit(services, "recordings_listed")
    assert [e.actor_id for e in listed] == [parties["worker"].id, parties["employer"].id, parties["agent"].id]
    assert all(e.case_id == case and e.data["via"] == "party_link" for e in listed)
    played = await _audit(services, "recording_played")
    # The worker's whole-file request and each respondent's first range: a viewing each, not every seek.
    assert [(e.actor_id, e.subject_id) for e in played] == [
        (parties["worker"].id, main),
        (parties["employer"].id, main),
        (parties["agent"].id, main),
    ]
    downloaded = await _audit(services, "recording_downloaded")
    assert [(e.actor_id, e.subject_id) for e in downloaded] == [(parties["worker"].id, main)]

    # Without the cookie nothing plays; after the link's days, nothing at all.
    client.session.cookie_jar.clear()
    refused = await client.get(f"/pr/play/{main}")
    assert refused.status == 401
    assert (await refused.json())["error"]["code"] == "link_malformed"
    clock.advance(timedelta(days=7))
    assert (await _view(client, worker, 401))["error"]["code"] == "link_expired"


async def test_a_link_for_another_role_or_case_is_refused(
    client: Client, api: Api, world: World, services: Services, scene: dict[str, Any], clock: FrozenClock
) -> None:
    await _record(services, scene, clock)
    secret = services.settings.secret_key
    assert secret is not None
    parties = await _parties(services, scene["case_id"])
    agent = parties["agent"]
    expires = int((clock.now() + timedelta(days=1)).timestamp())

    def link(**changes: str) -> str:
        claims = {"case_id": agent.case_id, "party_id": agent.id, "role": agent.role, "side": agent.side}
        return party_links.issue(PartyLinkClaims(**{**claims, **changes}, expires_at=expires), secret=secret)

    assert (await _view(client, link()))["party_name"] == "李律师"
    for wrong in (link(role="principal"), link(side="applicant")):
        assert (await _view(client, wrong, 401))["error"]["code"] == "link_wrong_party"
    other = await new_scene(client, api, world)
    assert (await _view(client, link(case_id=other["case_id"]), 401))["error"]["code"] == "link_wrong_party"
    # A join link of the same person's seat in the session is no recordings link.
    join = scene["tokens"]["agent"]
    assert (await _view(client, join, 401))["error"]["code"] == "link_malformed"
    # Malformed bodies are refused without a 500.
    response = await client.post("/pr/api/view", data=b"{", headers={"Content-Type": "application/json"})
    assert response.status == 422
    response = await client.post("/pr/api/view", json={"token": "x", "extra": 1})
    assert response.status == 422


async def test_the_page_is_chinese_first_then_english_and_self_contained(client: Client) -> None:
    zh = await client.get("/pr")
    assert zh.status == 200
    html = await zh.text()
    assert '<html lang="zh-CN">' in html
    assert "调解录像" in html
    assert 'name="viewport"' in html
    en = await (await client.get("/pr?lang=en")).text()
    assert '<html lang="en">' in en
    assert "Mediation recordings" in en
    script = await (await client.get("/static/recordings.js")).text()
    styles = await (await client.get("/static/recordings.css")).text()
    for text in (html, en, script, styles):
        assert "http://" not in text
        assert "https://" not in text
        assert "//cdn" not in text
