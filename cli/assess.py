"""`crmqual assess`: assess accounts from a CSV or JSONL file, offline."""

from __future__ import annotations

import csv
import json
import sys
from collections import Counter
from datetime import UTC, datetime

import click

from crmqual.cli.errors import CliError, fail_on_config_error
from crmqual.compiled import compiled
from crmqual.engine import Assessment
from crmqual.errors import ExitCode
from crmqual.explain import explain
from crmqual.inputs import RowError, assess_row, read_rows, unknown_columns
from crmqual.model import Account
from crmqual.outputs import CSV_COLUMNS, canonical, csv_row
from crmqual.policy import Policy, load_policy
from crmqual.texts import amount, current_lang, lang_option, t
from crmqual.texts import width as _width
from crmqual.values import Reading, decimal_mark

TABLE = (
    ("id", 12),
    ("name", 28),
    ("status", 11),
    ("grade", 5),
    ("score", 5),
    ("limit", 14),
    ("terms", 9),
    ("flags", 0),
)


def parse_as_of(text: str | None, option: str = "--as-of") -> datetime:
    """A date (midnight UTC) or an ISO date-time; none means now. ``option`` names the
    option in the error."""
    if text is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        message = t("err.as_of", current_lang(), option=option, text=repr(text))
        raise CliError(message, ExitCode.CONFIG) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _cell(text: str, width: int) -> str:
    if not width:
        return text
    while _width(text) > width:
        text = text[:-2] + "…"
    return text + " " * (width - _width(text))


def _table_row(account: Account, a: Assessment, policy: Policy, lang: str) -> str:
    limit = "" if a.credit_limit is None else amount(a.credit_limit, a.limit_currency, lang)
    status, terms, flags = a.status, a.payment_terms, ",".join(a.flags)
    if lang == "zh":  # the policy's labels; the codes are what --json and --csv carry
        status = policy.statuses[a.status].zh  # type: ignore[index]
        terms = policy.term(a.payment_terms).label.zh
        labels = {f.code: f.label.zh for f in policy.flags}
        flags = "，".join(labels.get(code, code) for code in a.flags)
    cells = (account.id, account.name or "", status, a.grade, str(a.score), limit, terms, flags)
    return " ".join(_cell(c, w) for c, (_, w) in zip(cells, TABLE, strict=True)).rstrip()


def _summary(
    as_json: bool, assessed: int, failed: int, unreadable: Counter[str], lang: str = "en"
) -> None:
    """The counts on stderr: always with --json (one object), otherwise when something was off."""
    if as_json:
        counts = {"assessed": assessed, "failed": failed, "unreadable": dict(unreadable)}
        click.echo(json.dumps({"summary": counts}, ensure_ascii=False), err=True)
    elif failed or unreadable:
        line = t("assess.summary", lang, assessed=f"{assessed:,}", failed=f"{failed:,}")
        if unreadable:
            fields = ", ".join(f"{f} {n:,}" for f, n in sorted(unreadable.items()))
            line += " · " + t("assess.unreadable", lang, fields=fields)
        click.echo(line, err=True)


@click.command()
@click.argument("input_file", metavar="INPUT")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per account.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV: id and every output column.")
@click.option("--explain", "explain_id", metavar="ID", help="Explain one account in full.")
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False),
    help="Policy YAML (default: the policy shipped with crmqual).",
)
@click.option(
    "--as-of", "as_of_text", metavar="DATE", help="Assess as of this date (default: now)."
)
@lang_option
@click.option(
    "--encoding",
    metavar="NAME",
    help="The file's encoding (utf-8, gb18030, ...); default: detected (BOM, UTF-8, GB18030).",
)
@click.option(
    "--locale",
    metavar="TAG",
    help="Read 1,234 / 1.234 as this locale does (en, zh: 1,234.5; de, fr: 1.234,5).",
)
def assess(
    input_file: str,
    as_json: bool,
    as_csv: bool,
    explain_id: str | None,
    policy_file: str | None,
    as_of_text: str | None,
    lang: str,
    encoding: str | None,
    locale: str | None,
) -> None:
    """Assess the accounts in INPUT (CSV or .jsonl; - for CSV on stdin).

    Columns are the flat names of the common model (see README, "Input columns").
    A bad row (a stray quote, a wrong number of cells, a repeated id, an impossible
    value) is reported on stderr with its row, line, id and why, and the other rows are
    still assessed; a value that cannot be read is left missing and named in the
    account's reasons. Problems and counts go to stderr (with --json, the counts as one
    JSON object). Exit status: 0 all assessed, 1 some rows failed, 2 bad policy or
    unreadable input.
    """
    if as_json and as_csv:
        raise CliError(t("err.json_or_csv", lang), ExitCode.CONFIG)
    as_of = parse_as_of(as_of_text)
    try:
        reading = Reading(decimal=None if locale is None else decimal_mark(locale))
    except ValueError as exc:
        reason = getattr(exc, "zh", exc) if lang == "zh" else exc
        raise CliError(t("err.locale", lang, reason=reason), ExitCode.CONFIG) from None
    unreadable: Counter[str] = Counter()
    with fail_on_config_error():
        policy = compiled(load_policy(policy_file))
        rows = read_rows(input_file, encoding)
        failed = found = assessed = 0
        out = sys.stdout
        writer = None
        if as_csv:
            writer = csv.DictWriter(out, fieldnames=("id", *CSV_COLUMNS), lineterminator="\n")
            writer.writeheader()
        elif not as_json and explain_id is None:
            header = ((t(f"col.{n}", lang), w) for n, w in TABLE)
            click.echo(" ".join(_cell(n, w) for n, w in header).rstrip())
        checked_columns = False
        for number, line, row in rows:
            if not checked_columns and isinstance(row, dict):
                for column in unknown_columns(list(row)):
                    click.echo(t("assess.unknown_column", lang, column=repr(column)), err=True)
                checked_columns = True
            outcome = assess_row(number, row, policy, as_of, line=line, reading=reading)
            if isinstance(outcome, RowError):
                failed += 1
                click.echo(t("assess.row_error", lang, outcome=outcome), err=True)
                continue
            account, result, lost = outcome
            assessed += 1
            for u in lost:
                unreadable[u.source] += 1
                click.echo(
                    f"warning: row {number} (id {account.id}) at line {line}: {u};"
                    " assessed as missing",
                    err=True,
                )
            if explain_id is not None:
                if account.id == explain_id:
                    found += 1
                    click.echo(explain(account, result, policy, lang))
            elif writer is not None:
                writer.writerow({"id": account.id} | csv_row(result))
            elif as_json:
                out.write(json.dumps({"id": account.id} | canonical(result), ensure_ascii=False))
                out.write("\n")
            else:
                click.echo(_table_row(account, result, policy.policy, lang))
    _summary(as_json, assessed, failed, unreadable, lang)
    if explain_id is not None and not found:
        message = t("err.no_account", lang, id=repr(explain_id), file=input_file)
        raise CliError(message, ExitCode.CONFIG)
    if failed:
        sys.exit(ExitCode.RECORDS_FAILED)
