"""`crmqual sync` and `crmqual provision`: the nightly job and its preparation."""

from __future__ import annotations

import json
import sys
from datetime import datetime

import click

from crmqual.cli.assess import parse_as_of
from crmqual.cli.context import Context, config_option, open_context
from crmqual.cli.errors import CliError, fail_on_config_error
from crmqual.contract import StepKind
from crmqual.errors import ExitCode
from crmqual.mapping import wanted_fields
from crmqual.sync import RunSummary, Sync, SyncRequest


def _progress(summary: RunSummary) -> None:
    click.echo(
        f"\rread {summary.read:,} · assessed {summary.assessed:,} · written {summary.written:,}"
        f" · failed {summary.failed:,}",
        nl=False,
        err=True,
    )


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
    if summary.missing_fields:
        click.echo(
            f"  output fields missing, `crmqual provision` would create: "
            f"{', '.join(summary.missing_fields)}"
        )
    if summary.would_change:
        click.echo("  would change:")
        for c in summary.would_change:
            click.echo(f"    {c['id']}  {c['field']}: {c['from']!r} -> {c['to']!r}")
    if summary.message:
        click.echo(f"  {summary.message}")
    if summary.dry_run and summary.status == "dry_run":
        click.echo("next: `crmqual sync` to write these changes")


def print_failures(summary: RunSummary) -> None:
    for f in summary.failures:
        click.echo(f"error: record {f['id']}: {f['field']}: {f['reason']}", err=True)
    if summary.failed > len(summary.failures):
        click.echo(f"error: ... {summary.failed - len(summary.failures)} more", err=True)


@click.command()
@config_option
@click.option(
    "--dry-run", is_flag=True, help="Read and assess; show what would change; write nothing."
)
@click.option("--full", is_flag=True, help="Re-read every account, not only those changed.")
@click.option(
    "--limit", type=click.IntRange(min=1), help="Stop after N accounts (keeps the watermark)."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
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
    as_of: datetime | None = parse_as_of(as_of_text) if as_of_text else None
    with fail_on_config_error(as_json=as_json), open_context(config_path) as ctx:
        show_progress = sys.stderr.isatty() and not quiet and not as_json
        runner = Sync(
            adapter=ctx.adapter,
            mapping=ctx.mapping,
            mapping_source=ctx.mapping_source,
            policy=ctx.policy,
            state=ctx.state,
            target=ctx.target,
            settings=ctx.loaded.config.sync,
            on_progress=_progress if show_progress else None,
        )
        summary = runner.run(SyncRequest(dry_run=dry_run, full=full, limit=limit, as_of=as_of))
        if show_progress:
            click.echo("", err=True)
    print_failures(summary)
    if as_json:
        click.echo(json.dumps(summary.as_json(), ensure_ascii=False, default=str))
    elif not quiet:
        print_summary(summary)
    elif summary.status == "quota":
        click.echo(f"stopped at the API quota: {summary.message}", err=True)
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
