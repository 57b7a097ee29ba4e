"""The policy lab (issue 19): outcomes (what really happened to an account, and when), the
backtests run and the assessment rows each one scored (kept by prune).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crmqual.state.schema import UtcDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "outcomes",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("account_id", sa.String(255), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(500), nullable=False),
        sa.Column("assessment_id", sa.BigInteger(), nullable=True),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.UniqueConstraint(
            "target", "account_id", "outcome", "occurred_on", name="uq_outcomes_account_event"
        ),
    )
    op.create_index("ix_outcomes_target_account", "outcomes", ["target", "account_id"])
    op.create_index("ix_outcomes_assessment", "outcomes", ["assessment_id"])
    op.create_table(
        "backtests",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("as_of", UtcDateTime(), nullable=False),
        sa.Column("window_months", sa.Integer(), nullable=False),
        sa.Column("policy_version", sa.String(200), nullable=False),
        sa.Column("against_version", sa.String(200), nullable=True),
        sa.Column("figures", sa.JSON(), nullable=False),
    )
    op.create_index("ix_backtests_target", "backtests", ["target", "id"])
    op.create_table(
        "backtest_assessments",
        sa.Column("backtest_id", sa.Integer(), primary_key=True),
        sa.Column("assessment_id", sa.BigInteger(), primary_key=True),
        sa.ForeignKeyConstraint(
            ["backtest_id"],
            ["backtests.id"],
            name="fk_backtest_assessments_backtest_id_backtests",
        ),
    )
    op.create_index("ix_backtest_assessments_assessment", "backtest_assessments", ["assessment_id"])


def downgrade() -> None:
    op.drop_index("ix_backtest_assessments_assessment", "backtest_assessments")
    op.drop_table("backtest_assessments")
    op.drop_index("ix_backtests_target", "backtests")
    op.drop_table("backtests")
    op.drop_index("ix_outcomes_assessment", "outcomes")
    op.drop_index("ix_outcomes_target_account", "outcomes")
    op.drop_table("outcomes")
