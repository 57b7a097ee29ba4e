"""`crmqual policy fit`: a scorecard fitted to the company's own history, written as an
ordinary policy YAML (see ``crmqual.fit``)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click
import yaml

from crmqual.backtest import sample
from crmqual.cli.assess import parse_as_of
from crmqual.cli.context import config_option
from crmqual.cli.errors import CliError, fail_on_config_error
from crmqual.cli.lab import DEFAULT_POLICY, load, state_context
from crmqual.collector import fewer_collections
from crmqual.engine import assess
from crmqual.errors import ExitCode, InputError
from crmqual.fit import (
    FOLDS,
    Sample,
    check_counts,
    cross_validate,
    fit_card,
    fitted_policy,
    grade_floors,
    grade_shares,
    out_of_time,
)
from crmqual.indicators import INDICATORS, indicator_values
from crmqual.inputs import RecordProblems, RowError, read_account, read_rows
from crmqual.metrics import auc
from crmqual.model import Account
from crmqual.outcomes import BAD, outcome_of, parse_window
from crmqual.policy import GRADES, load_policy
from crmqual.texts import lang_option, number, pct, t
from crmqual.values import UnreadableValue, read_date

#: `--outcomes` value that reads the state store's recorded outcomes.
STORE = "store"


@click.command()
@click.option(
    "--outcomes",
    "source",
    default=STORE,
    show_default=True,
    metavar="store|FILE",
    help="`store`: the outcomes recorded in the state store, joined with each account's"
    " stored inputs at --as-of; or a CSV/JSONL FILE of account inputs with an `outcome`"
    " column (and an optional `as_of` date per row, for an out-of-time figure).",
)
@click.option(
    "--out", "out_file", required=True, metavar="NEW.yaml", help="Where to write the policy."
)
@click.option(
    "--base",
    "base_file",
    default=DEFAULT_POLICY,
    show_default=True,
    metavar="POLICY",
    help="The policy whose knock-outs, limits, flags and texts the new one keeps.",
)
@config_option
@click.option(
    "--as-of",
    "as_of_texts",
    multiple=True,
    metavar="DATE",
    help="With --outcomes store: take the portfolio as it stood at DATE (repeat for several"
    " cohorts; the latest is then scored out of time).",
)
@click.option(
    "--window",
    "window_text",
    default="12m",
    show_default=True,
    metavar="PERIOD",
    help="With --outcomes store: how long after each --as-of a bad outcome counts.",
)
@click.option(
    "--approval-rate",
    "approval_text",
    metavar="SHARE",
    help="Share of accounts to grade above E (default: each grade keeps the base policy's"
    " share of these accounts).",
)
@click.option("--name", "name", metavar="NAME", help="The new policy's name (default: from --out).")
@click.option("--encoding", metavar="NAME", help="The FILE's encoding; default: detected.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as one JSON object.")
@lang_option
@fewer_collections()
def fit(
    source: str,
    out_file: str,
    base_file: str,
    config_path: str,
    as_of_texts: tuple[str, ...],
    window_text: str,
    approval_text: str | None,
    name: str | None,
    encoding: str | None,
    as_json: bool,
    lang: str,
) -> None:
    """Fit a scorecard on your own accounts' outcomes and write it as policy NEW.yaml.

    Each indicator is binned monotonically, weighed by a regularised logistic regression,
    and its bands given points on the 0-100 score (the points that double the odds are
    printed); grade floors keep the base policy's grade shares (or --approval-rate). The
    knock-outs, limits, flags and texts are the base policy's. Only out-of-sample figures
    are shown: 5-fold, and out of time when the rows are dated. Needs at least 50 bad and
    50 good outcomes. Exit status: 0, 1 when some rows could not be read (the fit still
    ran), 2 bad option, input or too few outcomes.
    """
    approval = _approval(approval_text, lang)
    if source != STORE and as_of_texts:
        raise CliError(t("fit.file_or_store", lang), ExitCode.CONFIG)
    with fail_on_config_error(as_json=as_json):
        base = load(base_file)
    skipped = 0
    accounts: list[Account] = []
    if source == STORE:
        if not as_of_texts:
            raise CliError(t("fit.file_or_store", lang), ExitCode.CONFIG)
        try:
            months = parse_window(window_text)
        except ValueError:
            raise CliError(t("lab.bad_window", lang, value=window_text), ExitCode.CONFIG) from None
        values: list[dict[str, Any]] = []
        bad: list[bool] = []
        dates: list[date | None] = []
        moments: list[datetime] = []
        with state_context(config_path, as_json) as ctx:
            where = t("lab.source_state", lang, target=ctx.target)
            recorded = ctx.state.outcomes(ctx.target)
            for as_of in sorted(parse_as_of(text) for text in as_of_texts):
                rows = ctx.state.portfolio(ctx.target, as_of, scores_only=True)
                drawn = sample(rows, recorded, as_of, months)
                for account_id, why in drawn.unreadable:
                    skipped += 1
                    click.echo(t("lab.skipped", lang, id=account_id, why=why), err=True)
                for o in drawn.observations:
                    accounts.append(o.account)
                    values.append(indicator_values(o.account, as_of.date()))
                    bad.append(o.bad)
                    dates.append(as_of.date())
                    moments.append(as_of)
        data = Sample(values, bad, dates if len(as_of_texts) > 1 else [])
    else:
        where = t("lab.source_file", lang, file=source)
        with fail_on_config_error(as_json=as_json):
            data, accounts, moments, skipped = _from_file(source, encoding, lang)
    with fail_on_config_error(as_json=as_json):
        check_counts(data.bad)
        card = fit_card(data)
        base_results = [assess(a, base, as_of=m) for a, m in zip(accounts, moments, strict=True)]
        scores = [card.score(v) for v in data.values]
        floors = grade_floors(scores, grade_shares([r.grade for r in base_results]), approval)
        policy_name = name or _name(out_file)
        policy = fitted_policy(
            base.policy,
            card,
            floors,
            policy_name,
            f"Fitted by crmqual policy fit on {len(data.bad)} accounts ({sum(data.bad)} bad)"
            f" from {where}; base policy {base.version}.",
        )
        kfold = cross_validate(data)
        later = out_of_time(data)
    base_auc = auc([-r.score for r in base_results], data.bad)
    try:
        _write(out_file, policy.model_dump(mode="json", by_alias=True, exclude_none=True), card)
    except OSError as exc:
        why = exc.strerror or str(exc)
        raise CliError(
            t("fit.cannot_write", lang, file=out_file, why=why), ExitCode.CONFIG
        ) from None
    written = load_policy(out_file)  # what a credit manager will load: the same policy
    answer: dict[str, Any] = {
        "out": out_file,
        "version": written.version,
        "base": base.version,
        "source": where,
        "rows": len(data.bad),
        "bad": sum(data.bad),
        "skipped": skipped,
        "points_to_double_odds": card.points_to_double_odds,
        "indicators": [
            {
                "indicator": x.indicator,
                "direction": x.direction,
                "weight": x.weight,
                "bands": list(x.bands),
                "points": list(x.points),
                "missing": x.missing,
            }
            for x in card.lines
        ],
        "grade_floors": floors,
        "kfold": {"folds": FOLDS, "auc": kfold, "base_auc": base_auc},
        "out_of_time": later,
    }
    if as_json:
        click.echo(json.dumps(answer, ensure_ascii=False))
    else:
        _print(answer, base_file, approval, lang)
    if skipped:
        sys.exit(ExitCode.RECORDS_FAILED)


def _approval(text: str | None, lang: str) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 < value < 1:
        raise CliError(t("fit.bad_rate_option", lang, value=text), ExitCode.CONFIG)
    return value


def _name(out_file: str) -> str:
    stem = "".join(c if c.isalnum() or c in "_.-" else "-" for c in Path(out_file).stem)
    return stem or "fitted"


def _from_file(
    path: str, encoding: str | None, lang: str
) -> tuple[Sample, list[Account], list[datetime], int]:
    """Inputs and outcomes from one file: a row per account, `outcome` (and `as_of`)."""
    today = datetime.now(UTC).date()
    values, bad, dates, accounts, moments = [], [], [], [], []
    skipped = 0
    seen_column = False
    for _, line, row in read_rows(path, encoding):
        if isinstance(row, RowError):
            skipped += 1
            click.echo(t("assess.row_error", lang, outcome=row), err=True)
            continue
        data = dict(row)
        raw_outcome = data.pop("outcome", None)
        raw_date = data.pop("as_of", None)
        seen_column = seen_column or raw_outcome is not None
        record_id = str(data.get("id", "?"))
        kind = outcome_of(str(raw_outcome or ""))
        if kind is None:
            skipped += 1
            if raw_outcome is not None:
                click.echo(
                    t("fit.bad_outcome", lang, line=line, id=record_id, value=raw_outcome),
                    err=True,
                )
            continue
        day: date | None = None
        if raw_date not in (None, ""):
            try:
                day = read_date(str(raw_date))
            except UnreadableValue:
                click.echo(
                    t("fit.bad_date", lang, line=line, id=record_id, value=raw_date), err=True
                )
        try:
            account, _ = read_account(data, day or today)
        except RecordProblems as exc:
            skipped += 1
            where = t("lab.at_line", lang, line=line, id=record_id)
            click.echo(t("lab.not_read", lang, where=where, why=exc), err=True)
            continue
        accounts.append(account)
        values.append(indicator_values(account, day or today))
        bad.append(kind in BAD)
        dates.append(day)
        moments.append(datetime.combine(day or today, datetime.min.time(), UTC))
    if not seen_column:
        message = t("fit.no_outcome_column", "en", file=path)
        raise InputError(message, zh=t("fit.no_outcome_column", "zh", file=path))
    dated = all(d is not None for d in dates)
    return Sample(values, bad, dates if dated else []), accounts, moments, skipped


class _Dumper(yaml.SafeDumper):
    """Lists of plain values on one line (`bands: [0.3, 0.55]`), as the shipped policy
    writes them; mappings as blocks."""


def _flow_list(dumper: yaml.SafeDumper, items: list[Any]) -> yaml.Node:
    flat = all(not isinstance(i, dict | list) for i in items)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", items, flow_style=flat)


_Dumper.add_representer(list, _flow_list)


def _write(path: str, data: dict[str, Any], card: Any) -> None:
    """The policy as YAML a credit manager can read and edit, with how it was made on top."""
    header = (
        "# Fitted by `crmqual policy fit`: each indicator's bands and points come from the\n"
        "# accounts' own outcomes (monotone binning, a regularised logistic regression).\n"
        f"# {card.points_to_double_odds} score points double the odds of a good outcome.\n"
        "# Edit it as any policy; check it with `crmqual policy check`.\n"
    )
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    Path(path).write_text(header + body, encoding="utf-8")


def _print(answer: dict[str, Any], base_file: str, approval: float | None, lang: str) -> None:
    click.echo(
        t(
            "fit.heading",
            lang,
            rows=number(answer["rows"]),
            bad=number(answer["bad"]),
            source=answer["source"],
            base=answer["base"],
        )
    )
    click.echo(
        t("fit.indicators", lang, n=len(answer["indicators"]), pdo=answer["points_to_double_odds"])
    )
    for x in answer["indicators"]:
        click.echo(
            t(
                "fit.line",
                lang,
                indicator=x["indicator"],
                label=_label(x["indicator"], lang),
                direction=t(f"fit.direction.{x['direction']}", lang),
                weight=x["weight"],
                bands=x["bands"],
                points=x["points"],
                missing=x["missing"],
            )
        )
    k = answer["kfold"]
    click.echo(
        t(
            "fit.kfold",
            lang,
            k=k["folds"],
            fitted=_auc(k["auc"]),
            base=_auc(k["base_auc"]),
        )
    )
    later = answer["out_of_time"]
    if later is None:
        click.echo(t("fit.no_oot", lang))
    else:
        click.echo(
            t(
                "fit.oot",
                lang,
                until=later["fitted_until"],
                since=later["scored_from"],
                rows=number(later["scored_rows"]),
                bad=number(later["scored_bad"]),
                auc=_auc(later["auc"]),
            )
        )
    floors = answer["grade_floors"]
    why = (
        t("fit.keep_shares", lang)
        if approval is None
        else t("fit.approval", lang, rate=pct(approval, lang))
    )
    click.echo(t("fit.grades", lang, why=why, **{g: floors[g] for g in GRADES[:-1]}))
    click.echo(t("fit.wrote", lang, file=answer["out"], version=answer["version"], base=base_file))


def _auc(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _label(indicator: str, lang: str) -> str:
    meta = INDICATORS[indicator]
    return meta.zh if lang == "zh" else meta.en
