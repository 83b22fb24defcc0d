"""All tables, imported in one place so that migrations and tests see the whole schema."""

from __future__ import annotations

import accounts.tables
import agreements.comment_tables
import agreements.sealed_tables
import agreements.tables
import cases.outcome_tables
import cases.tables
import recordings.tables
import rooms.tables
import transcripts.tables
import webhooks.tables
from store.base import Base

__all__ = ["metadata"]

metadata = Base.metadata

_TABLE_MODULES = (
    accounts.tables,
    agreements.tables,
    agreements.comment_tables,
    agreements.sealed_tables,
    cases.tables,
    cases.outcome_tables,
    rooms.tables,
    recordings.tables,
    transcripts.tables,
    webhooks.tables,
)
