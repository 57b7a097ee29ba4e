"""`crmqual sync` and `crmqual provision`: the nightly job and its preparation."""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime
from typing import Any

import click

from crmqual.cli.assess import parse_as_of
from crmqual.cli.context import Context, config_option, open_context
from crmqual.cli.errors import CliError, fail_on_config_error
from crmqual.cli.plan import print_plan, write_plan_csv
from crmqual.contract import ProvisionPlan, ProvisionStep, StepKind
from crmqual.errors import ExitCode
from crmqual.mapping import wanted_fields
from crmqual.progress import Snapshot, reporter
from crmqual.sync import RunSummary, SyncRequest, sync_configured
from crmqual.texts import lang_option, t, t_or


def sync_snapshot(summary: RunSummary) -> Snapshot:
    """A sync's progress: its phase and counts (written once it writes)."""
    counts = [("read", summary.read), ("assessed", summary.assessed)]
    if summary.phase == "writing":
        counts.append(("written", summary.written))
    counts.append(("failed", summary.failed))
    return Snapshot(summary.phase, counts, summary.phase_done, summary.phase_total)


def stability_text(stability: dict[str, Any] | None, lang: str = "en") -> str:
    """The indicators whose population shifted (PSI 0.25 and above: act; 0.1: watch), or ""."""
    if not stability:
        return ""
    psi = stability.get("psi", {})
    parts = []
    for key in ("act", "watch"):
        names = stability.get(key) or []
        if names:
            items = ", ".join(f"{n} {psi[n]:.2f}" for n in sorted(names, key=lambda n: -psi[n]))
            parts.append(f"{t(f'psi.{key}', lang)} {items}")
    return "; ".join(parts)


def print_summary(summary: RunSummary, lang: str = "en") -> None:
    if summary.run_id is not None:
        run = t("sync.run", lang, id=summary.run_id)
    else:
        run = t("sync.dry_run", lang)
    status = t_or(f"run.{summary.status}", lang, summary.status)
    mode = t_or(f"run.{summary.mode}", lang, summary.mode)
    click.echo(t("sync.heading", lang, status=status, mode=mode, run=run))
    counts = ("read", "assessed", "changed", "written", "failed", "overridden", "warnings")
    click.echo("  " + t("sync.counts", lang, **{k: f"{getattr(summary, k):,}" for k in counts}))
    seconds = f"{summary.duration_s:.1f}"
    click.echo("  " + t("sync.calls", lang, calls=f"{summary.api_calls:,}", seconds=seconds))
    if summary.events:
        kinds = ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in sorted(summary.events.items()))
        click.echo("  " + t("sync.changes", lang, kinds=kinds))
    if summary.unreadable:
        fields = ", ".join(f"{f} {n:,}" for f, n in sorted(summary.unreadable.items()))
        click.echo("  " + t("sync.unreadable", lang, fields=fields))
    if summary.missing_fields:
        missing = ", ".join(summary.missing_fields)
        click.echo("  " + t("sync.missing_fields", lang, fields=missing))
    stability = stability_text(summary.stability, lang)
    if stability:
        against = (summary.stability or {}).get("compared_with_run")
        click.echo("  " + t("psi.line", lang, run=against, items=stability))
    if summary.message:
        click.echo(f"  {summary.message}")


