"""Indexes for many pending rows: a run queues all its writes as pending before sending them.

``ix_assessments_target_status`` assumed pending rows were the few a killed run leaves. With
a whole run's writes pending, lookups by account through it scanned every pending row of the
target (a million-account run took quadratic time). Replaced by an index that ends in the
account id, and one that pages a run's own pending rows by id; the index of what a run
wrote gains the status and id, so a revert pages them the same way.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.drop_index("ix_assessments_target_status", table_name="assessments")
    # pending(), pending_ids(), mark_*(): a target's pending rows of these accounts.
    op.create_index(
        "ix_assessments_target_status_account", "assessments", ["target", "status", "account_id"]
    )
    # pending_writes_of_run(): a run's pending rows in id order (SQLite appends the rowid).
    op.create_index("ix_assessments_run_status", "assessments", ["run_id", "status", "id"])
    # writes_of_run(): what a revert undoes, in id order.
    op.drop_index("ix_assessments_written_run", table_name="assessments")
    op.create_index("ix_assessments_written_run", "assessments", ["written_run_id", "status", "id"])


def downgrade() -> None:
    op.drop_index("ix_assessments_written_run", table_name="assessments")
    op.create_index("ix_assessments_written_run", "assessments", ["written_run_id"])
    op.drop_index("ix_assessments_run_status", table_name="assessments")
    op.drop_index("ix_assessments_target_status_account", table_name="assessments")
    op.create_index("ix_assessments_target_status", "assessments", ["target", "status"])
