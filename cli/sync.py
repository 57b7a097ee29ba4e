"""`crmqual sync` and `crmqual provision`: the nightly job and its preparation."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import click

from crmqual.cli.assess import parse_as_of
from crmqual.cli.context import Context, config_option, open_context
from crmqual.cli.errors import CliError, fail_on_config_error
from crmqual.cli.plan import print_plan, write_plan_csv
from crmqual.contract import StepKind
from crmqual.errors import ExitCode
from crmqual.mapping import wanted_fields
from crmqual.progress import Snapshot, reporter
from crmqual.sync import RunSummary, Sync, SyncRequest


def sync_snapshot(summary: RunSummary) -> Snapshot:
    """A sync's progress: its phase and counts (written once it writes)."""
    counts = [("read", summary.read), ("assessed", summary.assessed)]
    if summary.phase == "writing":
        counts.append(("written", summary.written))
    counts.append(("failed", summary.failed))
    return Snapshot(summary.phase, counts, summary.phase_done, summary.phase_total)


def print_summary(summary: RunSummary) -> None:
    run = f"run {summary.run_id}" if summary.run_id is not None else "dry run, nothing written"
    click.echo(f"crmqual sync: {summary.status} ({summary.mode}, {run})")
    click.echo(
        f"  read {summary.read:,} · assessed {summary.assessed:,} · changed {summary.changed:,}"
        f" · written {summary.written:,} · failed {summary.failed:,}"
        f" · overridden {summary.overridden:,} · warnings {summary.warnings:,}"
    )
    click.echo(f"  API calls {summary.api_calls:,} · {summary.duration_s:.1f} s")
    if summary.events:
        kinds = ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in sorted(summary.events.items()))
        click.echo(f"  changes: {kinds}")
    if summary.unreadable:
        fields = ", ".join(f"{f} {n:,}" for f, n in sorted(summary.unreadable.items()))
        click.echo(f"  values that could not be read (assessed as missing): {fields}")
    if summary.missing_fields:
        click.echo(
            f"  output fields missing, `crmqual provision` would create: "
            f"{', '.join(summary.missing_fields)}"
        )
    if summary.message:
        click.echo(f"  {summary.message}")


def print_failures(summary: RunSummary) -> None:
    """One line per failed record (its problems joined), on stderr."""
    records: dict[str, list[str]] = {}
    for f in summary.failures:
        if f["field"] == "(row)":  # a row of the source that is no record at all
            click.echo(f"error: {f['reason']}" + (f" (id {f['id']})" if f["id"] else ""), err=True)
            continue
        records.setdefault(f["id"], []).append(f"{f['field']}: {f['reason']}")
    for record_id, problems in records.items():
        click.echo(f"error: record {record_id}: {'; '.join(problems)}", err=True)
    listed = len(records) + sum(1 for f in summary.failures if f["field"] == "(row)")
    if summary.failed > listed:
        click.echo(f"error: ... {summary.failed - listed} more", err=True)