def print_failures(summary: RunSummary, lang: str = "en") -> None:
    """One line per failed record (its problems joined), on stderr."""
    records: dict[str, list[str]] = {}
    for f in summary.failures:
        if f["field"] == "(row)":  # a row of the source that is no record at all
            reason = f["reason"] + (f" (id {f['id']})" if f["id"] else "")
            click.echo(t("error.row", lang, reason=reason), err=True)
            continue
        records.setdefault(f["id"], []).append(f"{f['field']}: {f['reason']}")
    for record_id, problems in records.items():
        click.echo(t("error.record", lang, id=record_id, problems="; ".join(problems)), err=True)
    listed = len(records) + sum(1 for f in summary.failures if f["field"] == "(row)")
    if summary.failed > listed:
        click.echo(t("error.more", lang, n=summary.failed - listed), err=True)


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
@lang_option
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
    lang: str,
) -> None:
    """Assess the CRM's accounts and write what changed into crmqual's own fields.

    Incremental by default: only accounts changed since the last run, plus those due for
    review, those that failed before, and those a killed run left half done. Exit status:
    0 all good, 1 some records failed, 2 configuration error, 3 CRM unreachable or
    credentials refused, 4 another run holds the lock, 5 stopped at the API quota (rerun
    later to resume), 6 the state store failed (free disk space or check its server, rerun).
    """
    if (as_csv or show is not None) and not dry_run:
        raise click.UsageError(t("err.plan_options", lang))
    if as_csv and as_json:
        raise click.UsageError(t("err.json_or_csv", lang))
    as_of: datetime | None = parse_as_of(as_of_text) if as_of_text else None
    shown = reporter("crmqual sync", enabled=not quiet and not (as_json or as_csv))
    request = SyncRequest(dry_run=dry_run, full=full, limit=limit, as_of=as_of)
    with fail_on_config_error(as_json=as_json), shown:
        summary = sync_configured(
            config_path, request, on_progress=lambda s: shown.update(sync_snapshot(s))
        )
    print_failures(summary, lang)
    if as_csv:
        write_plan_csv(summary.plan)
    elif as_json:
        answer = summary.as_json()
        if dry_run:
            answer["plan"] = [r.as_json() for r in summary.plan]
        click.echo(json.dumps(answer, ensure_ascii=False, default=str))
    elif not quiet:
        print_summary(summary, lang)
        if dry_run:
            click.echo("")
            print_plan(summary.plan, show, lang)
            if summary.status == "dry_run":
                click.echo("\n" + t("next", lang, step=t("next.sync", lang)))
    elif summary.status == "quota":
        click.echo(t("sync.quota", lang, message=summary.message), err=True)
    summary.plan.close()
    sys.exit(summary.exit_code)


def _manual_field(step: ProvisionStep) -> dict[str, object]:
    """A MANUAL step as the admin copies it: labels, type, options in order, where it goes."""
    spec = step.field
    return {
        "api_name": spec.api_name,
        "label_zh": spec.label_zh or "",
        "label_en": spec.label,
        "type": spec.type.value,
        "crm_type": step.crm_type,
        "options": list(step.values or spec.picklist),
        "section": step.place,
        "todo": step.detail,
    }


def write_manual_csv(path: str, plan: ProvisionPlan) -> None:
    """The MANUAL steps as a CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese
    labels): one row per field, options joined by ``|`` in order."""
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        columns = ["label_zh", "label_en", "type", "crm_type", "options", "section", "todo"]
        out.writerow(columns)
        for step in plan.manual:
            row = _manual_field(step) | {"options": "|".join(step.values or step.field.picklist)}
            out.writerow([row[c] for c in columns])


#: How each step reads in ``crmqual provision`` (dry run, done): keys of crmqual.texts.
_STEP_VERBS = {
    StepKind.CREATE_FIELD: ("would create", "created"),
    StepKind.GRANT_ACCESS: ("would grant access to", "granted access to"),
    StepKind.PLACE_ON_LAYOUT: ("would place on the page layout", "placed on the page layout"),
}


