"""The statistics API against a history with known figures (tests/stats/history.py), on SQLite and
PostgreSQL: every figure, quarters and date ranges, groupings, the trend, the CSV, and the scope."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from accounts.principal import Role
from accounts.service import create_user
from stats.figures import FIELDS, Figures
from stats.table import STATISTICS_COLUMNS, TRENDS_COLUMNS, cell
from tests import apihelp
from tests.apihelp import Actors
from tests.factories import PASSWORD
from tests.stats.history import History, make_history

actors = apihelp.actors


def F(  # noqa: N802 - reads like the dataclass it builds
    **known: Any,
) -> dict[str, Any]:
    """The figures with these values and every other count zero, every other rate or median null."""
    return Figures(**known).as_dict()


Q1_COURT_A = F(
    received=7,
    accepted=5,
    closed=4,
    agreed=1,
    agreed_full=1,
    terminated=3,
    terminated_party_refuses=1,
    terminated_party_unreachable=1,
    terminated_other=1,
    success_rate=0.25,
    av_cases=1,
    av_rate=0.25,
    duration_cases=3,
    duration_median_days=18.0,
    duration_mean_days=14.0,
    duration_0_7=1,
    duration_16_30=2,
    acceptance_cases=5,
    acceptance_median_hours=2.0,
    within_period=3,
    compliance_rate=1.0,
    jc_applied=1,
)
Q1_M1 = F(
    received=4,
    accepted=3,
    closed=2,
    agreed=1,
    agreed_full=1,
    terminated=1,
    terminated_party_refuses=1,
    success_rate=0.5,
    av_cases=1,
    av_rate=0.5,
    duration_cases=2,
    duration_median_days=11.0,
    duration_mean_days=11.0,
    duration_0_7=1,
    duration_16_30=1,
    acceptance_cases=3,
    acceptance_median_hours=6.0,
    within_period=2,
    compliance_rate=1.0,
    jc_applied=1,
)
Q1_M2 = F(
    received=2,
    accepted=2,
    closed=1,
    terminated=1,
    terminated_party_unreachable=1,
    success_rate=0.0,
    av_rate=0.0,
    duration_cases=1,
    duration_median_days=20.0,
    duration_mean_days=20.0,
    duration_16_30=1,
    acceptance_cases=2,
    acceptance_median_hours=1.5,
    within_period=1,
    compliance_rate=1.0,
)
Q1_NO_MEDIATOR = F(received=1, closed=1, terminated=1, terminated_other=1, success_rate=0.0, av_rate=0.0)
Q1_UNION1 = F(
    received=6,
    accepted=5,
    closed=3,
    agreed=1,
    agreed_full=1,
    terminated=2,
    terminated_party_refuses=1,
    terminated_party_unreachable=1,
    success_rate=0.3333,
    av_cases=1,
    av_rate=0.3333,
    duration_cases=3,
    duration_median_days=18.0,
    duration_mean_days=14.0,
    duration_0_7=1,
    duration_16_30=2,
    acceptance_cases=5,
    acceptance_median_hours=2.0,
    within_period=3,
    compliance_rate=1.0,
    jc_applied=1,
)
Q1_UNION2 = F(
    received=1,
    accepted=1,
    closed=1,
    agreed=1,
    agreed_full=1,
    success_rate=1.0,
    av_cases=1,
    av_rate=1.0,
    duration_cases=1,
    duration_median_days=23.0,
    duration_mean_days=23.0,
    duration_16_30=1,
    acceptance_cases=1,
    acceptance_median_hours=3.0,
    within_period=1,
    compliance_rate=1.0,
)
Q2_COURT_A = F(
    accepted=1,
    closed=2,
    agreed=1,
    agreed_partial=1,
    terminated=1,
    terminated_positions_too_far=1,
    success_rate=0.5,
    av_cases=1,
    av_rate=0.5,
    duration_cases=2,
    duration_median_days=38.0,
    duration_mean_days=38.0,
    duration_16_30=1,
    duration_31_60=1,
    acceptance_cases=1,
    acceptance_median_hours=48.0,
    within_period=1,
    overdue=1,
    extended=1,
    compliance_rate=0.5,
    jc_confirmed=1,
)
Q2_M1 = F(
    accepted=1,
    closed=1,
    agreed=1,
    agreed_partial=1,
    success_rate=1.0,
    av_rate=0.0,
    duration_cases=1,
    duration_median_days=29.0,
    duration_mean_days=29.0,
    duration_16_30=1,
    acceptance_cases=1,
    acceptance_median_hours=48.0,
    within_period=1,
    compliance_rate=1.0,
    jc_confirmed=1,
)
Q2_M2 = F(
    closed=1,
    terminated=1,
    terminated_positions_too_far=1,
    success_rate=0.0,
    av_cases=1,
    av_rate=1.0,
    duration_cases=1,
    duration_median_days=47.0,
    duration_mean_days=47.0,
    duration_31_60=1,
    overdue=1,
    extended=1,
    compliance_rate=0.0,
)
RANGE_9_MARCH_TO_8_APRIL = F(
    received=2,
    accepted=2,
    closed=4,
    agreed=2,
    agreed_full=1,
    agreed_partial=1,
    terminated=2,
    terminated_party_refuses=1,
    terminated_party_unreachable=1,
    success_rate=0.5,
    av_cases=1,
    av_rate=0.25,
    duration_cases=4,
    duration_median_days=19.0,
    duration_mean_days=17.8,
    duration_0_7=1,
    duration_16_30=3,
    acceptance_cases=2,
    acceptance_median_hours=24.5,
    within_period=4,
    compliance_rate=1.0,
    jc_applied=1,
    jc_confirmed=1,
)


@pytest.fixture
async def history(actors: Actors) -> History:
    return await make_history(actors)


def _groups(document: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    return {g["key"]: g["figures"] for g in document["groups"]}


def _parse_csv(raw: bytes) -> list[dict[str, str]]:
    text = raw.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.mark.timeout(120)
async def test_known_figures_by_quarter_range_and_group(actors: Actors, history: History) -> None:
    m1, m2, m3 = (actors.mediator_id(m) for m in ("m1", "m2", "m3"))
    court = actors.court_a

    q1 = await court.get("/statistics?quarter=2026Q1&group_by=mediator")
    assert q1["period"] == {"from": "2026-01-01", "to": "2026-03-31", "quarter": "2026Q1"}
    assert q1["total"] == Q1_COURT_A
    assert _groups(q1) == {m1: Q1_M1, m2: Q1_M2, None: Q1_NO_MEDIATOR}
    # Ranked: most agreed first; the cases no mediator holds last.
    assert [g["key"] for g in q1["groups"]] == [m1, m2, None]
    assert [g["name"] for g in q1["groups"]] == ["王调解", "赵调解", None]
    assert q1["groups"][0]["organisation_id"] == actors.world.orgs["o1"]
    assert q1["groups"][0]["organisation_name"] == "解放区劳动争议调解委员会"

    q2 = await court.get("/statistics?quarter=2026q2")
    assert q2["group_by"] == "mediator"
    assert q2["total"] == Q2_COURT_A
    assert _groups(q2) == {m1: Q2_M1, m2: Q2_M2}

    by_org = await court.get("/statistics?quarter=2026Q1&group_by=organisation")
    assert _groups(by_org) == {actors.world.orgs["o1"]: Q1_UNION1, None: Q1_NO_MEDIATOR}
    by_court = await court.get("/statistics?quarter=2026Q1&group_by=court")
    assert _groups(by_court) == {actors.world.courts["a"]: Q1_COURT_A}
    assert by_court["groups"][0]["name"] == "焦作市解放区人民法院"

    # Both ends of a date range are included (D closed on 9 March, B on 8 April).
    ranged = await court.get("/statistics?from=2026-03-09&to=2026-04-08")
    assert ranged["period"] == {"from": "2026-03-09", "to": "2026-04-08", "quarter": None}
    assert ranged["total"] == RANGE_9_MARCH_TO_8_APRIL

    # The second court sees only its own case.
    assert (await actors.court_b.get("/statistics?quarter=2026Q1"))["total"] == Q1_UNION2
    # A filter narrows within the scope.
    only_m1 = await court.get(f"/statistics?quarter=2026Q1&mediator_id={m1}")
    assert only_m1["total"] == Q1_M1
    assert only_m1["filters"]["mediator_name"] == "王调解"
    # A quarter with nothing in it still lists the court's roster mediators, with empty figures.
    empty = await court.get("/statistics?quarter=2025Q4")
    assert empty["total"] == F()
    assert _groups(empty) == {m1: F(), m2: F()}
    assert m3 not in _groups(empty)

    trend = await court.get("/statistics/trends?quarter=2026Q2&count=3")
    assert [q["quarter"] for q in trend["quarters"]] == ["2025Q4", "2026Q1", "2026Q2"]
    assert [q["figures"] for q in trend["quarters"]] == [F(), Q1_COURT_A, Q2_COURT_A]


async def test_each_union_sees_only_its_own_mediators(actors: Actors, history: History) -> None:
    m1, m2, m3 = (actors.mediator_id(m) for m in ("m1", "m2", "m3"))
    orgs = actors.world.orgs
    union1 = await actors.union1.get("/statistics?quarter=2026Q1")
    assert union1["total"] == Q1_UNION1
    assert _groups(union1) == {m1: Q1_M1, m2: Q1_M2}
    union2 = await actors.union2.get("/statistics?quarter=2026Q1")
    assert union2["total"] == Q1_UNION2
    assert set(_groups(union2)) == {m3}
    # Another union's mediator or organisation does not exist for them (404, like a case).
    for caller, query in (
        (actors.union1, f"mediator_id={m3}"),
        (actors.union1, f"org_id={orgs['o2']}"),
        (actors.union1, f"org_id={orgs['u2']}"),
        (actors.union2, f"mediator_id={m1}"),
        (actors.union2, f"org_id={orgs['u1']}"),
        (actors.court_a, f"court_id={actors.world.courts['b']}"),
        (actors.court_a, "mediator_id=med_00000000000000000000000000"),
        (actors.court_a, "org_id=not-an-id"),
    ):
        for path in ("/statistics", "/statistics/trends"):
            await caller.get(f"{path}?{query}", 404, code="not_found")
    # Its own organisation, by id: the subtree (u1 holds o1).
    assert (await actors.union1.get(f"/statistics?quarter=2026Q1&org_id={orgs['u1']}"))["total"] == Q1_UNION1
    assert (await actors.union1.get(f"/statistics?quarter=2026Q1&org_id={orgs['o1']}"))["total"] == Q1_UNION1
    # The organisation's key sees the same as its union's for its own cases.
    assert (await actors.org1.get("/statistics?quarter=2026Q1"))["total"] == Q1_UNION1

    # A mediator sees themselves only.
    mediator1 = await actors.user("mediator1")
    own = await mediator1.get("/statistics?quarter=2026Q1")
    assert own["total"] == Q1_M1
    assert set(_groups(own)) == {m1}
    await mediator1.get(f"/statistics?mediator_id={m2}", 404, code="not_found")
    # The operator (sysadmin) sees no case data.
    async with actors.services.db.session() as s:
        await create_user(
            s,
            username="ops",
            display_name="ops",
            password=PASSWORD,
            role=Role.SYSADMIN,
            now=actors.clock.now(),
        )
    await (await actors.user("ops")).get("/statistics", 403, code="no_statistics_access")
    await actors.nobody.get("/statistics", 401)


async def test_csv_is_the_json(actors: Actors, history: History) -> None:
    court = actors.court_a
    for query in (
        "quarter=2026Q1&group_by=mediator",
        "quarter=2026Q2&group_by=organisation",
        "from=2026-03-09&to=2026-04-08&group_by=court",
    ):
        document = await court.get(f"/statistics?{query}")
        by_param = await court.call("GET", f"/statistics?{query}&format=csv")
        by_header = await court.call("GET", f"/statistics?{query}", headers={"Accept": "text/csv"})
        assert by_param.status == by_header.status == 200
        assert by_param.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert "attachment" in by_param.headers["Content-Disposition"]
        assert by_param.body == by_header.body
        rows = _parse_csv(by_param.body)
        assert list(rows[0]) == list(STATISTICS_COLUMNS)
        assert rows[0]["row"] == "total"
        assert [rows[0][f] for f in FIELDS] == [cell(document["total"][f]) for f in FIELDS]
        assert len(rows) == 1 + len(document["groups"])
        for row, group in zip(rows[1:], document["groups"], strict=True):
            assert row["row"] == document["group_by"]
            assert (row["key"], row["name"]) == (cell(group["key"]), cell(group["name"]))
            assert [row[f] for f in FIELDS] == [cell(group["figures"][f]) for f in FIELDS]
    # JSON stays the default, and wins when the client prefers it.
    json_first = await court.call("GET", "/statistics", headers={"Accept": "application/json, text/csv"})
    assert json_first.headers["Content-Type"].startswith("application/json")

    trend = await court.get("/statistics/trends?quarter=2026Q2&count=2")
    raw = await court.call("GET", "/statistics/trends?quarter=2026Q2&count=2&format=csv")
    rows = _parse_csv(raw.body)
    assert list(rows[0]) == list(TRENDS_COLUMNS)
    assert [r["quarter"] for r in rows] == ["2026Q1", "2026Q2"]
    for row, quarter in zip(rows, trend["quarters"], strict=True):
        assert [row[f] for f in FIELDS] == [cell(quarter["figures"][f]) for f in FIELDS]


async def test_bad_periods_are_refused(actors: Actors) -> None:
    court = actors.court_a
    for query, field, code in (
        ("quarter=2026Q1&from=2026-01-01&to=2026-01-31", "quarter", "invalid_period"),
        ("from=2026-01-01", "to", "invalid_period"),
        ("to=2026-01-01", "from", "invalid_period"),
        ("from=2026-02-01&to=2026-01-01", "to", "invalid_period"),
        ("from=1990-01-01&to=2199-12-31", "to", "period_too_long"),
        ("quarter=2026Q5", "quarter", "validation_failed"),
        ("quarter=1066Q1", "quarter", "invalid_quarter"),
        ("group_by=union", "group_by", "validation_failed"),
        ("format=xml", "format", "validation_failed"),
    ):
        error = (await court.call("GET", f"/statistics?{query}")).error
        assert (error["code"], error.get("field")) == (code, field), (query, error)
    await court.get("/statistics/trends?count=0", 422)
    await court.get("/statistics/trends?count=21", 422)
    # Without a period: the current quarter (the clock is in 2026Q1).
    assert (await court.get("/statistics"))["period"]["quarter"] == "2026Q1"