@click.command()
@config_option
@click.option(
    "--dry-run", is_flag=True, help="Read and assess; show what would change; write nothing."
)
@click.option("--full", is_flag=True, help="Re-read every account, not only those changed.")
@click.option(
    "--limit", type=click.IntRange(min=1), help="Stop after N accounts (keeps the watermark)."
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the summary as one JSON object (with --dry-run: and the whole plan).",
)
@click.option(
    "--csv",
    "as_csv",
    is_flag=True,
    help="With --dry-run: the whole plan as CSV, one row per field that would change.",
)
@click.option(
    "--show",
    type=click.IntRange(min=0),
    default=None,
    help="With --dry-run: list at most N records of each kind of change (default: all).",
)
@click.option("--quiet", is_flag=True, help="Print nothing but errors.")
@click.option(
    "--as-of",
    "as_of_text",
    metavar="DATE",
    help="Assess as of this date (default: the CRM's clock).",
)
def sync(
    config_path: str,
    dry_run: bool,
    full: bool,
    limit: int | None,
    as_json: bool,
    as_csv: bool,
    show: int | None,
    quiet: bool,
    as_of_text: str | None,
) -> None:
    """Assess the CRM's accounts and write what changed into crmqual's own fields.

    Incremental by default: only accounts changed since the last run, plus those due for
    review, those that failed before, and those a killed run left half done. Exit status:
    0 all good, 1 some records failed, 2 configuration error, 3 CRM unreachable or
    credentials refused, 4 another run holds the lock, 5 stopped at the API quota (rerun
    later to resume), 6 the state store failed (free disk space or check its server, rerun).
    """
    if (as_csv or show is not None) and not dry_run:
        raise click.UsageError("--csv and --show go with --dry-run (the plan of a dry run)")
    if as_csv and as_json:
        raise click.UsageError("choose one of --json and --csv")
    as_of: datetime | None = parse_as_of(as_of_text) if as_of_text else None
    shown = reporter("crmqual sync", enabled=not quiet and not (as_json or as_csv))
    with fail_on_config_error(as_json=as_json), open_context(config_path) as ctx, shown:
        runner = Sync(
            adapter=ctx.adapter,
            mapping=ctx.mapping,
            mapping_source=ctx.mapping_source,
            policy=ctx.policy,
            state=ctx.state,
            target=ctx.target,
            settings=ctx.loaded.config.sync,
            on_progress=lambda s: shown.update(sync_snapshot(s)),
        )
        summary = runner.run(SyncRequest(dry_run=dry_run, full=full, limit=limit, as_of=as_of))
    print_failures(summary)
    if as_csv:
        write_plan_csv(summary.plan)
    elif as_json:
        answer = summary.as_json()
        if dry_run:
            answer["plan"] = [r.as_json() for r in summary.plan]
        click.echo(json.dumps(answer, ensure_ascii=False, default=str))
    elif not quiet:
        print_summary(summary)
        if dry_run:
            click.echo("")
            print_plan(summary.plan, show)
            if summary.status == "dry_run":
                click.echo("\nnext: `crmqual sync` to write these changes")
    elif summary.status == "quota":
        click.echo(f"stopped at the API quota: {summary.message}", err=True)
    summary.plan.close()
    sys.exit(summary.exit_code)


#: How each step reads in ``crmqual provision`` (dry run, done).
_STEP_VERBS = {
    StepKind.CREATE_FIELD: ("would create", "created"),
    StepKind.GRANT_ACCESS: ("would grant access to", "granted access to"),
    StepKind.PLACE_ON_LAYOUT: ("would place on the page layout", "placed on the page layout"),
}


def _provision(ctx: Context, dry_run: bool) -> None:
    wanted = wanted_fields(ctx.mapping, ctx.policy.policy)
    plan = ctx.adapter.plan_provision(wanted) if dry_run else ctx.adapter.provision(wanted)
    for step in plan.steps:
        spec = step.field
        if step.kind == StepKind.ADD_PICKLIST_VALUES:
            verb = "would append" if dry_run else "appended"
            click.echo(f"{verb} to {spec.api_name}: {', '.join(step.values)}")
        elif step.kind in _STEP_VERBS:
            click.echo(f"{_STEP_VERBS[step.kind][0 if dry_run else 1]}: {step.describe()}")
    for name in plan.unchanged:
        click.echo(f"up to date: {name}")
    if plan.conflicts:
        listing = "\n".join(f"  {c}" for c in plan.conflicts)
        raise CliError(f"conflicting fields, nothing was changed:\n{listing}", ExitCode.CONFIG)
    if plan.manual:
        click.echo(
            f"to do by hand in {ctx.loaded.config.crm} (its API cannot), then run `crmqual check`:"
        )
        for step in plan.manual:
            click.echo(f"  {step.describe()}")
    elif dry_run and plan.changes:
        click.echo("next: `crmqual provision` to make these changes")
    else:
        click.echo("next: `crmqual sync --dry-run`")


@click.command()
@config_option
@click.option("--dry-run", is_flag=True, help="List what would be created; change nothing.")
def provision(config_path: str, dry_run: bool) -> None:
    """Create crmqual's output fields in the CRM (idempotent; never alters or deletes)."""
    with fail_on_config_error(), open_context(config_path) as ctx:
        _provision(ctx, dry_run)
