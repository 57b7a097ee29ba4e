"""How `crmqual sync --dry-run` shows its plan: a summary first, then every record that
would change grouped by its kind of change, each field as `old → new` in the CRM's terms;
`--json` and `--csv` hand the whole plan to a reviewer."""

from __future__ import annotations

import csv
import sys
from decimal import Decimal
from typing import Any

import click

from crmqual.dryrun import FIRST_ASSESSMENT, OTHER_CHANGE, DryRunPlan, PlannedRecord
from crmqual.monitoring import (
    ADMISSION_FAILED,
    DATA_MISSING_OR_STALE,
    DOWNGRADED,
    LIMIT_CUT,
    NEW_HIGH_FLAG,
    UPGRADED,
)

#: Groups in the order a credit team reviews them, with their headings.
GROUPS = {
    ADMISSION_FAILED: "admission failed",
    DOWNGRADED: "downgraded",
    LIMIT_CUT: "limit cut",
    NEW_HIGH_FLAG: "new high-severity flag",
    DATA_MISSING_OR_STALE: "data missing or stale",
    UPGRADED: "upgraded",
    FIRST_ASSESSMENT: "first assessment",
    OTHER_CHANGE: "other change",
}
_LONGEST = 100


def shown(value: Any) -> str:
    """A value as the CRM would show it: empty as (empty), lists joined, numbers grouped,
    long texts on one line."""
    if value is None or value == "" or value == []:
        return "(empty)"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | Decimal):
        number = float(value)
        return f"{int(number):,}" if number.is_integer() else f"{number:,.2f}"
    text = " | ".join(line.strip() for line in str(value).splitlines() if line.strip())
    return text if len(text) <= _LONGEST else text[: _LONGEST - 1] + "…"


def primary_kind(record: PlannedRecord) -> str:
    return next((k for k in GROUPS if k in record.kinds), OTHER_CHANGE)


def print_plan(plan: DryRunPlan, show: int | None) -> None:
    if not plan.records:
        click.echo("nothing would change")
        return
    counts = " · ".join(f"{GROUPS[k]} {plan.by_kind[k]:,}" for k in GROUPS if plan.by_kind[k])
    click.echo(f"would change {plan.records:,} account(s): {counts}")
    for kind, heading in GROUPS.items():
        listed = total = 0
        for record in plan:
            if primary_kind(record) != kind:
                continue
            total += 1
            if total == 1:
                click.echo(f"\n{heading}:")
            if show is not None and listed >= show:
                continue
            listed += 1
            also = [GROUPS.get(k, k) for k in record.kinds if k != kind]
            extra = f"  (also {', '.join(also)})" if also else ""
            click.echo(f"  {record.record_id}  {record.name}{extra}".rstrip())
            for name, old, new in record.fields:
                click.echo(f"      {name}: {shown(old)} → {shown(new)}")
        if total > listed:
            click.echo(f"  … and {total - listed:,} more (`--show N` lists more, `--json` all)")


def write_plan_csv(plan: DryRunPlan) -> None:
    """One row per field that would change: id, name, kinds, field, from, to."""
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(["id", "name", "kinds", "field", "from", "to"])
    for record in plan:
        kinds = ";".join(record.kinds)
        for name, old, new in record.fields:
            out.writerow([record.record_id, record.name, kinds, name, _cell(old), _cell(new)])


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return str(value)
