"""The policy lab: `crmqual policy diff`, `crmqual policy backtest`, `crmqual outcomes`.

Commands over the state store (or a file); none of them reads or writes the CRM.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from crmqual.backtest import SCORE_BANDS, evaluate, row_account, sample
from crmqual.cli.assess import parse_as_of
from crmqual.cli.context import Context, config_option, open_context
from crmqual.cli.errors import CliError, fail_on_config_error
from crmqual.collector import fewer_collections
from crmqual.compiled import CompiledPolicy, compiled
from crmqual.contract import ReadQuery
from crmqual.engine import Assessment
from crmqual.errors import ExitCode
from crmqual.inputs import RecordProblems, RowError, read_account, read_rows
from crmqual.mapping import read_record
from crmqual.outcomes import (
    DERIVED_SOURCE,
    BadRow,
    derived,
    from_records,
    parse_window,
    read_outcomes,
)
from crmqual.policy import GRADES, load_policy
from crmqual.state import OutcomeIn
from crmqual.texts import amount, lang_option, number, pad, pct, t, t_or, width
from crmqual.whatif import CSV_COLUMNS, MOST_AFFECTED, Comparison, csv_row

#: The name that stands for the policy shipped with crmqual (unless a file has that name).
DEFAULT_POLICY = "default"


def load(name: str) -> CompiledPolicy:
    """A policy file, or the shipped policy for ``default``."""
    if name == DEFAULT_POLICY and not Path(name).exists():
        return compiled(load_policy(None))
    return compiled(load_policy(name))


@contextmanager
def state_context(config_path: str, as_json: bool = False) -> Iterator[Context]:
    with (
        fail_on_config_error(as_json=as_json),
        open_context(config_path, with_adapter=False) as ctx,
    ):
        yield ctx


# -- policy diff -------------------------------------------------------------------------------


@click.command()
@click.argument("old_file", metavar="OLD")
@click.argument("new_file", metavar="NEW")
@config_option
@click.option(
    "--input",
    "input_file",
    metavar="FILE",
    help="Compare on the accounts of this CSV or JSONL file instead of the state store.",
)
@click.option(
    "--read",
    "fresh",
    is_flag=True,
    help="Compare on the accounts as the CRM holds them now (one full read; writes nothing).",
)
@click.option(
    "--encoding",
    metavar="NAME",
    help="The --input file's encoding; default: detected (BOM, UTF-8, GB18030).",
)
@click.option(
    "--as-of", "as_of_text", metavar="DATE", help="Assess as of this date (default: now)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as one JSON object.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV: one row per account, both policies.")
@lang_option
@fewer_collections()
def diff(
    old_file: str,
    new_file: str,
    config_path: str,
    input_file: str | None,
    fresh: bool,
    encoding: str | None,
    as_of_text: str | None,
    as_json: bool,
    as_csv: bool,
    lang: str,
) -> None:
    """What would change if policy NEW replaced OLD: the portfolio under both.

    OLD and NEW are policy files (`default`: the shipped policy). The accounts are each
    account's latest inputs in the state store (of the CRM in -c), the accounts as the CRM
    holds them now (--read), or the rows of --input.
    Shows the grade migration matrix (counts and exposure), admission changes, limits per
    currency before and after, payment terms changed, flags that appear and vanish, and the
    20 most affected accounts with their reasons under both. Writes nothing. Exit status:
    0, 1 when some accounts could not be read (reported on stderr), 2 bad policy or input.
    """
    if as_json and as_csv:
        raise CliError(t("err.json_or_csv", lang), ExitCode.CONFIG)
    if fresh and input_file is not None:
        raise CliError(t("lab.read_or_input", lang), ExitCode.CONFIG)
    as_of = parse_as_of(as_of_text)
    with fail_on_config_error(as_json=as_json):
        old, new = load(old_file), load(new_file)
    comparison = Comparison(old, new, as_of)
    writer = None
    if as_csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
    skipped = 0
    if input_file is not None:
        source = t("lab.source_file", lang, file=input_file)
        needed = old.knockout_inputs | new.knockout_inputs
        with fail_on_config_error(as_json=as_json):
            for _, line, row in read_rows(input_file, encoding):
                if isinstance(row, RowError):
                    skipped += 1
                    click.echo(t("assess.row_error", lang, outcome=row), err=True)
                    continue
                try:
                    account, lost = read_account(row, as_of.date(), needed=needed)
                except RecordProblems as exc:
                    skipped += 1
                    where = t("lab.at_line", lang, line=line, id=row.get("id", "?"))
                    click.echo(t("lab.not_read", lang, where=where, why=exc), err=True)
                    continue
                case = comparison.assess(account, lost)
                if writer is not None:
                    writer.writerow(csv_row(case))
    elif fresh:
        needed = old.knockout_inputs | new.knockout_inputs
        with fail_on_config_error(as_json=as_json), open_context(config_path) as ctx:
            source = t("lab.source_crm", lang, target=ctx.target)
            assert ctx.adapter is not None
            query = ReadQuery(fields=ctx.mapping.read_fields, filters=ctx.mapping.filter_rules)
            for page in ctx.adapter.read(query):
                for record in page:
                    try:
                        account, lost = read_record(ctx.mapping, record, as_of.date(), needed)
                    except RecordProblems as exc:
                        skipped += 1
                        where = t("lab.record", lang, id=record.get(ctx.mapping.id_field, "?"))
                        click.echo(t("lab.not_read", lang, where=where, why=exc), err=True)
                        continue
                    case = comparison.assess(account, lost)
                    if writer is not None:
                        writer.writerow(csv_row(case))
    else:
        with state_context(config_path, as_json) as ctx:
            source = t("lab.source_state", lang, target=ctx.target)
            stored = 0
            # Streamed: a million stored accounts are compared without holding them; each
            # is the Account the sync kept (its inputs validated again only where not).
            for kept in ctx.state.iter_portfolio(ctx.target, scores_only=True):
                stored += 1
                try:
                    account = row_account(kept)
                except ValueError as exc:
                    skipped += 1
                    why = " ".join(str(exc).split())[:200]
                    click.echo(t("lab.skipped", lang, id=kept.account_id, why=why), err=True)
                    continue
                case = comparison.assess(account)
                if writer is not None:
                    writer.writerow(csv_row(case))
            if not stored:
                raise CliError(t("lab.empty_store", lang, target=ctx.target), ExitCode.CONFIG)
    if as_json:
        answer = comparison.as_json() | {
            "source": source,
            "skipped": skipped,
            "old": {"file": old_file, "version": old.version},
            "new": {"file": new_file, "version": new.version},
        }
        click.echo(json.dumps(answer, ensure_ascii=False))
    elif not as_csv:
        _print_diff(comparison, source, lang)
    if skipped:
        sys.exit(ExitCode.RECORDS_FAILED)


def _matrix(rows: list[list[str]], lang: str) -> None:
    """A table whose first row and column are labels; numbers right-aligned."""
    widths = [max(width(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [pad(c, w, right=i > 0) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        click.echo("  " + "  ".join(cells).rstrip())


def _status(cp: CompiledPolicy, code: str, lang: str) -> str:
    statuses = cp.policy.statuses
    return statuses[code].zh if lang == "zh" and code in statuses else code


def _terms(cp: CompiledPolicy, code: str, lang: str) -> str:
    if lang != "zh":
        return code
    try:
        return cp.policy.term(code).label.zh
    except StopIteration:
        return code


def _flag(cp: CompiledPolicy, code: str, lang: str) -> str:
    labels = {f.code: f.label for f in cp.policy.flags}
    return f"{code} {labels[code].zh}" if lang == "zh" and code in labels else code


def _side(cp: CompiledPolicy, a: Assessment, lang: str) -> str:
    limit = "-" if a.credit_limit is None else amount(a.credit_limit, a.limit_currency, lang)
    status, terms = _status(cp, a.status, lang), _terms(cp, a.payment_terms, lang)
    return f"{a.grade} {a.score:>3} {status} {limit} {terms}"


def _print_diff(c: Comparison, source: str, lang: str) -> None:
    old, new = c.old, c.new
    heading = t(
        "lab.diff_heading",
        lang,
        old=old.version,
        new=new.version,
        accounts=number(c.accounts),
        date=c.as_of.date().isoformat(),
        source=source,
    )
    click.echo(heading)
    if not c.changed:
        click.echo(t("lab.no_change", lang))
    else:
        click.echo(t("lab.changed", lang, n=number(c.changed)))
    click.echo("\n" + t("lab.migration", lang))
    _matrix(
        [["", *GRADES]] + [[g, *(number(c.migration[g][h]) for h in GRADES)] for g in GRADES], lang
    )
    for ccy in sorted(c.exposure):
        click.echo("\n" + t("lab.migration_exposure", lang, currency=ccy or "?"))
        rows = [["", *GRADES]]
        for g in GRADES:
            rows.append([g, *(number(c.migration_exposure[g][h].get(ccy, 0.0)) for h in GRADES)])
        _matrix(rows, lang)
    if c.admission:
        click.echo("\n" + t("lab.admission", lang))
        for (a, b), n in sorted(c.admission.items()):
            click.echo(f"  {_status(old, a, lang)} -> {_status(new, b, lang)}  {number(n)}")
    if c.limits:
        click.echo("\n" + t("lab.limits", lang))
        for ccy, totals in sorted(c.limits.items()):
            click.echo(
                "  "
                + t(
                    "lab.limits_line",
                    lang,
                    currency=ccy,
                    before=amount(totals.before, ccy, lang),
                    after=amount(totals.after, ccy, lang),
                    raised=number(totals.raised),
                    raised_by=amount(totals.raised_by, ccy, lang),
                    cut=number(totals.cut),
                    cut_by=amount(totals.cut_by, ccy, lang),
                    none_before=number(totals.no_limit_before),
                    none_after=number(totals.no_limit_after),
                )
            )
    if c.terms:
        click.echo("\n" + t("lab.terms", lang))
        for (a, b), n in sorted(c.terms.items()):
            click.echo(f"  {_terms(old, a, lang)} -> {_terms(new, b, lang)}  {number(n)}")
    flags = c.flag_changes()
    if flags:
        click.echo("\n" + t("lab.flags", lang))
        for code, moved in flags.items():
            label = _flag(new if code in new.flag_order else old, code, lang)
            line = t(
                "lab.flag_line",
                lang,
                flag=label,
                appear=number(moved["appear"]),
                vanish=number(moved["vanish"]),
            )
            click.echo("  " + line)
    cases = c.most_affected()
    if cases:
        click.echo("\n" + t("lab.most_affected", lang, n=MOST_AFFECTED))
        for case in cases:
            name = case.account.name or ""
            click.echo(f"  {case.account.id}  {name}".rstrip())
            for key, cp, side in (("lab.old", old, case.old), ("lab.new", new, case.new)):
                click.echo(f"    {t(key, lang)}: {_side(cp, side, lang)}")
                for reason in side.reasons[:3]:
                    click.echo(f"      {reason.code}: {reason.zh if lang == 'zh' else reason.en}")


# -- outcomes ----------------------------------------------------------------------------------


@click.group()
def outcomes() -> None:
    """Record what really happened to accounts (defaulted, 90+ days overdue, written off,
    paid as agreed), for `crmqual policy backtest`."""


@outcomes.command(name="import")
@click.argument("file")
@config_option
@click.option(
    "--encoding",
    metavar="NAME",
    help="The file's encoding (utf-8, gbk, gb18030, ...); default: detected.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@lang_option
def import_outcomes(
    file: str, config_path: str, encoding: str | None, as_json: bool, lang: str
) -> None:
    """Record the outcomes in FILE (CSV or JSONL with columns id, date, outcome).

    outcome: defaulted, overdue_90, written_off or paid_as_agreed (also 违约, 90+, 核销,
    正常还款 ...); date: 2026-03-05, 2026/3/5 or 2026年3月5日. A row that cannot be read is
    reported with its line and why, and the others are still recorded; one already recorded
    (same account, outcome and date) is not recorded twice. Exit status: 0, 1 when some
    rows were not read, 2 when the file cannot be read at all.
    """
    good: list[OutcomeIn] = []
    bad: list[BadRow] = []
    with state_context(config_path, as_json) as ctx, fail_on_config_error(as_json=as_json):
        for item in read_outcomes(file, encoding, today=datetime.now(UTC).date()):
            if isinstance(item, BadRow):
                bad.append(item)
                click.echo(
                    t(
                        "lab.out_bad",
                        lang,
                        line=item.line,
                        id=item.record_id or "?",
                        why=item.reason(lang),
                    ),
                    err=True,
                )
            else:
                good.append(item)
        added = ctx.state.record_outcomes(ctx.target, good, source=Path(file).name)
    known = len(good) - added
    if as_json:
        answer = {
            "recorded": added,
            "already_recorded": known,
            "bad_rows": [{"line": b.line, "id": b.record_id, "reason": b.reason()} for b in bad],
        }
        click.echo(json.dumps(answer, ensure_ascii=False))
    else:
        click.echo(t("lab.out_imported", lang, added=added, known=known, bad=len(bad)))
    if bad:
        sys.exit(ExitCode.RECORDS_FAILED)


@outcomes.command(name="read")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@lang_option
def read_outcomes_from_crm(config_path: str, as_json: bool, lang: str) -> None:
    """Record the outcomes the CRM keeps in the field the mapping names (`outcomes: {field,
    date_field}`): one full read of that field, nothing written to the CRM. A value that is
    no outcome is reported with the record's id; the others are recorded, once each."""
    good: list[OutcomeIn] = []
    bad: list[BadRow] = []
    with fail_on_config_error(as_json=as_json), open_context(config_path) as ctx:
        source = ctx.mapping.outcomes
        if source is None:
            raise CliError(t("lab.no_outcome_field", lang, mapping=ctx.mapping_source), 2)
        assert ctx.adapter is not None
        wanted = [ctx.mapping.id_field, ctx.mapping.modified_field, source.field]
        if source.date_field:
            wanted.append(source.date_field)
        today = datetime.now(UTC).date()
        for page in ctx.adapter.read(ReadQuery(fields=tuple(wanted))):
            for item in from_records(
                page, ctx.mapping.id_field, source.field, source.date_field, today
            ):
                if isinstance(item, BadRow):
                    bad.append(item)
                    why = item.reason(lang)
                    click.echo(t("lab.out_bad_record", lang, id=item.record_id, why=why), err=True)
                else:
                    good.append(item)
        added = ctx.state.record_outcomes(ctx.target, good, source=f"crm {source.field}")
    known = len(good) - added
    if as_json:
        answer = {
            "recorded": added,
            "already_recorded": known,
            "bad_records": [{"id": b.record_id, "reason": b.reason()} for b in bad],
        }
        click.echo(json.dumps(answer, ensure_ascii=False))
    else:
        click.echo(t("lab.out_read", lang, added=added, known=known, bad=len(bad)))
    if bad:
        sys.exit(ExitCode.RECORDS_FAILED)