def _provision(
    ctx: Context,
    dry_run: bool,
    as_json: bool = False,
    lang: str = "en",
    csv_path: str | None = None,
) -> None:
    wanted = wanted_fields(ctx.mapping, ctx.policy.policy)
    plan = ctx.adapter.plan_provision(wanted) if dry_run else ctx.adapter.provision(wanted)
    if csv_path is not None:
        write_manual_csv(csv_path, plan)
    lines: list[str] = []
    steps: list[dict[str, object]] = []
    for step in plan.steps:
        spec = step.field
        if step.kind == StepKind.ADD_PICKLIST_VALUES:
            verb = t("prov.would append" if dry_run else "prov.appended", lang, field=spec.api_name)
            lines.append(f"{verb}: {', '.join(step.values)}")
        elif step.kind in _STEP_VERBS:
            lines.append(
                f"{t('prov.' + _STEP_VERBS[step.kind][0 if dry_run else 1], lang)}: "
                f"{step.describe()}"
            )
        else:
            continue
        steps.append({"kind": step.kind.value, "field": spec.api_name, "values": step.values})
    lines += [f"{t('prov.up_to_date', lang)}: {name}" for name in plan.unchanged]
    lines += [t("prov.note", lang, note=note.text(lang)) for note in plan.notes]
    if plan.conflicts and not as_json:
        for line in lines:  # what is already up to date, then why nothing changed
            click.echo(line)
        listing = "\n".join(f"  {c}" for c in plan.conflicts)
        raise CliError(f"{t('prov.conflicts', lang)}\n{listing}", ExitCode.CONFIG)
    manual = [step.describe() for step in plan.manual]
    if plan.manual:
        lines.append(t("prov.manual", lang, crm=ctx.loaded.config.crm))
        lines += [f"  {m}" for m in manual]
        step_next = "crmqual check"
    elif dry_run and plan.changes:
        lines.append(t("next", lang, step=t("next.provision_do", lang)))
        step_next = "crmqual provision"
    else:
        lines.append(t("next", lang, step=t("next.sync_dry", lang)))
        step_next = "crmqual sync --dry-run"
    if as_json:
        answer = {
            "dry_run": dry_run,
            "steps": steps,
            "unchanged": list(plan.unchanged),
            "conflicts": [str(c) for c in plan.conflicts],
            "manual": manual,
            "manual_fields": [_manual_field(step) for step in plan.manual],
            "notes": [note.text(lang) for note in plan.notes],
            "next": step_next,
        }
        click.echo(json.dumps(answer, ensure_ascii=False, default=str))
        if plan.conflicts:
            sys.exit(ExitCode.CONFIG)
        return
    for line in lines:
        click.echo(line)


@click.command()
@config_option
@click.option(
    "--dry-run",
    is_flag=True,
    help="List what would be created and placed (with --remove: removed); change nothing.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the plan or its result as one JSON object."
)
@click.option(
    "--remove",
    is_flag=True,
    help="Take crmqual's section off the page layouts instead, and the access it granted "
    "(the fields and their values stay).",
)
@click.option(
    "--delete-fields",
    is_flag=True,
    help="With --remove: delete the output fields too, and every value they hold (asks first).",
)
@click.option("--yes", is_flag=True, help="Do not ask before --delete-fields deletes.")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False),
    help="Also write the fields to create by hand to this CSV (a CRM whose API cannot).",
)
@lang_option
def provision(
    config_path: str,
    dry_run: bool,
    as_json: bool,
    remove: bool,
    delete_fields: bool,
    yes: bool,
    csv_path: str | None,
    lang: str,
) -> None:
    """Create crmqual's output fields in the CRM and place them on its page layouts
    (idempotent; never alters or deletes a field, unless --remove --delete-fields)."""
    if delete_fields and not remove:
        raise click.UsageError(t("prov.delete_needs_remove", lang))
    with fail_on_config_error(as_json=as_json), open_context(config_path) as ctx:
        if remove:
            if delete_fields and not dry_run and not yes:
                _confirm_delete(ctx, as_json, lang)
            _remove_section(ctx, dry_run, as_json, lang, delete_fields)
        else:
            _provision(ctx, dry_run, as_json, lang, csv_path)


def _confirm_delete(ctx: Context, as_json: bool, lang: str) -> None:
    """Ask before deleting the output fields (their values cannot be had back by crmqual)."""
    fields = ", ".join(ctx.mapping.output_fields)
    if as_json:  # nobody to ask
        raise CliError(t("prov.delete_unconfirmed", lang, fields=fields), ExitCode.CONFIG)
    question = t("prov.delete_confirm", lang, crm=ctx.loaded.config.crm, fields=fields)
    try:
        agreed = click.confirm(question, default=False, err=True)
    except click.Abort:  # end of input: no answer is no
        agreed = False
    if not agreed:
        raise CliError(t("prov.delete_declined", lang), ExitCode.CONFIG)


def _remove_section(
    ctx: Context, dry_run: bool, as_json: bool, lang: str, delete_fields: bool = False
) -> None:
    wanted = wanted_fields(ctx.mapping, ctx.policy.policy)
    removed = ctx.adapter.unprovision(wanted, dry_run, delete_fields)
    if as_json:
        answer = {"dry_run": dry_run, "removed": [note.text(lang) for note in removed]}
        click.echo(json.dumps(answer, ensure_ascii=False))
        return
    if not removed:
        click.echo(t("prov.no_section", lang))
    verb = t("prov.would_remove" if dry_run else "prov.removed", lang)
    for note in removed:
        click.echo(f"{verb}: {note.text(lang)}")
