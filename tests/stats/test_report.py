"""The quarterly analysis report: the PDF renders page by page (pdftoppm), its text is the figures', and
its CSV files are what the API answers; and ``tiaojie report`` on the command line, with its progress bar."""

from __future__ import annotations

import asyncio
import shutil
from datetime import date
from pathlib import Path

import pytest

from accounts.principal import Principal
from agreements.pdf import DEFAULT_FONT
from stats.report import build_report
from stats.scope import Filters
from tests import apihelp, test_cli
from tests.apihelp import Actors, at_local
from tests.stats.history import make_history
from tiaojie.cli import main

actors = apihelp.actors
data_dir = test_cli.data_dir  # a fresh data folder, no TIAOJIE_ settings

needs_tools = pytest.mark.skipif(
    not (DEFAULT_FONT.is_file() and shutil.which("pdftoppm") and shutil.which("pdftotext")),
    reason="needs fonts-wqy-microhei and poppler-utils",
)


async def _run(*argv: str) -> tuple[int, bytes, bytes]:
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out, err


@needs_tools
@pytest.mark.timeout(120)
@pytest.mark.parametrize("lang", ["zh-CN", "en"])
async def test_report_pages_render_and_csv_files_are_the_api(
    actors: Actors, tmp_path: Path, lang: str
) -> None:
    await make_history(actors)
    seen: list[float] = []

    async def report(folder: str) -> list[Path]:
        return await build_report(
            actors.services.db,
            Principal.system("test"),
            Filters(court_id=actors.world.courts["a"]),
            "2026Q1",
            lang=lang,
            out_dir=tmp_path / folder,
            font=DEFAULT_FONT,
            now=at_local(date(2026, 4, 25)),
            on_progress=seen.append,
        )

    files = await report("out")
    names = [f.name for f in files]
    assert names == [
        "report-2026Q1.pdf",
        "statistics-2026Q1-mediator.csv",
        "statistics-2026Q1-organisation.csv",
        "statistics-2026Q1-court.csv",
        "trends-2026Q1.csv",
    ]
    assert seen == sorted(seen)
    assert seen[-1] == 1.0
    assert len(seen) > 5

    # The same figures as the API gives the court for the same quarter, byte for byte.
    for grouping in ("mediator", "organisation", "court"):
        reply = await actors.court_a.call("GET", f"/statistics?quarter=2026Q1&group_by={grouping}&format=csv")
        assert reply.status == 200
        assert (tmp_path / "out" / f"statistics-2026Q1-{grouping}.csv").read_bytes() == reply.body
    trend = await actors.court_a.call("GET", "/statistics/trends?quarter=2026Q1&count=4&format=csv")
    assert (tmp_path / "out" / "trends-2026Q1.csv").read_bytes() == trend.body

    pdf = tmp_path / "out" / "report-2026Q1.pdf"
    assert pdf.read_bytes().startswith(b"%PDF-")
    code, _, err = await _run("pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page"))
    assert code == 0, err
    pages = sorted(tmp_path.glob("page*.png"))
    assert len(pages) >= 2
    assert all(p.stat().st_size > 2000 for p in pages)  # drawn, not blank
    code, out, err = await _run("pdftotext", "-enc", "UTF-8", str(pdf), "-")
    assert code == 0, err
    words = out.decode()
    assert ("调解工作季度分析报告" if lang == "zh-CN" else "Quarterly mediation analysis report") in words
    assert "焦作市解放区人民法院" in words
    assert "王调解" in words
    assert "赵调解" in words
    assert "孙调解" not in words  # court B's mediator is not in court A's report
    assert "25.0%" in words  # court A's success rate in 2026Q1 (1 of 4)
    # The same figures give the same file.
    again = await report("again")
    assert again[0].read_bytes() == pdf.read_bytes()


@needs_tools
@pytest.mark.timeout(120)
def test_report_command(data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--json"]) == 0
    capsys.readouterr()
    out = tmp_path / "report"
    assert main(["report", "--quarter", "2026Q3", "--lang", "en", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out.split() == [
        str(out / n)
        for n in (
            "report-2026Q3.pdf",
            "statistics-2026Q3-mediator.csv",
            "statistics-2026Q3-organisation.csv",
            "statistics-2026Q3-court.csv",
            "trends-2026Q3.csv",
        )
    ]
    assert "report 2026Q3 [" in captured.err
    assert "100%" in captured.err
    assert (out / "report-2026Q3.pdf").read_bytes().startswith(b"%PDF-")
    # Unknown scope or quarter: an error, no traceback, nothing written.
    for argv in (
        ["--quarter", "2026Q3", "--court", "crt_00000000000000000000000000"],
        ["--quarter", "2026Q5"],
    ):
        assert main(["report", *argv, "--out", str(tmp_path / "none")]) == 2
        assert "error:" in capsys.readouterr().err
    assert not (tmp_path / "none").exists()
