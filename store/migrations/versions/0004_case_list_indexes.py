"""case list indexes: newest first within a court, an organisation, a mediator

A case list is ``WHERE <who may see it> ORDER BY id DESC LIMIT n``. With only (court_id, state) to go by,
the database read and sorted every case of the court for every page; with (court_id, id) it reads the page.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from store.indexes import create_indexes, drop_indexes

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_INDEXES = {
    "ix_cases_court_newest": ["court_id", "id"],
    "ix_cases_org_newest": ["current_organisation_id", "id"],
    "ix_cases_mediator_newest": ["current_mediator_id", "id"],
}


def upgrade() -> None:
    create_indexes("cases", _INDEXES)


def downgrade() -> None:
    drop_indexes("cases", _INDEXES)
