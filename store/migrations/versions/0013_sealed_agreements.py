"""sealed agreements: the sealed PDF of each agreement version that took effect, with its verification code

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "sealed_agreements",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("version_number", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("pdf_key", sa.String(length=300), nullable=False),
        sa.Column("sealed_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("signers", _JSON, nullable=False),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_sealed_agreements_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["agreement_versions.id"],
            name=op.f("fk_sealed_agreements_version_id_agreement_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sealed_agreements")),
        sa.UniqueConstraint("code", name=op.f("uq_sealed_agreements_code")),
        sa.UniqueConstraint("sealed_sha256", name=op.f("uq_sealed_agreements_sealed_sha256")),
        sa.UniqueConstraint("version_id", name=op.f("uq_sealed_agreements_version_id")),
    )
    with op.batch_alter_table("sealed_agreements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sealed_agreements_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sealed_agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sealed_agreements_case_id"))
    op.drop_table("sealed_agreements")
