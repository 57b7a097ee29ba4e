"""The tables, as the code uses them; the migrations in ``crmqual.migrations.versions`` create
them (a change here needs a migration there, and the reverse)."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

__all__ = [
    "SNAPSHOT_COLUMNS",
    "UtcDateTime",
    "assessments",
    "backtest_assessments",
    "backtests",
    "cursors",
    "events_table",
    "failures_table",
    "fleet_stops",
    "locks",
    "metadata",
    "outcomes",
    "reason_texts",
    "runs",
    "schedule",
]


class UtcDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware datetime, always returned in UTC.

    SQLite has no time zone type: values are stored as naive UTC, whose fixed-width text
    compares in time order, and given ``tzinfo=UTC`` again when read.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value!r}: the state store needs timezone-aware times"
            )
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData()
_BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

runs = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("mode", sa.String(32), nullable=False),
    sa.Column("dry_run", sa.Boolean(), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("finished_at", UtcDateTime(), nullable=True),
    sa.Column("signpost", UtcDateTime(), nullable=True),
    sa.Column("watermark", UtcDateTime(), nullable=True),
    sa.Column("policy_version", sa.String(200), nullable=False),
    sa.Column("mapping_hash", sa.String(200), nullable=False),
    sa.Column("counts", sa.JSON(), nullable=False),
    sa.Column("summary", sa.JSON(), nullable=False),
    #: How the run's slim rows render their native values: the mapping's output rules and
    #: the policy's labels (``crmqual.state.rows``); None for a run that wrote none.
    sa.Column("layout", sa.JSON(none_as_null=True), nullable=True),
    sa.Index("ix_runs_target_id", "target", "id"),
)

locks = sa.Table(
    "locks",
    metadata,
    sa.Column("target", sa.String(200), primary_key=True),
    sa.Column("hostname", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer(), nullable=False),
    sa.Column("run_id", sa.Integer(), nullable=False),
    sa.Column("acquired_at", UtcDateTime(), nullable=False),
    sa.Column("heartbeat_at", UtcDateTime(), nullable=False),
)

#: Orgs of a fleet stopped (exit 2 or 6) until `crmqual fleet resume` (``crmqual.fleet``).
fleet_stops = sa.Table(
    "fleet_stops",
    metadata,
    sa.Column("target", sa.String(200), primary_key=True),
    sa.Column("org", sa.String(200), nullable=False),
    sa.Column("exit_code", sa.Integer(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("stopped_at", UtcDateTime(), nullable=False),
)

cursors = sa.Table(
    "cursors",
    metadata,
    sa.Column("target", sa.String(200), primary_key=True),
    sa.Column("watermark", UtcDateTime(), nullable=True),
    sa.Column("policy_version", sa.String(200), nullable=False),
    sa.Column("mapping_hash", sa.String(200), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("run_id", sa.Integer(), nullable=False),
)

#: Output fields found by label (a CRM that names its fields itself): what crmqual writes to.
field_names = sa.Table(
    "field_names",
    metadata,
    sa.Column("target", sa.String(200), primary_key=True),
    sa.Column("output", sa.String(100), primary_key=True),
    sa.Column("api_name", sa.String(200), nullable=False),
    sa.Column("label", sa.String(400), nullable=False),
    sa.Column("resolved_at", UtcDateTime(), nullable=False),
)

#: One row per assessment crmqual recorded; how it is kept: ``crmqual.state.rows``.
assessments = sa.Table(
    "assessments",
    metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer(), nullable=False),
    sa.Column("written_run_id", sa.Integer(), nullable=True),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("account_id", sa.String(255), nullable=False),
    sa.Column("assessed_at", UtcDateTime(), nullable=False),
    sa.Column("policy_version", sa.String(200), nullable=False),
    sa.Column("grade", sa.String(32), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("written_at", UtcDateTime(), nullable=True),
    # 1: slim (a sync's row: outputs in columns, native values rendered from runs.layout);
    # 0: as given (account, outputs, native and reasons kept as JSON).
    sa.Column("form", sa.SmallInteger(), nullable=False, server_default="0"),
    # the outputs
    sa.Column("credit_status", sa.String(32), nullable=True),
    sa.Column("score", sa.Integer(), nullable=True),
    sa.Column("credit_limit", sa.Float(), nullable=True),
    sa.Column("limit_currency", sa.String(16), nullable=True),
    sa.Column("payment_terms", sa.String(64), nullable=True),
    sa.Column("flags", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("data_completeness", sa.Integer(), nullable=True),
    sa.Column("downgraded_at", UtcDateTime(), nullable=True),
    sa.Column("reasons", sa.JSON(none_as_null=True), nullable=True),
    # the account's inputs the report reads, then the rest
    sa.Column("name", sa.Text(), nullable=True),
    sa.Column("currency", sa.String(16), nullable=True),
    sa.Column("exposure", sa.Float(), nullable=True),
    sa.Column("period_end", sa.Date(), nullable=True),
    sa.Column("inputs", sa.LargeBinary(), nullable=True),
    # the CRM's values before the write, when it had any
    sa.Column("previous_native", sa.JSON(none_as_null=True), nullable=True),
    # as given, where a row is not slim
    sa.Column("account", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("outputs", sa.JSON(none_as_null=True), nullable=True),
    sa.Column("native", sa.JSON(none_as_null=True), nullable=True),
    # the account's stability snapshot bins as the sync counted them, and the key of the
    # bands they are by (``crmqual.stability``); None where the row kept none
    sa.Column("snapshot_key", _BigId, nullable=True),
    sa.Column("snapshot_bins", sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_assessments_run_id_runs"),
    sa.ForeignKeyConstraint(
        ["written_run_id"], ["runs.id"], name="fk_assessments_written_run_id_runs"
    ),
    sa.Index("ix_assessments_account", "account_id", "target", "status"),
    sa.Index("ix_assessments_target_status_account", "target", "status", "account_id"),
    sa.Index("ix_assessments_run_status", "run_id", "status", "id"),
    sa.Index("ix_assessments_written_run", "written_run_id", "status", "id"),
)

#: The columns of the snapshot bins a row keeps.
SNAPSHOT_COLUMNS = ("snapshot_key", "snapshot_bins")

#: The text templates of reasons, each once, by a key derived from its texts.
reason_texts = sa.Table(
    "reason_texts",
    metadata,
    sa.Column("key", sa.String(16), primary_key=True),
    sa.Column("en", sa.Text(), nullable=False),
    sa.Column("zh", sa.Text(), nullable=False),
)

schedule = sa.Table(
    "schedule",
    metadata,
    sa.Column("target", sa.String(200), primary_key=True),
    sa.Column("account_id", sa.String(255), primary_key=True),
    sa.Column("grade", sa.String(32), nullable=True),
    sa.Column("assessed_at", UtcDateTime(), nullable=False),
    sa.Index("ix_schedule_due", "target", "assessed_at"),
)

failures_table = sa.Table(
    "failures",
    metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer(), nullable=False),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("record_id", sa.String(255), nullable=False),
    sa.Column("field", sa.String(255), nullable=True),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("code", sa.String(200), nullable=True),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("resolved_at", UtcDateTime(), nullable=True),
    sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_failures_run_id_runs"),
    sa.Index("ix_failures_open", "target", "resolved_at", "record_id"),
    sa.Index("ix_failures_run", "run_id"),
)

#: Records a sync left alone (override set, or outputs changed by hand), per run, with why.
left_alone_table = sa.Table(
    "left_alone",
    metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer(), nullable=False),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("record_id", sa.String(255), nullable=False),
    sa.Column("reason", sa.Text(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_left_alone_run_id_runs"),
    sa.Index("ix_left_alone_target_record", "target", "record_id"),
    sa.Index("ix_left_alone_run", "run_id"),
)

events_table = sa.Table(
    "events",
    metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
    sa.Column("event_id", sa.String(255), nullable=False),
    sa.Column("run_id", sa.Integer(), nullable=False),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("account_id", sa.String(255), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("severity", sa.String(32), nullable=False),
    sa.Column("payload", sa.JSON(), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("followup_ref", sa.String(500), nullable=True),
    sa.Column("followed_up_at", UtcDateTime(), nullable=True),
    sa.UniqueConstraint("event_id", name="uq_events_event_id"),
    sa.ForeignKeyConstraint(["run_id"], ["runs.id"], name="fk_events_run_id_runs"),
    sa.Index("ix_events_target_followup", "target", "followup_ref"),
    sa.Index("ix_events_run", "run_id"),
)

#: What really happened to an account, with its date (policy lab, issue 19).
#: ``assessment_id``: the account's latest written assessment on or before the outcome's date
#: when it was recorded (what crmqual knew before it happened); prune keeps that row.
outcomes = sa.Table(
    "outcomes",
    metadata,
    sa.Column("id", _BigId, primary_key=True, autoincrement=True),
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
    sa.Index("ix_outcomes_target_account", "target", "account_id"),
    sa.Index("ix_outcomes_assessment", "assessment_id"),
)

#: Backtests run (policy lab): their question and figures.
backtests = sa.Table(
    "backtests",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
    sa.Column("target", sa.String(200), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("as_of", UtcDateTime(), nullable=False),
    sa.Column("window_months", sa.Integer(), nullable=False),
    sa.Column("policy_version", sa.String(200), nullable=False),
    sa.Column("against_version", sa.String(200), nullable=True),
    sa.Column("figures", sa.JSON(), nullable=False),
    sa.Index("ix_backtests_target", "target", "id"),
)

#: The assessment rows each backtest scored: prune keeps them, so the backtest can be rerun.
backtest_assessments = sa.Table(
    "backtest_assessments",
    metadata,
    sa.Column("backtest_id", sa.Integer(), primary_key=True),
    sa.Column("assessment_id", sa.BigInteger(), primary_key=True),
    sa.ForeignKeyConstraint(
        ["backtest_id"], ["backtests.id"], name="fk_backtest_assessments_backtest_id_backtests"
    ),
    sa.Index("ix_backtest_assessments_assessment", "assessment_id"),
)
