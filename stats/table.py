"""The figures as CSV: one line per group (and the total), or per quarter; the columns are the JSON keys.

Made from the same JSON document the API returns, so a CSV line holds exactly what the JSON does: numbers
as JSON writes them, an empty cell for null. UTF-8 with a byte-order mark, so that spreadsheet programs
read the Chinese names correctly; CRLF line ends (RFC 4180).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from stats.figures import FIELDS

__all__ = ["STATISTICS_COLUMNS", "TRENDS_COLUMNS", "cell", "statistics_csv", "trends_csv"]

STATISTICS_COLUMNS = ("row", "key", "name", "organisation_id", "organisation_name", *FIELDS)
TRENDS_COLUMNS = ("quarter", "from", "to", *FIELDS)


def cell(value: Any) -> str:
    """A JSON value as a CSV cell: null empty, booleans and numbers as JSON writes them."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _write(columns: Sequence[str], lines: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for line in lines:
        writer.writerow([cell(v) for v in line])
    return "\ufeff" + out.getvalue()


def statistics_csv(document: dict[str, Any]) -> str:
    """The CSV of a statistics document (:func:`stats.service.statistics_json`): total, then groups."""
    total = ["total", None, None, None, None, *(document["total"][f] for f in FIELDS)]
    groups = (
        [
            document["group_by"],
            g["key"],
            g["name"],
            g["organisation_id"],
            g["organisation_name"],
            *(g["figures"][f] for f in FIELDS),
        ]
        for g in document["groups"]
    )
    return _write(STATISTICS_COLUMNS, [total, *groups])


def trends_csv(document: dict[str, Any]) -> str:
    """The CSV of a trends document (:func:`stats.service.trends_json`): one line per quarter."""
    return _write(
        TRENDS_COLUMNS,
        (
            [q["quarter"], q["from"], q["to"], *(q["figures"][f] for f in FIELDS)]
            for q in document["quarters"]
        ),
    )
