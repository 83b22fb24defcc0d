"""From the last signature to the sealed document, with the service's own sealer (as a running service is
wired): the parties, the mediator and the court download the same sealed PDF, and it verifies as intact."""

from __future__ import annotations

from tests.agreements.signhelp import drawing, frozen_case, last_code, parties_from_links, sha256
from tests.agreements.test_sealing_api import verify
from tests.apihelp import Actors, actors  # noqa: F401


async def test_a_signed_agreement_is_sealed_and_every_signer_gets_it(actors: Actors) -> None:  # noqa: F811
    case, version = await frozen_case(actors)
    sha = version["pdf_sha256"]
    mediator = await actors.user("mediator1")
    base = f"/cases/{case['id']}/agreement"
    round_ = await mediator.post(f"{base}/versions/{version['id']}/signing", 201, json={"seal": False})
    parties = parties_from_links(actors, round_)
    worker = parties["worker"]
    await worker.expect("GET", "/sealed", 404, code="not_sealed")
    for who in ("worker", "employer"):
        party = parties[who]
        await party.view()
        await party.expect("POST", "/code", 200)
        code = last_code(actors)
        body = {"document_sha256": sha, "auth": {"method": "one_time_code", "code": code}}
        await party.expect("POST", "/signature", 201, json={**body, "signature": drawing()})
    await mediator.get(f"{base}/signing/{round_['id']}/document")
    effective = await mediator.post(
        f"{base}/signing/{round_['id']}/signature", 201, json={"document_sha256": sha, "signature": drawing()}
    )
    assert effective["status"] == "effective"
    await actors.services.evidence.drain()  # the sealer runs after the commit that made it effective

    view = await worker.expect("GET", "/round", 200)
    assert view["sealed"] is True
    reply = await worker.call("GET", "/sealed")
    assert reply.status == 200, reply.text
    assert isinstance(reply.body, bytes)
    assert reply.headers["X-Content-SHA256"] == sha256(reply.body)
    assert reply.body.startswith(b"%PDF")
    employer_copy = await parties["employer"].call("GET", "/sealed")
    court_copy = await actors.court_a.call("GET", f"/cases/{case['id']}/agreement/sealed")
    assert employer_copy.body == court_copy.body == reply.body

    answer = await verify(actors.nobody, reply.body)
    assert answer["result"] == "intact", answer
    assert answer["sealed"]["version_number"] == version["number"]
    events = await actors.court_a.get(f"/cases/{case['id']}/events")
    assert sum(e["action"] == "download_sealed_agreement" for e in events) == 2
