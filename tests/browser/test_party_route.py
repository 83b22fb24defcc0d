"""``GET /j`` without a browser: the page frame, its languages and its headers."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp.test_utils import TestClient

from web.client_page import MESSAGES

Client = TestClient[Any, Any]


async def test_party_page_is_served_in_chinese_by_default(client: Client) -> None:
    response = await client.get("/j")
    assert response.status == 200
    html = await response.text()
    assert '<html lang="zh-CN">' in html
    assert "同意在线调解" in html
    assert "虚假调解的法律后果" in html
    assert response.headers["Cache-Control"] == "no-store"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    # No inline script or style: only the JSON data block, and everything from /static/.
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
    assert all('type="application/json"' in attrs or not body.strip() for attrs, body in scripts)
    assert "style=" not in html
    assert re.search(r'src="/static/client/party\.js\?v=\d+"', html)
    assert not re.search(r'(src|href)="(https?:)?//', html)
    strings = json.loads(re.search(r'id="strings">(.*?)</script>', html, re.S).group(1))  # type: ignore[union-attr]
    assert strings["closed.room_ended"] == MESSAGES["closed.room_ended"]["zh-CN"]


async def test_party_page_switches_to_english_and_remembers(client: Client) -> None:
    response = await client.get("/j?lang=en")
    html = await response.text()
    assert '<html lang="en">' in html
    assert "I agree to online mediation" in html
    assert response.cookies["tj_lang"].value == "en"
    again = await client.get("/j")
    assert '<html lang="en">' in await again.text()


def test_every_message_has_both_languages_and_the_same_placeholders() -> None:
    for key, texts in MESSAGES.items():
        assert set(texts) == {"zh-CN", "en"}, key
        zh, en = (set(re.findall(r"\{(\w+)\}", texts[lang])) for lang in ("zh-CN", "en"))
        assert zh == en, key


def test_every_string_the_page_uses_exists() -> None:
    """Keys the script looks up (``t("key")``) and the template renders (``t["key"]``) are all in MESSAGES;
    the identity-check methods the mediator can pick are the protocol's."""
    from pathlib import Path
    from typing import get_args

    from signaling.messages import CheckIdentity

    root = Path(__file__).resolve().parents[2]
    used: set[str] = set()
    for script in (root / "web" / "client" / "src").glob("*.js"):
        used |= set(re.findall(r"""\bt\(\s*["']([\w.]+)["']""", script.read_text()))
    template = (root / "web" / "templates" / "client" / "party.html").read_text()
    used |= set(re.findall(r"""\bt\[\s*["']([\w.]+)["']\s*\]""", template))
    assert len(used) > 50
    assert sorted(used - set(MESSAGES)) == []
    methods = get_args(CheckIdentity.model_fields["method"].annotation)
    assert [m for m in methods if f"identity.method.{m}" not in MESSAGES] == []
