"""statistics indexes: cases received, accepted or closed within a period

The statistics (stats.load) select the cases created, accepted or closed within a quarter or a date range:
one index per instant, which PostgreSQL combines (bitmap OR) and SQLite uses for each branch of the OR.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""

from __future__ import annotations

from store.indexes import create_indexes, drop_indexes

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_INDEXES = {
    "ix_cases_created_at": ["created_at"],
    "ix_cases_accepted_at": ["accepted_at"],
    "ix_cases_closed_at": ["closed_at"],
}


def upgrade() -> None:
    create_indexes("cases", _INDEXES)


def downgrade() -> None:
    drop_indexes("cases", _INDEXES)
