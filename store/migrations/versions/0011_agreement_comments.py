"""comments on the agreement shown in the session room

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agreement_comments",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("show_id", sa.String(length=40), nullable=False),
        sa.Column("part", sa.String(length=40), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_agreement_comments_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["mediation_sessions.id"],
            name=op.f("fk_agreement_comments_session_id_mediation_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["agreement_versions.id"],
            name=op.f("fk_agreement_comments_version_id_agreement_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_comments")),
    )
    with op.batch_alter_table("agreement_comments", schema=None) as batch_op:
        batch_op.create_index("ix_agreement_comments_case", ["case_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_agreement_comments_show_id"), ["show_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agreement_comments_version_id"), ["version_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("agreement_comments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_comments_version_id"))
        batch_op.drop_index(batch_op.f("ix_agreement_comments_show_id"))
        batch_op.drop_index("ix_agreement_comments_case")
    op.drop_table("agreement_comments")
