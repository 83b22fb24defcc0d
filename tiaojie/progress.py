"""A progress bar for long commands (rendering, reports): one line, redrawn in place on a terminal.

:func:`bar` is pure (a fraction and a width in, the text out); :class:`ProgressBar` writes it to a stream,
redrawing with a carriage return on a terminal and printing a plain line per 10 % step elsewhere (a log
file or CI output should not fill with control characters).
"""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["ProgressBar", "bar"]


def bar(fraction: float, width: int = 30) -> str:
    """``[#########.....]  42%`` for ``fraction`` in [0, 1] (clamped)."""
    fraction = min(1.0, max(0.0, fraction))
    filled = round(fraction * width)
    return f"[{'#' * filled}{'.' * (width - filled)}] {fraction * 100:3.0f}%"


class ProgressBar:
    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.interactive = self.stream.isatty()
        self._last_step = -1

    def __call__(self, fraction: float) -> None:
        if self.interactive:
            self.stream.write(f"\r{self.label} {bar(fraction)}")
            if fraction >= 1.0:
                self.stream.write("\n")
            self.stream.flush()
            return
        step = int(min(1.0, max(0.0, fraction)) * 10)
        if step > self._last_step:
            self._last_step = step
            self.stream.write(f"{self.label} {bar(fraction)}\n")
            self.stream.flush()
