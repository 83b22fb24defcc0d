"""agreement comments: who read each one when it was written

A comment on the agreement shown in the room is read back (``agreement_sync``) only by the participants who
were in that part of the room when it was written, never by someone who joins the part later (the other side
coming back from a caucus). Rows from before have none: only their author reads them back.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql")
    op.add_column("agreement_comments", sa.Column("audience", json, nullable=True))


def downgrade() -> None:
    op.drop_column("agreement_comments", "audience")
