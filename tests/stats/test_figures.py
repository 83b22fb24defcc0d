"""The pure parts: periods and quarters, the figures of hand-made rows (pauses that overlap, a reason not
known, a case closed before acceptance), grouping, ranking, and charts laid out and drawn as SVG."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from cases.deadlines import Pause
from stats.figures import FIELDS, CaseRow, Figures, GroupBy, Holder, JcRow, compute, duration_days, group
from stats.periods import Period, asked_period, parse_quarter, quarter_of, quarters_back
from stats.service import Group, ranked
from stats.shapes import Chart, Kind, Series, layout, nice_ticks
from stats.svg import svg
from tiaojie.errors import InvalidInput

SH = ZoneInfo("Asia/Shanghai")


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SH)


def test_quarters() -> None:
    assert Period.of_quarter("2026Q3") == Period(date(2026, 7, 1), date(2026, 9, 30))
    assert Period.of_quarter("2026-q4").end == date(2026, 12, 31)
    assert Period(date(2026, 1, 1), date(2026, 3, 31)).quarter == "2026Q1"
    assert Period(date(2026, 1, 1), date(2026, 3, 30)).quarter is None
    assert quarter_of(date(2026, 12, 31)) == "2026Q4"
    assert [p.label for p in quarters_back("2026Q2", 4)] == ["2025Q3", "2025Q4", "2026Q1", "2026Q2"]
    assert parse_quarter(" 2026Q1 ") == (2026, 1)
    for bad in ("2026Q0", "2026Q5", "26Q1", "2026", "Q1 2026", "1800Q1"):
        with pytest.raises(InvalidInput) as caught:
            parse_quarter(bad)
        assert caught.value.code == "invalid_quarter"
    with pytest.raises(InvalidInput):
        Period(date(2026, 2, 1), date(2026, 1, 31))
    today = date(2026, 5, 5)
    assert asked_period(None, None, None, today).quarter == "2026Q2"
    assert asked_period(None, date(2026, 1, 1), date(2026, 1, 1), today).label == "2026-01-01–2026-01-01"


def test_a_day_belongs_to_its_shanghai_date() -> None:
    q1 = Period.of_quarter("2026Q1")
    # 31 March 23:30 in Shanghai is 15:30 UTC: still the first quarter; 1 April 00:10 is not.
    assert q1.contains(datetime(2026, 3, 31, 23, 30, tzinfo=SH))
    assert not q1.contains(datetime(2026, 4, 1, 0, 10, tzinfo=SH))
    assert q1.contains(datetime(2025, 12, 31, 16, 30, tzinfo=ZoneInfo("UTC")))  # 1 January 00:30 local
    assert not q1.contains(None)


def test_duration_excludes_overlapping_pauses_once() -> None:
    pauses = (Pause(at(3, 10), at(3, 17)), Pause(at(3, 15), at(3, 20)), Pause(at(3, 25, 9), at(3, 25, 18)))
    # 2 → 31 March is 29 days; the pauses cover 10–20 March (10 days); the same-day one excludes nothing.
    assert duration_days(at(3, 2), at(3, 31), pauses) == 19


def test_figures_of_hand_made_rows() -> None:
    q1 = Period.of_quarter("2026Q1")
    a = Holder("crt_a", "org_1", "med_1")
    rows = [
        CaseRow(
            "c1",
            a,
            at(1, 5),
            at(1, 5, 12),
            at(1, 5, 9),
            at(1, 20),
            "full",
            "agreement_reached",
            date(2026, 2, 4),
        ),
        CaseRow(
            "c2", a, at(1, 6), at(1, 8), at(1, 6), at(3, 1), "failed", "no_such_reason", date(2026, 2, 7), 5
        ),
        CaseRow("c3", Holder("crt_a"), at(2, 1), closed_at=at(2, 2), outcome="failed", reason="other"),
        CaseRow("c4", a, at(3, 30), at(4, 1), at(3, 31)),  # accepted in the next quarter
        CaseRow("c5", a, at(12, 30).replace(year=2025), closed_at=at(1, 2), outcome="partial", video=True),
    ]
    jcs = [
        JcRow("c1", a, "confirmed", applied_at=at(1, 25), result_at=at(4, 2)),
        JcRow("c9", a, "rejected", applied_at=at(12, 1).replace(year=2025), result_at=at(3, 3)),
        JcRow("c8", a, "refused"),
    ]
    f = compute(rows, jcs, q1)
    assert f.received == 4  # c5 was created in December
    assert f.accepted == 2
    assert f.acceptance_median_hours == 25.5  # 3 h and 48 h
    assert (f.closed, f.agreed, f.agreed_full, f.agreed_partial, f.terminated) == (4, 2, 1, 1, 2)
    assert f.terminated_other == 2  # an unknown reason counts as "other"
    assert f.success_rate == 0.5
    assert (f.av_cases, f.av_rate) == (1, 0.25)
    assert (f.duration_cases, f.duration_median_days) == (2, 33.5)  # 15 and 52 days: c3, c5 never accepted
    assert (f.duration_8_15, f.duration_31_60, f.duration_61_plus) == (1, 1, 0)
    assert (f.within_period, f.overdue, f.extended, f.compliance_rate) == (1, 1, 1, 0.5)
    assert (f.jc_applied, f.jc_confirmed, f.jc_rejected) == (1, 0, 1)
    assert compute([], [], q1) == Figures()
    assert list(Figures().as_dict()) == list(FIELDS)

    by = group(rows, jcs, q1, GroupBy.MEDIATOR)
    assert set(by) == {"med_1", None}
    assert by[None].closed == 1
    assert by["med_1"].received == 3


def test_ranking_order() -> None:
    def g(key: str | None, name: str, **figures: object) -> Group:
        return Group(key, name, Figures(**figures))  # type: ignore[arg-type]

    groups = [
        g(None, "", agreed=5, closed=5, success_rate=1.0),
        g("b", "乙", agreed=2, closed=4, success_rate=0.5),
        g("c", "丙", agreed=2, closed=2, success_rate=1.0),
        g("d", "丁", agreed=3, closed=9, success_rate=0.3333),
        g("e", "戊"),
    ]
    assert [x.key for x in ranked(groups)] == ["d", "c", "b", "e", None]


def test_charts_are_laid_out_and_escaped() -> None:
    assert nice_ticks(7) == [0, 2, 4, 6, 8]
    assert nice_ticks(0) == [0.0, 1.0]
    assert nice_ticks(0.3)[-1] >= 0.3
    chart = Chart(
        Kind.BARS, ("2026Q1", "2026Q2"), (Series("<收案>", (7.0, 2.0)), Series("结案", (4.0, None)))
    )
    shapes = layout(chart, 640, 260, 12)
    bars = [r for r in shapes.rects if r.title]
    assert len(bars) == 3  # a missing value draws nothing
    assert max(r.h for r in bars) == pytest.approx(bars[0].h)
    assert all(r.x >= 0 and r.x + r.w <= 640 and 0 <= r.y <= 260 for r in shapes.rects)
    markup = svg(chart, "标题 & <x>")
    assert markup.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert "&lt;收案&gt;" in markup
    assert "标题 &amp; &lt;x&gt;" in markup
    assert "<script" not in markup
    assert "style=" not in markup
    lines = Chart(Kind.LINES, ("a", "b", "c"), (Series("rate", (0.5, None, 1.0)),), percent=True)
    assert any(t.text == "100%" for t in layout(lines, 400, 200, 10).texts)
    assert Chart(Kind.HBARS, ("x",), (Series("n", (0.0,)),)).empty
