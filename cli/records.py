"""`crmqual runs`, `crmqual history`, `crmqual revert` and `crmqual prune`: what crmqual did,
undoing it, and shrinking the record of it."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from crmqual.cli.context import Context, config_option, open_context
from crmqual.cli.errors import fail_on_config_error
from crmqual.cli.sync import stability_text
from crmqual.errors import ExitCode
from crmqual.mapping import changed_fields
from crmqual.progress import Snapshot, reporter
from crmqual.revert import LISTED, RevertReport, revert_run
from crmqual.runscope import run_scope
from crmqual.state import RunRecord
from crmqual.state.ledger import KEEP_PERIODS
from crmqual.texts import amount, lang_option, t, t_or, width


@click.command()
@config_option
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many runs, newest first.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per run.")
@lang_option
def runs(config_path: str, limit: int, as_json: bool, lang: str) -> None:
    """List the latest runs of this CRM (syncs, reverts, prunes): status, counts, and the
    error a failed run ended with."""
    rows: list[tuple[str, ...]] = []
    with (
        fail_on_config_error(as_json=as_json),
        open_context(config_path, with_adapter=False) as ctx,
    ):
        for run in ctx.state.list_runs(ctx.target, limit=limit):
            if as_json:
                click.echo(
                    json.dumps(
                        {
                            "run_id": run.run_id,
                            "kind": run.kind,
                            "status": run.status,
                            "mode": run.mode,
                            "started_at": run.started_at.isoformat(),
                            "finished_at": run.finished_at.isoformat() if run.finished_at else None,
                            "counts": run.counts,
                            "policy_version": run.policy_version,
                            "message": run.message,
                            "stability": run.summary.get("stability"),
                        },
                        ensure_ascii=False,
                    )
                )
                continue
            rows.append(_run_row(run, lang))
        if not as_json:
            _print_table(rows, lang)


#: The columns of `crmqual runs`: the three counts every kind of run has, then a note.
_RUN_COLUMNS = ("run", "started (UTC)", "kind", "status", "read", "written", "failed", "note")
#: Which count a kind of run calls "written" (a revert restores, a prune deletes).
_WRITTEN = {"sync": "written", "revert": "restored", "prune": "deleted"}


def _run_row(run: RunRecord, lang: str = "en") -> tuple[str, ...]:
    counts = dict(run.counts)
    written_key = _WRITTEN.get(run.kind, "written")

    def count(key: str) -> str:
        value = counts.pop(key, None)
        return "-" if value is None else f"{value:,}"

    read, written, failed = count("read"), count(written_key), count("failed")
    rest = ", ".join(
        f"{t_or(f'count.{k}', lang, k.replace('_', ' '))} {v:,}" for k, v in counts.items() if v
    )
    if written_key != "written" and written != "-":
        label = t_or(f"runs.{written_key}", lang, written_key)
        rest = ", ".join(filter(None, [f"{label} {written}", rest]))
    shifted = stability_text(run.summary.get("stability"), lang)
    if shifted:
        rest = ", ".join(filter(None, [rest, "PSI: " + shifted]))
    message = " ".join(run.message.split())  # one line, whatever the error's layout
    kind = t_or(f"run.{run.kind}", lang, run.kind)
    if run.mode != run.kind:
        kind += " " + t_or(f"run.{run.mode}", lang, run.mode)
    return (
        str(run.run_id),
        f"{run.started_at:%Y-%m-%d %H:%M:%S}",
        kind,
        t_or(f"run.{run.status}", lang, run.status),
        read,
        written,
        failed,
        message or rest,
    )


_RUN_KEYS = ("run", "started", "kind", "status", "read", "written", "failed", "note")


def _print_table(rows: list[tuple[str, ...]], lang: str = "en") -> None:
    """Columns as wide as their longest cell; numbers right-aligned; the note last, whole."""
    if not rows:
        click.echo(t("runs.none", lang))
        return
    table = [tuple(t(f"runs.{k}", lang) for k in _RUN_KEYS), *rows]
    widths = [max(width(r[i]) for r in table) for i in range(len(_RUN_COLUMNS) - 1)]
    numeric = {0, 4, 5, 6}
    for row in table:
        cells = [
            " " * (w - width(cell)) + cell if i in numeric else cell + " " * (w - width(cell))
            for i, (cell, w) in enumerate(zip(row, widths, strict=False))
        ]
        click.echo("  ".join([*cells, row[-1]]).rstrip())


def _shown(value: Any) -> str:
    return "(empty)" if value in (None, "", []) else str(value)


def _assessment_line(ctx: Context, out: dict[str, Any], lang: str) -> str:
    """Grade, score, status, limit and flags of one assessment, in ``lang``."""
    statuses = ctx.policy.policy.statuses
    outcome = str(out.get("status", "-"))
    if lang == "zh" and outcome in statuses:
        outcome = statuses[outcome].zh
    limit = out.get("credit_limit")
    shown_limit = "-" if limit is None else amount(limit, out.get("limit_currency"), lang)
    return t(
        "hist.outputs",
        lang,
        grade=out.get("grade", "-"),
        score=out.get("score", "-"),
        outcome=outcome,
        limit=shown_limit,
        flags=",".join(out.get("flags", [])),
    )


@click.command()
@click.argument("account_id")
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object per assessment.")
@lang_option
def history(account_id: str, config_path: str, as_json: bool, lang: str) -> None:
    """Every assessment crmqual wrote for ACCOUNT_ID, with its inputs and reasons, and every
    run that left it alone (its override field set, or changed by hand), with why."""
    with (
        fail_on_config_error(as_json=as_json),
        open_context(config_path, with_adapter=False) as ctx,
    ):
        rows = ctx.state.history(ctx.target, account_id)
        left_alone = ctx.state.left_alone(ctx.target, account_id)
        if not rows and not left_alone:
            click.echo(t("hist.none", lang, id=account_id, target=ctx.target), err=True)
            sys.exit(ExitCode.CONFIG)
        kinds = {run_id: ctx.state.get_run(run_id) for run_id in {r.run_id for r in rows}}
        for row in rows:
            run = kinds[row.run_id]
            reverted = run.summary.get("reverted_run") if run and run.kind == "revert" else None
            put_back = {
                f: (row.previous_native.get(f), row.native.get(f))
                for f in changed_fields(ctx.mapping, row.native, row.previous_native)
            }
            if as_json:
                revert_fields = {
                    "reverted_run": reverted,
                    "restored": {f: new for f, (_, new) in put_back.items()},
                    "replaced": {f: old for f, (old, _) in put_back.items()},
                }
                click.echo(
                    json.dumps(
                        {
                            "kind": "revert" if reverted is not None else "sync",
                            "assessed_at": row.assessed_at.isoformat(),
                            "status": row.status.value,
                            "run_id": row.run_id,
                            "outputs": row.outputs,
                            "inputs": row.account,
                            "previous_crm_values": row.previous_native,
                            "policy_version": row.policy_version,
                        }
                        | (revert_fields if reverted is not None else {}),
                        ensure_ascii=False,
                        default=str,
                    )
                )
                continue
            out = row.outputs
            at = f"{row.assessed_at:%Y-%m-%d %H:%M}"
            status = t_or(f"run.{row.status.value}", lang, row.status.value)
            if reverted is not None:
                click.echo(
                    t("hist.revert", lang, at=at, run=row.run_id, status=status, reverted=reverted)
                )
                for f, (old, new) in put_back.items():
                    click.echo(f"    {f}: {_shown(old)} -> {_shown(new)}")
                if not out:
                    click.echo("    " + t("hist.before", lang, reverted=reverted))
                    continue
                assessed = str(out.get("assessed_at", ""))[:16].replace("T", " ")
                outputs = _assessment_line(ctx, out, lang)
                click.echo("    " + t("hist.as_assessed", lang, at=assessed, outputs=outputs))
                for reason in row.reasons:
                    click.echo(f"    {reason['code']}: {reason.get(lang, '')}")
                click.echo("    " + t("hist.policy", lang, version=row.policy_version))
                continue
            outputs = _assessment_line(ctx, out, lang)
            click.echo(t("hist.line", lang, at=at, run=row.run_id, status=status, outputs=outputs))
            for reason in row.reasons:
                click.echo(f"    {reason['code']}: {reason.get(lang, '')}")
            inputs = ", ".join(f"{k}={v}" for k, v in row.account.items() if v is not None)
            click.echo("    " + t("hist.inputs", lang, inputs=inputs))
            click.echo("    " + t("hist.policy", lang, version=row.policy_version))
        for left in left_alone:  # runs that did not assess it: the override, or a hand edit
            if as_json:
                item = {
                    "left_alone_at": left.created_at.isoformat(),
                    "status": "left_alone",
                    "run_id": left.run_id,
                    "reason": left.reason,
                }
                click.echo(json.dumps(item, ensure_ascii=False))
            else:
                at = f"{left.created_at:%Y-%m-%d %H:%M}"
                click.echo(t("hist.left_alone", lang, at=at, run=left.run_id, reason=left.reason))


@click.command()
@click.argument("run_id", type=int)
@config_option
@click.option("--dry-run", is_flag=True, help="Show what would be restored; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
@lang_option
def revert(run_id: int, config_path: str, dry_run: bool, as_json: bool, lang: str) -> None:
    """Write back the values RUN_ID replaced, for every record not changed since.

    Records changed since the run (by a person or a later run) are left alone and listed.
    Everything is counted; the first 200 of each kind are listed.
    """
    shown = reporter("crmqual revert", enabled=not as_json)

    def progress(report: RevertReport, examined: int, total: int) -> None:
        counts = [
            ("would restore" if dry_run else "restored", report.restored),
            ("left alone", report.changed_since),
            ("not found", report.missing),
            ("failed", report.failed),
        ]
        shown.update(Snapshot("checking" if dry_run else "restoring", counts, examined, total))

    with fail_on_config_error(as_json=as_json), open_context(config_path) as ctx, shown:
        report = revert_run(
            adapter=ctx.adapter,
            mapping=ctx.mapping,
            state=ctx.state,
            target=ctx.target,
            run_id=run_id,
            dry_run=dry_run,
            settings=ctx.loaded.config.sync,
            on_progress=progress,
        )
    code = ExitCode.RECORDS_FAILED if report.failed else ExitCode.OK
    if as_json:
        click.echo(json.dumps(asdict(report) | {"dry_run": dry_run, "exit_code": int(code)}))
        sys.exit(code)
    verb = t("rev.would_restore" if dry_run else "rev.restored_verb", lang)
    for w in report.writes:
        click.echo(f"{verb} {w['id']} {w['field']}: {w['from']!r} -> {w['to']!r}")
    for record_id in report.changed_since_ids:
        click.echo(t("rev.left_alone", lang, run=run_id, id=record_id))
    for record_id in report.missing_ids:
        click.echo(t("rev.not_found", lang, id=record_id))
    for f in report.failures:
        click.echo(t("rev.error", lang, id=f["id"], code=f["code"], message=f["message"]), err=True)
    if report.truncated:
        click.echo(t("rev.truncated", lang, n=LISTED))
    click.echo(
        t(
            "rev.summary",
            lang,
            restored=report.restored,
            verb=t("rev.to_restore" if dry_run else "rev.restored_verb", lang),
            left=report.changed_since,
            missing=report.missing,
            failed=report.failed,
        )
    )
    sys.exit(code)


@click.command()
@config_option
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=0),
    required=True,
    metavar="DAYS",
    help="Delete rows of runs that started more than DAYS days ago (0: of every run so far).",
)
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@click.option(
    "--keep-every",
    type=click.Choice(KEEP_PERIODS),
    default="month",
    show_default=True,
    help="History kept for the policy lab: each account's newest assessment in every such "
    "period (none: only its newest).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the count as one JSON object.")
@lang_option
def prune(
    config_path: str, days: int, dry_run: bool, keep_every: str, as_json: bool, lang: str
) -> None:
    """Shrink the state store: delete old assessment rows nothing needs any more.

    Every account's newest written values and every pending write are kept, so the next
    sync writes exactly what it would have, and a revert restores the same records (it may
    report fewer as left alone). For the policy lab, each account's newest assessment in
    every month (--keep-every) is kept, and every assessment an outcome or a backtest refers
    to, so a backtest gives the same figures after a prune. Deleted rows no longer show in
    `crmqual history`.
    """
    with fail_on_config_error(), open_context(config_path, with_adapter=False) as ctx:
        state, target = ctx.state, ctx.target
        before = datetime.now(UTC) - timedelta(days=days)
        at = before.isoformat(timespec="seconds")
        if dry_run:
            count = state.prune(target, before, dry_run=True, keep_every=keep_every)
            if as_json:
                answer = {"dry_run": True, "before": at, "to_delete": count}
                click.echo(json.dumps(answer))
            else:
                click.echo(t("prune.would", lang, count=count, before=at))
            return
        with run_scope(
            state,
            target,
            "prune",
            stale_after=timedelta(minutes=ctx.loaded.config.sync.lock_stale_minutes),
            policy_version=ctx.policy.version,
            mapping_hash=ctx.mapping.hash,
        ) as run:
            run.counts, run.summary = {"deleted": 0}, {"before": before.isoformat()}
            run.start()
            with reporter("crmqual prune") as shown:
                deleted = state.prune(
                    target,
                    before,
                    keep_every=keep_every,
                    on_progress=lambda n: shown.update(Snapshot("deleting", [("deleted", n)], n)),
                )
            run.counts = {"deleted": deleted}
    if as_json:
        click.echo(json.dumps({"dry_run": False, "before": at, "deleted": deleted}))
    else:
        click.echo(t("prune.done", lang, count=deleted, before=at))
