"""The console's statistics page for a court user and a union user: each sees its own scope only, with the
figures of the API, trends, the ranking and server-drawn SVG charts; in Chinese and in English."""

from __future__ import annotations

import re

import pytest

from tests import apihelp
from tests.apihelp import Actors
from tests.stats.history import make_history
from tests.test_console import login, logout_locally

actors = apihelp.actors


def _tiles(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-field="(\w+)">([^<]*)<', html))


def _ranking(html: str) -> list[str]:
    table = html.split('id="stats-ranking"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-key="([^"]+)">', table)


@pytest.mark.timeout(90)
async def test_court_and_union_users_see_their_own_scope(actors: Actors) -> None:
    await make_history(actors)
    client = actors.client
    m1, m2, m3 = (actors.mediator_id(m) for m in ("m1", "m2", "m3"))

    logout_locally(client)
    await login(client, "clerk_a")
    inbox = await (await client.get("/console/")).text()
    assert 'href="/console/statistics"' in inbox  # the link in the top bar
    response = await client.get("/console/statistics?quarter=2026Q1")
    assert response.status == 200
    html = await response.text()
    assert "调解工作统计分析" in html
    assert _tiles(html) == {
        "received": "7",
        "accepted": "5",
        "closed": "4",
        "agreed": "1",
        "terminated": "3",
        "jc_applied": "1",
        "jc_confirmed": "0",
        "success_rate": "25.0%",
        "av_rate": "25.0%",
        "compliance_rate": "100.0%",
        "duration_median_days": "18",
        "acceptance_median_hours": "2",
    }
    assert _ranking(html) == [m1, m2]
    assert "王调解" in html
    assert "孙调解" not in html  # court B's mediator
    assert "未分配调解员" in html  # case E, declined and ended by the court
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 5
    assert "2026Q1" in html
    assert "<script" not in html.split("</head>", 1)[1]  # charts are drawn on the server
    assert "/api/v1/statistics?group_by=mediator&amp;format=csv&amp;quarter=2026Q1" in html
    # The CSV link works with the console session.
    csv_reply = await client.get("/api/v1/statistics?group_by=mediator&format=csv&quarter=2026Q1")
    assert csv_reply.status == 200
    assert csv_reply.content_type == "text/csv"

    english = await (
        await client.get("/console/statistics?from=2026-03-09&to=2026-04-08&group_by=court&lang=en")
    ).text()
    assert "Mediation statistics" in english
    assert "2026-03-09–2026-04-08" in english
    assert _tiles(english)["closed"] == "4"
    assert "焦作市解放区人民法院" in english.split('id="stats-groups"', 1)[1]

    logout_locally(client)
    await login(client, "union_admin1")
    union = await (await client.get("/console/statistics?quarter=2026Q1&lang=zh-CN")).text()
    assert _tiles(union)["closed"] == "3"
    assert _tiles(union)["received"] == "6"
    assert _ranking(union) == [m1, m2]
    assert "孙调解" not in union
    assert m3 not in union
    assert "未分配调解员" not in union

    logout_locally(client)
    await login(client, "mediator3")
    own = await (await client.get("/console/statistics?quarter=2026Q1")).text()
    assert _ranking(own) == [m3]
    assert "王调解" not in own

    # Bad input is a page with a 422, not a failure.
    for query in (
        "quarter=2026Q9",
        "from=2026-01-01",
        "quarter=2026Q1&from=2026-01-01&to=2026-01-02",
        "group_by=x",
    ):
        bad = await client.get(f"/console/statistics?{query}")
        assert bad.status == 422, query
    logout_locally(client)
    assert (await client.get("/console/statistics", allow_redirects=False)).status == 303
