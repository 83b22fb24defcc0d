"""outcomes: the report to the court (OMR 21), applications for judicial confirmation and the parties'
confirmations

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_reports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=False),
        sa.Column("agreement_material_id", sa.String(length=32), nullable=True),
        sa.Column("entrusted_request", sa.String(length=30), nullable=True),
        sa.Column("course", sa.Text(), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("cost_conduct", sa.Text(), nullable=True),
        sa.Column("other_matters", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_by", sa.String(length=200), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=200), nullable=True),
        sa.Column("acknowledgement_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_material_id"],
            ["materials.id"],
            name=op.f("fk_case_reports_agreement_material_id_materials"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_reports_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_reports")),
        sa.UniqueConstraint("case_id", name=op.f("uq_case_reports_case_id")),
    )
    op.create_table(
        "jc_applications",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("agreement_material_id", sa.String(length=32), nullable=True),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_by", sa.String(length=200), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_reason", sa.Text(), nullable=True),
        sa.Column("result_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("result_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["agreement_material_id"],
            ["materials.id"],
            name=op.f("fk_jc_applications_agreement_material_id_materials"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_jc_applications_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jc_applications")),
    )
    with op.batch_alter_table("jc_applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jc_applications_case_id"), ["case_id"], unique=False)

    op.create_table(
        "jc_confirmations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("application_id", sa.String(length=32), nullable=False),
        sa.Column("party_id", sa.String(length=32), nullable=False),
        sa.Column("answer", sa.String(length=20), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("service_address", sa.String(length=300), nullable=True),
        sa.Column("decline_reason", sa.Text(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["application_id"],
            ["jc_applications.id"],
            name=op.f("fk_jc_confirmations_application_id_jc_applications"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["party_id"], ["parties.id"], name=op.f("fk_jc_confirmations_party_id_parties")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jc_confirmations")),
        sa.UniqueConstraint("application_id", "party_id", name="uq_jc_confirmations_party"),
    )


def downgrade() -> None:
    op.drop_table("jc_confirmations")
    with op.batch_alter_table("jc_applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jc_applications_case_id"))

    op.drop_table("jc_applications")
    op.drop_table("case_reports")
