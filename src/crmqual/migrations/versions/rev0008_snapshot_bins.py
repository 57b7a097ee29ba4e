"""Each written row may keep its account's stability snapshot bins (issue 22): a sync's
snapshot then counts the accounts it did not write from them instead of reading back and
working out their inputs again (``crmqual.stability.portfolio_snapshot``). Rows written before
keep none and are read back as before.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | None = None
depends_on: str | None = None

_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("assessments") as batch:
        batch.add_column(sa.Column("snapshot_key", _KEY, nullable=True))
        batch.add_column(sa.Column("snapshot_bins", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assessments") as batch:
        batch.drop_column("snapshot_bins")
        batch.drop_column("snapshot_key")
