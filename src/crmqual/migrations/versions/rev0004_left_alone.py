"""Records a sync left alone (the override field set, or outputs changed by hand since
crmqual wrote them), per run, with why: for `crmqual history` and the run's summary.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crmqual.state.schema import UtcDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "left_alone",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("record_id", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_left_alone_run_id_runs"),
    )
    op.create_index("ix_left_alone_target_record", "left_alone", ["target", "record_id"])
    op.create_index("ix_left_alone_run", "left_alone", ["run_id"])


def downgrade() -> None:
    op.drop_index("ix_left_alone_run", "left_alone")
    op.drop_index("ix_left_alone_target_record", "left_alone")
    op.drop_table("left_alone")
