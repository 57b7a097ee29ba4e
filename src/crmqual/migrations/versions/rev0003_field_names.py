"""The output fields found by label, per target: a CRM whose console names fields itself.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crmqual.state.schema import UtcDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "field_names",
        sa.Column("target", sa.String(200), primary_key=True),
        sa.Column("output", sa.String(100), primary_key=True),
        sa.Column("api_name", sa.String(200), nullable=False),
        sa.Column("label", sa.String(400), nullable=False),
        sa.Column("resolved_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("field_names")
