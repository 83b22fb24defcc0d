"""Logging set-up: one handler on the root logger whose records pass through the personal-data scrubber."""

from __future__ import annotations

import logging
import sys

from tiaojie.masking import ScrubbingFilter

__all__ = ["configure_logging"]


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(ScrubbingFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING if level != "DEBUG" else logging.INFO)
    logging.getLogger("alembic").setLevel(logging.WARNING if level != "DEBUG" else logging.INFO)
