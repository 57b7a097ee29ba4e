"""Orgs of a fleet stopped after exit 2 (configuration) or 6 (state store), until an admin
runs `crmqual fleet resume`: beat and `crmqual fleet run` skip them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from crmqual.state.schema import UtcDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "fleet_stops",
        sa.Column("target", sa.String(200), primary_key=True),
        sa.Column("org", sa.String(200), nullable=False),
        sa.Column("exit_code", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("stopped_at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("fleet_stops")
