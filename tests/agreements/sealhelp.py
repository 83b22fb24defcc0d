"""Helpers for the sealing tests: an agreement frozen through the API, synthetic signature images, and the
:class:`agreements.evidence.Evidence` the signing side would hand over for it."""

from __future__ import annotations

import hashlib
import io
import random
from datetime import timedelta
from typing import Any

from PIL import Image, ImageDraw

from agreements.evidence import AuthMethod, Evidence, SignatureEvidence, TrailEntry
from agreements.sealed_tables import SealedAgreement
from agreements.sealing_service import DatabaseSealer
from agreements.tables import AgreementVersion
from tests.agreements.test_api import content
from tests.apihelp import Actors, mediating_case
from web.services import Services

__all__ = ["evidence_for", "frozen_case", "seal", "signature_png"]


def signature_png(seed: int) -> bytes:
    """A drawn signature: a few strokes of random shape (the same for the same seed), transparent ground."""
    rng = random.Random(seed)
    image = Image.new("RGBA", (360, 140), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    for _ in range(3):
        points = [(rng.randint(10, 350), rng.randint(10, 130)) for _ in range(6)]
        draw.line(points, fill=(10, 20, 90, 255), width=4, joint="curve")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def frozen_case(actors: Actors, **overrides: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """A court-a case under mediation by mediator1 with its agreement drafted and frozen: (case, version)."""
    case = await mediating_case(actors)
    mediator = await actors.user("mediator1")
    base = f"/cases/{case['id']}/agreement"
    draft = await mediator.expect("PUT", base + "/draft", 200, json=content(**overrides))
    version = await mediator.post(
        f"{base}/versions/{draft['id']}/freeze", json={"revision": draft["revision"]}
    )
    return case, version


async def evidence_for(services: Services, case: dict[str, Any], version_id: str) -> Evidence:
    """What the signing side hands over when the last signature lands: every principal party and the
    mediator signed, one minute apart, each after the step the trail records."""
    async with services.db.read() as session:
        row = await session.get(AgreementVersion, version_id)
        assert row is not None
        assert row.pdf_key is not None
        assert row.pdf_sha256 is not None
    document = services.files.path(row.pdf_key).read_bytes()
    start = services.clock.now()
    principals = sorted(
        (p for p in case["parties"] if p["role"] == "principal"), key=lambda p: p["party_type"] != "worker"
    )
    signers: list[tuple[str, str, str, AuthMethod]] = [
        (p["id"], p["name"], p["party_type"], AuthMethod.ONE_TIME_CODE) for p in principals
    ]
    signers.append(("usr_mediator1", "王调解", "mediator", AuthMethod.ACCOUNT))
    signatures = tuple(
        SignatureEvidence(
            signer_id=signer_id,
            name=name,
            role=role,
            signed_at=start + timedelta(minutes=i + 1),
            auth_method=method,
            image_png=signature_png(i),
            ip=f"127.0.0.{i + 1}",
            user_agent="Mozilla/5.0 (Linux; Android 14) Mobile Safari/537.36",
        )
        for i, (signer_id, name, role, method) in enumerate(signers)
    )
    trail: list[TrailEntry] = []
    previous = "0" * 64
    steps = [("王调解", "request_signatures", "account", None, None)] + [
        (s.name, "sign", s.auth_method.value, s.ip, s.user_agent) for s in signatures
    ]
    for seq, (actor, action, method, ip, agent) in enumerate(steps, 1):
        at = start + timedelta(minutes=seq - 1, seconds=30)
        chained = f"{previous}|{seq}|{at.isoformat()}|{actor}|{action}"
        entry_hash = hashlib.sha256(chained.encode()).hexdigest()
        trail.append(TrailEntry(seq, at, actor, action, method, ip, agent, row.pdf_sha256, entry_hash))
        previous = entry_hash
    return Evidence(
        case_id=case["id"],
        case_number=case["case_number"],
        court_name="焦作市解放区人民法院",
        organisation_name="解放区劳动争议调解委员会",
        version_id=version_id,
        version_number=row.number,
        document_pdf=document,
        document_sha256=row.pdf_sha256,
        effective_at=signatures[-1].signed_at,
        signatures=signatures,
        trail=tuple(trail),
    )


async def seal(services: Services, evidence: Evidence) -> SealedAgreement:
    return await DatabaseSealer(services.db, services.cases, services.sealing).seal(evidence)