@outcomes.command(name="derive")
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the counts as one JSON object.")
@lang_option
def derive_outcomes(config_path: str, as_json: bool, lang: str) -> None:
    """Record the outcomes the stored credit-record inputs show appearing: a default, or a
    payment 90+ days overdue, first seen at a later assessment than the account's first,
    dated on that assessment's day (the CRM or bureau data crmqual already reads)."""
    with state_context(config_path, as_json) as ctx:
        found = list(derived(ctx.state.credit_histories(ctx.target)))
        added = ctx.state.record_outcomes(ctx.target, found, source=DERIVED_SOURCE)
    known = len(found) - added
    if as_json:
        click.echo(json.dumps({"recorded": added, "already_recorded": known}))
    else:
        click.echo(t("lab.out_derived", lang, added=added, known=known))


@outcomes.command(name="list")
@config_option
@click.option("--account", "account_id", metavar="ID", help="Only this account's outcomes.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per outcome.")
@lang_option
def list_outcomes(config_path: str, account_id: str | None, as_json: bool, lang: str) -> None:
    """The outcomes recorded, by date: account, outcome, the assessment it is tied to (the
    account's latest before it, kept by prune) and the file it came from."""
    with state_context(config_path, as_json) as ctx:
        found = ctx.state.outcomes(ctx.target, account_id)
        target = ctx.target
    if as_json:
        for o in found:
            item = {
                "id": o.account_id,
                "date": o.occurred_on.isoformat(),
                "outcome": o.outcome,
                "assessment_id": o.assessment_id,
                "source": o.source,
                "recorded_at": o.recorded_at.isoformat(),
            }
            click.echo(json.dumps(item, ensure_ascii=False))
        return
    if not found:
        click.echo(t("lab.out_none", lang, target=target))
        return
    rows = [
        [
            t("col.id", lang),
            t("lab.col_date", lang),
            t("lab.col_outcome", lang),
            t("lab.col_assessment", lang),
            t("lab.col_source", lang),
        ]
    ]
    for o in found:
        rows.append(
            [
                o.account_id,
                o.occurred_on.isoformat(),
                t_or(f"outcome.{o.outcome}", lang, o.outcome),
                "-" if o.assessment_id is None else str(o.assessment_id),
                o.source,
            ]
        )
    widths = [max(width(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip())


# -- policy backtest ---------------------------------------------------------------------------


@click.command()
@click.argument("policy_file", metavar="POLICY")
@click.option(
    "--against",
    "against_file",
    metavar="OTHER",
    help="A second policy to backtest side by side (`default`: the shipped policy).",
)
@config_option
@click.option(
    "--as-of",
    "as_of_text",
    metavar="DATE",
    required=True,
    help="Grade the portfolio as it stood at this date (each account's stored inputs).",
)
@click.option(
    "--window",
    "window_text",
    default="12m",
    show_default=True,
    metavar="PERIOD",
    help="How long after --as-of outcomes count: 12m, 6m, 1y ...",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@lang_option
@fewer_collections()
def backtest(
    policy_file: str,
    against_file: str | None,
    config_path: str,
    as_of_text: str,
    window_text: str,
    as_json: bool,
    lang: str,
) -> None:
    """Check POLICY against what happened: grade each account's inputs as they stood at
    --as-of and compare with the outcomes recorded in the window after it.

    Shows ROC AUC, Gini and KS of the policy's ranking (grade, then score), bad rate and
    count per grade and whether it rises grade by grade, the share of bad accounts and of
    bad exposure in grades D-E, the approval rate, and a calibration table (score band
    against bad rate); with --against, both policies side by side. The backtest and the
    assessment rows it scored are kept in the state store, so `crmqual prune` keeps them
    and the same backtest gives the same figures later.
    """
    as_of = parse_as_of(as_of_text)
    try:
        months = parse_window(window_text)
    except ValueError:
        raise CliError(t("lab.bad_window", lang, value=window_text), ExitCode.CONFIG) from None
    with fail_on_config_error(as_json=as_json):
        policies = [load(policy_file)]
        if against_file is not None:
            policies.append(load(against_file))
    with state_context(config_path, as_json) as ctx:
        rows = ctx.state.portfolio(ctx.target, as_of, scores_only=True)
        if not rows:
            raise CliError(t("lab.empty_store", lang, target=ctx.target), ExitCode.CONFIG)
        drawn = sample(rows, ctx.state.outcomes(ctx.target), as_of, months)
        figures = [evaluate(p, drawn.observations, as_of) for p in policies]
        answer: dict[str, Any] = {
            "as_of": as_of.isoformat(),
            "window_months": months,
            "until": drawn.end.isoformat(),
            "accounts": len(drawn.observations),
            "bad": figures[0]["bad"],
            "already_bad": drawn.already_bad,
            "unreadable": [{"id": i, "reason": why} for i, why in drawn.unreadable],
            "policies": figures,
        }
        backtest_id = ctx.state.record_backtest(
            ctx.target,
            as_of=as_of,
            window_months=months,
            policy_version=policies[0].version,
            against_version=policies[1].version if len(policies) > 1 else None,
            figures=answer,
            assessment_ids=[o.row_id for o in drawn.observations],
        )
    answer["backtest_id"] = backtest_id
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False))
        return
    _print_backtest(answer, lang)
    click.echo("\n" + t("lab.bt_recorded", lang, id=backtest_id, rows=number(answer["accounts"])))


def _fmt(value: float | None, kind: str, lang: str) -> str:
    if value is None:
        return "-"
    if kind == "pct":
        return pct(value, lang)
    return f"{value:.3f}"


def _print_backtest(answer: dict[str, Any], lang: str) -> None:
    figures: list[dict[str, Any]] = answer["policies"]
    n = answer["accounts"]
    click.echo(
        t(
            "lab.bt_heading",
            lang,
            as_of=answer["as_of"][:10],
            end=answer["until"][:10],
            months=answer["window_months"],
            accounts=number(n),
            bad=number(answer["bad"]),
            rate=_fmt(answer["bad"] / n if n else None, "pct", lang),
        )
    )
    if answer["already_bad"] or answer["unreadable"]:
        line = t(
            "lab.bt_left_out",
            lang,
            already=number(answer["already_bad"]),
            as_of=answer["as_of"][:10],
            unreadable=number(len(answer["unreadable"])),
        )
        click.echo(line)
    if not answer["bad"] or answer["bad"] == n:
        click.echo(t("lab.bt_no_outcomes", lang), err=True)
    yes, no = t("lab.yes", lang), t("lab.no", lang)
    rows = [[t("lab.bt_policy", lang), *(f["policy_version"] for f in figures)]]
    for key, label, kind in (
        ("auc", "lab.bt_auc", "num"),
        ("gini", "lab.bt_gini", "num"),
        ("ks", "lab.bt_ks", "num"),
        ("bad_rate", "lab.bt_bad_rate", "pct"),
        ("approval_rate", "lab.bt_approval", "pct"),
        ("bad_caught_de", "lab.bt_caught", "pct"),
    ):
        rows.append([t(label, lang), *(_fmt(f[key], kind, lang) for f in figures)])
    currencies = sorted({c for f in figures for c in f["bad_exposure_caught_de"]})
    for ccy in currencies:
        label = t("lab.bt_caught_exposure", lang, currency=ccy or "?")
        rows.append(
            [label, *(_fmt(f["bad_exposure_caught_de"].get(ccy), "pct", lang) for f in figures)]
        )
    rows.append([t("lab.bt_monotone", lang), *(yes if f["monotone"] else no for f in figures)])
    _table(rows)
    click.echo("\n" + t("lab.bt_grades", lang))
    grade_rows = [
        [
            g,
            *(
                cell
                for f in figures
                for cell in (
                    number(f["grades"][g]["count"]),
                    number(f["grades"][g]["bad"]),
                    _fmt(f["grades"][g]["bad_rate"], "pct", lang),
                )
            ),
        ]
        for g in GRADES
    ]
    _table(grade_rows, numeric=True)
    click.echo("\n" + t("lab.bt_calibration", lang))
    band_rows = []
    for i in range(len(SCORE_BANDS)):
        cells = [figures[0]["calibration"][i]["band"]]
        for f in figures:
            band = f["calibration"][i]
            cells += [
                number(band["count"]),
                number(band["bad"]),
                _fmt(band["bad_rate"], "pct", lang),
            ]
        band_rows.append(cells)
    _table(band_rows, numeric=True)


def _table(rows: list[list[str]], numeric: bool = False) -> None:
    widths = [max(width(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = [
            pad(c, w, right=(numeric or i > 0) and i > 0)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        click.echo("  " + "  ".join(cells).rstrip())
