"""electronic transcripts: working entries, versions, reviews (append-only)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.append_only import allow_changes, forbid_changes

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "transcript_entries",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("speaker", sa.String(length=100), nullable=False),
        sa.Column("speaker_id", sa.String(length=32), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("said_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("undisputed", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("chat_record_id", sa.BigInteger(), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["mediation_sessions.id"],
            name=op.f("fk_transcript_entries_session_id_mediation_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcript_entries")),
        sa.UniqueConstraint("session_id", "seq", name=op.f("uq_transcript_entries_session_id_seq")),
    )
    with op.batch_alter_table("transcript_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transcript_entries_session_id"), ["session_id"], unique=False)

    op.create_table(
        "transcript_versions",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("entries", _JSON, nullable=False),
        sa.Column("reviewers", _JSON, nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("review_opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("locked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_transcript_versions_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["mediation_sessions.id"],
            name=op.f("fk_transcript_versions_session_id_mediation_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcript_versions")),
        sa.UniqueConstraint("session_id", "number", name=op.f("uq_transcript_versions_session_id_number")),
    )
    with op.batch_alter_table("transcript_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transcript_versions_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_transcript_versions_session_id"), ["session_id"], unique=False)

    op.create_table(
        "transcript_reviews",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["transcript_versions.id"],
            name=op.f("fk_transcript_reviews_version_id_transcript_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transcript_reviews")),
    )
    with op.batch_alter_table("transcript_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_transcript_reviews_version_id"), ["version_id"], unique=False)
    forbid_changes("transcript_reviews")


def downgrade() -> None:
    allow_changes("transcript_reviews")
    with op.batch_alter_table("transcript_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transcript_reviews_version_id"))
    op.drop_table("transcript_reviews")
    with op.batch_alter_table("transcript_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transcript_versions_session_id"))
        batch_op.drop_index(batch_op.f("ix_transcript_versions_case_id"))
    op.drop_table("transcript_versions")
    with op.batch_alter_table("transcript_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_transcript_entries_session_id"))
    op.drop_table("transcript_entries")
