"""agreement signing: rounds, signers, one-time codes, signatures and the hash-chained trail

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from store.append_only import allow_changes, forbid_changes

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql")
_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "signing_rounds",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("version_id", sa.String(length=32), nullable=False),
        sa.Column("signing_order", sa.String(length=20), nullable=False),
        sa.Column("seal_required", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_at", _TS, nullable=False),
        sa.Column("closed_at", _TS, nullable=True),
        sa.Column("effective_at", _TS, nullable=True),
        sa.Column("refusal_signer_id", sa.String(length=32), nullable=True),
        sa.Column("refusal_reason", sa.Text(), nullable=True),
        sa.Column("evidence_status", sa.String(length=20), nullable=True),
        sa.Column("evidence_attempts", sa.Integer(), nullable=False),
        sa.Column("evidence_error", sa.String(length=500), nullable=True),
        sa.Column("evidence_delivered_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_signing_rounds_case_id_cases"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"],
            ["agreement_versions.id"],
            name=op.f("fk_signing_rounds_version_id_agreement_versions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_rounds")),
    )
    with op.batch_alter_table("signing_rounds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signing_rounds_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_signing_rounds_version_id"), ["version_id"], unique=False)

    op.create_table(
        "signing_signers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("round_id", sa.String(length=32), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("signer_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=30), nullable=True),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("last", sa.Boolean(), nullable=False),
        sa.Column("link_version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["signing_rounds.id"],
            name=op.f("fk_signing_signers_round_id_signing_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_signers")),
        sa.UniqueConstraint("round_id", "signer_id", name=op.f("uq_signing_signers_round_id_signer_id")),
    )
    with op.batch_alter_table("signing_signers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signing_signers_round_id"), ["round_id"], unique=False)

    op.create_table(
        "signing_codes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("round_id", sa.String(length=32), nullable=False),
        sa.Column("signer_id", sa.String(length=32), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("phone_masked", sa.String(length=30), nullable=False),
        sa.Column("sent_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("used_at", _TS, nullable=True),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["signing_rounds.id"],
            name=op.f("fk_signing_codes_round_id_signing_rounds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signing_codes")),
    )
    with op.batch_alter_table("signing_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_signing_codes_round_id"), ["round_id"], unique=False)
        batch_op.create_index("ix_signing_codes_signer", ["signer_id", "sent_at"], unique=False)

    op.create_table(
        "agreement_signatures",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("round_id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("signer_id", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("signed_at", _TS, nullable=False),
        sa.Column("auth_method", sa.String(length=20), nullable=False),
        sa.Column("document_sha256", sa.String(length=64), nullable=False),
        sa.Column("strokes_key", sa.String(length=300), nullable=True),
        sa.Column("strokes_sha256", sa.String(length=64), nullable=True),
        sa.Column("image_key", sa.String(length=300), nullable=False),
        sa.Column("image_sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("points", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["round_id"], ["signing_rounds.id"], name=op.f("fk_agreement_signatures_round_id_signing_rounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_signatures")),
        sa.UniqueConstraint("round_id", "signer_id", name=op.f("uq_agreement_signatures_round_id_signer_id")),
    )
    with op.batch_alter_table("agreement_signatures", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agreement_signatures_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agreement_signatures_round_id"), ["round_id"], unique=False)

    op.create_table(
        "agreement_trail",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", _TS, nullable=False),
        sa.Column("round_id", sa.String(length=32), nullable=True),
        sa.Column("version_id", sa.String(length=32), nullable=True),
        sa.Column("actor_kind", sa.String(length=20), nullable=False),
        sa.Column("actor_id", sa.String(length=200), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("signer_id", sa.String(length=32), nullable=True),
        sa.Column("auth_method", sa.String(length=20), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=300), nullable=True),
        sa.Column("document_sha256", sa.String(length=64), nullable=True),
        sa.Column("details", _JSON, nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_trail")),
        sa.UniqueConstraint("case_id", "seq", name=op.f("uq_agreement_trail_case_id_seq")),
    )
    forbid_changes("agreement_signatures")
    forbid_changes("agreement_trail")


def downgrade() -> None:
    allow_changes("agreement_trail")
    allow_changes("agreement_signatures")
    op.drop_table("agreement_trail")
    with op.batch_alter_table("agreement_signatures", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreement_signatures_round_id"))
        batch_op.drop_index(batch_op.f("ix_agreement_signatures_case_id"))
    op.drop_table("agreement_signatures")
    with op.batch_alter_table("signing_codes", schema=None) as batch_op:
        batch_op.drop_index("ix_signing_codes_signer")
        batch_op.drop_index(batch_op.f("ix_signing_codes_round_id"))
    op.drop_table("signing_codes")
    with op.batch_alter_table("signing_signers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signing_signers_round_id"))
    op.drop_table("signing_signers")
    with op.batch_alter_table("signing_rounds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signing_rounds_version_id"))
        batch_op.drop_index(batch_op.f("ix_signing_rounds_case_id"))
    op.drop_table("signing_rounds")
