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
from crmqual.texts import t, t_or

#: Groups in the order a credit team reviews them (headings: ``change.<kind>`` in texts).
GROUPS = (
    ADMISSION_FAILED,
    DOWNGRADED,
    LIMIT_CUT,
    NEW_HIGH_FLAG,
    DATA_MISSING_OR_STALE,
    UPGRADED,
    FIRST_ASSESSMENT,
    OTHER_CHANGE,
)
_LONGEST = 100


def kind_label(kind: str, lang: str) -> str:
    return t_or(f"change.{kind}", lang, kind.replace("_", " "))


def shown(value: Any, lang: str = "en") -> str:
    """A value as the CRM holds it: empty as (empty), numbers grouped, text and lists quoted
    (they are the CRM's values, not crmqual's words), long texts on one line."""
    if value is None or value == "" or value == []:
        return t("plan.empty", lang)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(str(v) for v in value) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | Decimal):
        number = float(value)
        return f"{int(number):,}" if number.is_integer() else f"{number:,.2f}"
    text = " | ".join(line.strip() for line in str(value).splitlines() if line.strip())
    return "“" + (text if len(text) <= _LONGEST else text[: _LONGEST - 1] + "…") + "”"


def primary_kind(record: PlannedRecord) -> str:
    return next((k for k in GROUPS if k in record.kinds), OTHER_CHANGE)


def print_plan(plan: DryRunPlan, show: int | None, lang: str = "en") -> None:
    if not plan.records:
        click.echo(t("plan.nothing", lang))
        return
    counts = " · ".join(
        f"{kind_label(k, lang)} {plan.by_kind[k]:,}" for k in GROUPS if plan.by_kind[k]
    )
    click.echo(t("plan.heading", lang, n=f"{plan.records:,}", counts=counts))
    for kind in GROUPS:
        listed = total = 0
        for record in plan:
            if primary_kind(record) != kind:
                continue
            total += 1
            if total == 1:
                click.echo(f"\n{kind_label(kind, lang)}:")
            if show is not None and listed >= show:
                continue
            listed += 1
            also = [kind_label(k, lang) for k in record.kinds if k != kind]
            extra = f"  ({t('plan.also', lang, kinds=', '.join(also))})" if also else ""
            click.echo(f"  {record.record_id}  {record.name}{extra}".rstrip())
            for name, old, new in record.fields:
                click.echo(f"      {name}: {shown(old, lang)} → {shown(new, lang)}")
        if total > listed:
            click.echo("  " + t("plan.more", lang, n=f"{total - listed:,}"))


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
