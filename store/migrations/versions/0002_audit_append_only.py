"""audit trail is append-only: the database refuses UPDATE and DELETE on audit_events

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from store.append_only import allow_changes, forbid_changes

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    forbid_changes("audit_events")


def downgrade() -> None:
    allow_changes("audit_events")
