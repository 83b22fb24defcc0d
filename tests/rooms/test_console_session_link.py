"""The case page in the web console offers the case's mediator a link into each open session's room."""

from __future__ import annotations

import html
import re
from typing import Any

from aiohttp.test_utils import TestClient

from tests.signaling.test_room_protocol import Peer, scene  # noqa: F401
from tests.test_console import login, logout_locally

Client = TestClient[Any, Any]
ENTER = re.compile(r'<a class="btn btn-primary" href="/j#([^"]+)"[^>]*data-session="([^"]+)"')


async def test_the_mediator_enters_the_room_from_the_case_page(
    client: Client,
    scene: dict[str, Any],  # noqa: F811
) -> None:
    # The scene logged the client in as the case's mediator (the console shares that session).
    page = await (await client.get(f"/console/cases/{scene['case_id']}")).text()
    assert "视频调解" in page
    links = [(html.unescape(token), session) for token, session in ENTER.findall(page)]
    assert links == [(scene["tokens"]["mediator"], scene["session_id"])]  # the current link, not a new one
    mediator = Peer(scene["base"])
    room = await mediator.connect(links[0][0])
    assert [p["role"] for p in room["participants"]] == ["mediator"]
    await mediator.close()

    # A revoked link is not offered.
    pid = scene["ids"]["mediator"]
    revoke = f"/api/v1/cases/{scene['case_id']}/sessions/{scene['session_id']}/participants/{pid}/revoke"
    response = await client.post(revoke, headers={"X-CSRF-Token": scene["csrf"]})
    assert response.status == 200
    page = await (await client.get(f"/console/cases/{scene['case_id']}")).text()
    assert ENTER.findall(page) == []
    assert "您的链接已撤销或过期" in page


async def test_others_see_the_session_but_no_link(
    client: Client,
    scene: dict[str, Any],  # noqa: F811
) -> None:
    logout_locally(client)
    await login(client, "clerk_a")
    page = await (await client.get(f"/console/cases/{scene['case_id']}")).text()
    assert "视频调解" in page
    assert "/j#" not in page
