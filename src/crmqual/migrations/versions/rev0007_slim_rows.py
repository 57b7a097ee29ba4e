"""Slim assessment rows (issue 22): the outputs the report and the lab query become typed
columns, filled here from each existing row's JSON; a sync's new rows keep each fact once
(``crmqual.state.rows``). Rows written before keep their JSON as it is (``form`` 0), so
history, revert and the lab read them as before. Adds ``runs.layout`` and ``reason_texts``.

The downgrade puts empty JSON where a slim row has none: slim rows lose their inputs, outputs
and native values (an older crmqual cannot read them).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from crmqual.state.rows import account_columns, output_columns
from crmqual.state.schema import UtcDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

#: Rows converted per statement while the typed columns are filled.
BATCH = 5_000
_AS_GIVEN = ("account", "outputs", "native", "previous_native", "reasons")


def _new_columns() -> tuple[sa.Column[Any], ...]:
    return (
        sa.Column("form", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("credit_status", sa.String(32), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("credit_limit", sa.Float(), nullable=True),
        sa.Column("limit_currency", sa.String(16), nullable=True),
        sa.Column("payment_terms", sa.String(64), nullable=True),
        sa.Column("flags", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("data_completeness", sa.Integer(), nullable=True),
        sa.Column("downgraded_at", UtcDateTime(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("currency", sa.String(16), nullable=True),
        sa.Column("exposure", sa.Float(), nullable=True),
        sa.Column("period_end", sa.Date(), nullable=True),
        sa.Column("inputs", sa.LargeBinary(), nullable=True),
    )


def upgrade() -> None:
    op.add_column("runs", sa.Column("layout", sa.JSON(none_as_null=True), nullable=True))
    op.create_table(
        "reason_texts",
        sa.Column("key", sa.String(16), primary_key=True),
        sa.Column("en", sa.Text(), nullable=False),
        sa.Column("zh", sa.Text(), nullable=False),
    )
    with op.batch_alter_table("assessments") as batch:
        for column in _new_columns():
            batch.add_column(column)
        for name in _AS_GIVEN:
            batch.alter_column(name, existing_type=sa.JSON(), nullable=True)
    _fill_typed_columns()


def _fill_typed_columns() -> None:
    """Each existing row's outputs and account values, as the new columns hold them."""
    conn = op.get_bind()
    typed = _new_columns()[1:13]
    table = sa.table(
        "assessments",
        sa.column("id", sa.Integer()),
        sa.column("account", sa.JSON()),
        sa.column("outputs", sa.JSON()),
        *(sa.column(c.name, c.type) for c in typed),
    )
    update = (
        sa.update(table)
        .where(table.c.id == sa.bindparam("row_id"))
        .values({c.name: sa.bindparam(c.name) for c in typed})
    )
    after = 0
    while True:
        query = (
            sa.select(table.c.id, table.c.account, table.c.outputs)
            .where(table.c.id > after)
            .order_by(table.c.id)
            .limit(BATCH)
        )
        rows = conn.execute(query).all()
        if not rows:
            return
        params: list[dict[str, Any]] = [
            {"row_id": r.id} | output_columns(r.outputs or {}) | account_columns(r.account or {})
            for r in rows
        ]
        conn.execute(update, params)
        after = rows[-1].id


def downgrade() -> None:
    conn = op.get_bind()
    empty = {"account": "{}", "outputs": "{}", "native": "{}", "previous_native": "{}"}
    for name, value in (*empty.items(), ("reasons", "[]")):
        conn.execute(sa.text(f"UPDATE assessments SET {name} = '{value}' WHERE {name} IS NULL"))
    with op.batch_alter_table("assessments") as batch:
        for name in _AS_GIVEN:
            batch.alter_column(name, existing_type=sa.JSON(), nullable=False)
        for column in reversed(_new_columns()):
            batch.drop_column(column.name)
    op.drop_table("reason_texts")
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("layout")
