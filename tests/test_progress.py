"""tiaojie.progress: the bar's text, and how it is written to a terminal and to a log."""

from __future__ import annotations

import io

from tiaojie.progress import ProgressBar, bar


def test_bar_text() -> None:
    assert bar(0.0, 10) == "[..........]   0%"
    assert bar(0.42, 10) == "[####......]  42%"
    assert bar(1.5, 10) == "[##########] 100%"
    assert bar(-1, 4) == "[....]   0%"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_redraws_one_line() -> None:
    out = Terminal()
    progress = ProgressBar("rendering", out)
    for fraction in (0.0, 0.5, 1.0):
        progress(fraction)
    assert out.getvalue().count("\r") == 3
    assert out.getvalue().endswith("100%\n")


def test_a_log_gets_a_line_per_tenth() -> None:
    out = io.StringIO()
    progress = ProgressBar("rendering", out)
    for step in range(101):
        progress(step / 100)
    lines = out.getvalue().splitlines()
    assert len(lines) == 11
    assert "\r" not in out.getvalue()
    assert lines[-1].endswith("100%")
