"""Initial state store schema: runs, locks, cursors, assessments, schedule, failures, events.

Revision ID: 0001
Revises:
Create Date: 2025-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

# A 64-bit key on PostgreSQL; SQLite only auto-increments a column declared INTEGER.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Ts = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("mode", sa.String(32), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("started_at", Ts, nullable=False),
        sa.Column("finished_at", Ts, nullable=True),
        sa.Column("signpost", Ts, nullable=True),
        sa.Column("watermark", Ts, nullable=True),
        sa.Column("policy_version", sa.String(200), nullable=False),
        sa.Column("mapping_hash", sa.String(200), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
    )
    op.create_index("ix_runs_target_id", "runs", ["target", "id"])

    op.create_table(
        "locks",
        sa.Column("target", sa.String(200), primary_key=True),
        sa.Column("hostname", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("acquired_at", Ts, nullable=False),
        sa.Column("heartbeat_at", Ts, nullable=False),
    )

    op.create_table(
        "cursors",
        sa.Column("target", sa.String(200), primary_key=True),
        sa.Column("watermark", Ts, nullable=True),
        sa.Column("policy_version", sa.String(200), nullable=False),
        sa.Column("mapping_hash", sa.String(200), nullable=False),
        sa.Column("updated_at", Ts, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
    )

    op.create_table(
        "assessments",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("written_run_id", sa.Integer(), nullable=True),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("account_id", sa.String(255), nullable=False),
        sa.Column("assessed_at", Ts, nullable=False),
        sa.Column("account", sa.JSON(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("native", sa.JSON(), nullable=False),
        sa.Column("previous_native", sa.JSON(), nullable=False),
        sa.Column("policy_version", sa.String(200), nullable=False),
        sa.Column("grade", sa.String(32), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("written_at", Ts, nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_assessments_run_id_runs"),
        sa.ForeignKeyConstraint(
            ["written_run_id"], ["runs.id"], name="fk_assessments_written_run_id_runs"
        ),
    )
    # history(), last_written() and mark_*(): by account (target optional), then status.
    op.create_index("ix_assessments_account", "assessments", ["account_id", "target", "status"])
    # pending(): the few rows left by a killed run.
    op.create_index("ix_assessments_target_status", "assessments", ["target", "status"])
    # written_in_run(): what revert undoes.
    op.create_index("ix_assessments_written_run", "assessments", ["written_run_id"])

    op.create_table(
        "schedule",
        sa.Column("target", sa.String(200), primary_key=True),
        sa.Column("account_id", sa.String(255), primary_key=True),
        sa.Column("grade", sa.String(32), nullable=True),
        sa.Column("assessed_at", Ts, nullable=False),
    )
    op.create_index("ix_schedule_due", "schedule", ["target", "assessed_at"])

    op.create_table(
        "failures",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("record_id", sa.String(255), nullable=False),
        sa.Column("field", sa.String(255), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("code", sa.String(200), nullable=True),
        sa.Column("created_at", Ts, nullable=False),
        sa.Column("resolved_at", Ts, nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_failures_run_id_runs"),
    )
    # open_failures() / resolve_failures(): unresolved rows of a target.
    op.create_index("ix_failures_open", "failures", ["target", "resolved_at", "record_id"])
    op.create_index("ix_failures_run", "failures", ["run_id"])

    op.create_table(
        "events",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(200), nullable=False),
        sa.Column("account_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", Ts, nullable=False),
        sa.Column("followup_ref", sa.String(500), nullable=True),
        sa.Column("followed_up_at", Ts, nullable=True),
        sa.UniqueConstraint("event_id", name="uq_events_event_id"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_events_run_id_runs"),
    )
    op.create_index("ix_events_target_followup", "events", ["target", "followup_ref"])
    op.create_index("ix_events_run", "events", ["run_id"])


def downgrade() -> None:
    for table in ("events", "failures", "schedule", "assessments", "cursors", "locks", "runs"):
        op.drop_table(table)
