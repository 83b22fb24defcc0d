"""recordings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("session_id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("part", sa.String(length=40), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("node", sa.String(length=100), nullable=False),
        sa.Column("directory", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.BigInteger(), nullable=True),
        sa.Column("bytes", sa.BigInteger(), nullable=True),
        sa.Column(
            "manifest", sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql"), nullable=True
        ),
        sa.Column("manifest_sha256", sa.String(length=64), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("retain_until", sa.Date(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("render_status", sa.String(length=20), nullable=True),
        sa.Column("render_progress", sa.Double(), nullable=True),
        sa.Column("render_file", sa.String(length=200), nullable=True),
        sa.Column("render_bytes", sa.BigInteger(), nullable=True),
        sa.Column("render_sha256", sa.String(length=64), nullable=True),
        sa.Column("render_error", sa.Text(), nullable=True),
        sa.Column("render_updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_recordings_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["mediation_sessions.id"],
            name=op.f("fk_recordings_session_id_mediation_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recordings")),
    )
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recordings_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_recordings_session_id"), ["session_id"], unique=False)
        batch_op.create_index("ix_recordings_status_node", ["status", "node"], unique=False)

    op.create_table(
        "recording_tracks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("recording_id", sa.String(length=32), nullable=False),
        sa.Column("participant_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("codec", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.id"],
            name=op.f("fk_recording_tracks_recording_id_recordings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_tracks")),
    )
    with op.batch_alter_table("recording_tracks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recording_tracks_recording_id"), ["recording_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("recording_tracks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recording_tracks_recording_id"))
    op.drop_table("recording_tracks")
    with op.batch_alter_table("recordings", schema=None) as batch_op:
        batch_op.drop_index("ix_recordings_status_node")
        batch_op.drop_index(batch_op.f("ix_recordings_session_id"))
        batch_op.drop_index(batch_op.f("ix_recordings_case_id"))
    op.drop_table("recordings")
