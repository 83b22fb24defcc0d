"""``GET /sign`` without a browser: the page frame, its languages, its headers, and that every string and
error code the script needs is there in both languages."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from agreements.rounds import SEAL_ROLE
from agreements.signing import Order
from cases.vocab import PartyRole, PartyType
from web.sign_messages import MESSAGES

Client = TestClient[Any, Any]
ROOT = Path(__file__).resolve().parents[2]


async def test_the_page_is_served_in_chinese_with_a_policy_for_the_pdf(client: Client) -> None:
    response = await client.get("/sign")
    assert response.status == 200
    html = await response.text()
    assert '<html lang="zh-CN">' in html
    assert "签署调解协议" in html
    assert "第三步：手写签名" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "frame-src 'self' blob:" in policy
    assert "object-src 'self' blob:" in policy
    assert "frame-ancestors 'none'" in policy
    assert "script-src" not in policy  # scripts only from the site itself (default-src)
    # No inline script or style: the JSON data block, then the pad and the page's script from /static/.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert all('type="application/json"' in attrs or not body.strip() for attrs, body in scripts)
    assert "style=" not in html
    assert re.search(r'src="/static/signature_pad\.js\?v=\d+"', html)
    assert re.search(r'src="/static/sign\.js\?v=\d+"', html)
    assert not re.search(r'(src|href)="(https?:)?//', html)
    found = re.search(r'id="strings">(.*?)</script>', html, re.S)
    assert found is not None
    assert json.loads(found.group(1))["err.otp_wrong"] == MESSAGES["err.otp_wrong"]["zh-CN"]
    for name in ("sign.js", "signature_pad.js", "sign.css"):
        assert (await client.get(f"/static/{name}")).status == 200


async def test_the_page_switches_to_english_and_remembers(client: Client) -> None:
    response = await client.get("/sign?lang=en")
    html = await response.text()
    assert '<html lang="en">' in html
    assert "Step 3: sign by hand" in html
    assert response.cookies["tj_lang"].value == "en"
    assert '<html lang="en">' in await (await client.get("/sign")).text()


def test_every_message_has_both_languages_and_the_same_placeholders() -> None:
    for key, texts in MESSAGES.items():
        assert set(texts) == {"zh-CN", "en"}, key
        assert all(texts.values()), key
        zh, en = (set(re.findall(r"\{(\w+)\}", texts[lang])) for lang in ("zh-CN", "en"))
        assert zh == en, key


def test_every_string_the_page_uses_exists() -> None:
    script = (ROOT / "web" / "static" / "sign.js").read_text()
    template = (ROOT / "web" / "templates" / "client" / "sign.html").read_text()
    used = set(re.findall(r"""\bt\(\s*'([\w.]+)'\s*[,)]""", script))
    used |= set(re.findall(r"""\bt\[\s*["']([\w.]+)["']\s*\]""", template))
    assert len(used) > 50
    assert sorted(used - set(MESSAGES)) == []
    # Built from a value: the round's order and status, a signer's role and status.
    families = set(re.findall(r"""\bt\(\s*'([\w.]+\.)'\s*\+""", script))
    assert families == {"err.", "order.", "role.", "status."}
    wanted = [f"order.{o.value}" for o in Order] + [f"status.{s}" for s in ("pending", "signed", "refused")]
    wanted += [f"role.{t.value}" for t in PartyType if t is not PartyType.PERSON]  # principal parties
    wanted += [f"role.{r.value}" for r in PartyRole if r is not PartyRole.PRINCIPAL]  # agents
    wanted += ["role.mediator", f"role.{SEAL_ROLE}"]
    assert sorted(k for k in wanted if k not in MESSAGES) == []


def _codes_in(path: Path) -> set[str]:
    return set(re.findall(r'code="(\w+)"', path.read_text()))


def test_every_error_the_party_api_answers_has_a_sentence() -> None:
    """The codes raised on the way of ``/sign/api`` (the link, the rules, the steps, the code checks)
    and the edge's generic ones, each with its ``err.<code>`` sentence."""
    sources = [
        "agreements/links.py",
        "agreements/signing.py",
        "agreements/signatures.py",
        "agreements/strokes.py",
    ]
    raised = set().union(*(_codes_in(ROOT / s) for s in sources))
    raised |= {"link_malformed", "link_invalid", "link_expired"}  # tiaojie.signed's LinkKind
    raised -= {"seal_not_required"}  # the console's seal, never a party's
    generic = {"unauthenticated", "not_found", "validation_failed", "malformed_json", "rate_limited"}
    missing = sorted(c for c in raised | generic if f"err.{c}" not in MESSAGES)
    assert missing == []
