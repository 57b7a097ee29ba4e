"""`crmqual check`: prove the connection and the mapping before a sync, writing nothing.

The adapter's own ``check`` runs (``crmqual.contract.Adapter.check``: the generic one
describes the fields and reads a first page; Zoho's proves credentials and read scopes and
reports write scopes as unverified). Each item carries its kind, from which the exit code
follows: 2 when the mapping's fields are not all there, 3 when the CRM or the credentials
failed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping

import click

from crmqual.cli.context import Context, config_option, open_context
from crmqual.cli.errors import fail_on_config_error
from crmqual.contract import CheckItem, CheckReport, CheckStatus, FieldSpec, StepKind
from crmqual.errors import ErrorKind, ExitCode
from crmqual.mapping import check_fields


def required_fields(ctx: Context) -> list[str]:
    """Every native field a read needs, less those of optional inputs (absent is allowed)."""
    rules = [r for r in ctx.mapping.inputs.values() if r.field]
    needed = {r.field.split(".")[0] for r in rules if not r.optional}  # type: ignore[union-attr]
    optional = {r.field.split(".")[0] for r in rules if r.optional} - needed  # type: ignore[union-attr]
    return [f for f in ctx.mapping.read_fields if f not in optional]


def mapping_items(ctx: Context, described: Mapping[str, FieldSpec]) -> list[CheckItem]:
    """The mapping's fields against the described ones, named by the mapping's keys."""
    m, config = ctx.mapping, ErrorKind.CONFIG
    problems, missing = check_fields(m, described, ctx.mapping_source)
    items = [CheckItem(f"field {p.key}", CheckStatus.FAILED, p.reason, config) for p in problems]
    if not problems:
        detail = f"every input field of {m.object} is present"
        items.append(CheckItem("mapping fields", CheckStatus.OK, detail, config))
    by_hand = StepKind.CREATE_FIELD not in ctx.adapter.capabilities.provisioning
    kept = ctx.state.field_names(ctx.target)  # outputs found by label, as recorded
    for output, rule in m.outputs.items():
        name, labels = rule.native, f"“{rule.label.en}” / “{rule.label.zh}”"
        if rule.field is not None and name not in missing:
            found = ""
            if output in kept and kept[output].api_name == name:
                found = f"found by label {labels}"
            items.append(CheckItem(f"output field {name}", CheckStatus.OK, found, config))
            continue
        if by_hand:
            detail = "in the CRM's console: `crmqual provision` prints the list"
        else:
            detail = "by `crmqual provision`"
        items.append(CheckItem(f"output field {name}", CheckStatus.TO_CREATE, detail, config))
    return items


def run_checks(ctx: Context) -> CheckReport:
    return ctx.adapter.check(
        required_fields(ctx),
        ctx.mapping.output_fields,
        lambda described: mapping_items(ctx, described),
    )


def _print(ctx: Context, report: CheckReport, verbose: bool) -> None:
    click.echo(
        f"crmqual check: {ctx.loaded.config.crm} (target {ctx.target}), "
        f"mapping {ctx.mapping_source}"
    )
    shown = [i for i in report.items if verbose or i.status != CheckStatus.OK]
    width = max((len(i.item) for i in shown), default=0)
    for i in shown:
        detail = f"  {i.detail}" if i.detail else ""
        click.echo(f"  {i.status.value:<10}  {i.item:<{width}}{detail}".rstrip())
    counts = " · ".join(
        f"{sum(1 for i in report.items if i.status == s)} {s.value}" for s in CheckStatus
    )
    verdict = {
        ExitCode.OK: "nothing failed",
        ExitCode.CONFIG: "the mapping's fields are not all there",
        ExitCode.CRM_UNAVAILABLE: "the CRM or the credentials failed",
    }[report.exit_code]
    click.echo(f"{counts}: {verdict}")
    click.echo(f"next: {next_step(report)}")


def next_step(report: CheckReport) -> str:
    """What the admin runs after this check (README's order: init, check, provision,
    sync --dry-run, sync)."""
    if report.exit_code:
        return "fix what failed above, then run `crmqual check` again"
    if any(i.status == CheckStatus.TO_CREATE for i in report.items):
        return "`crmqual provision --dry-run`, then `crmqual provision`"
    return "`crmqual sync --dry-run`"


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("-v", "--verbose", is_flag=True, help="List every item, not only the problems.")
def check(config_path: str, as_json: bool, verbose: bool) -> None:
    """Prove the credentials, read scopes and mapping fields; write nothing.

    Unverified items (write scopes: proving them would mean writing) and output fields still
    to be created by `crmqual provision` do not fail the check. Exit status: 0 nothing
    failed, 2 a field of the mapping is missing (or the configuration is invalid), 3
    credentials, scopes or the CRM failed.
    """
    with fail_on_config_error(as_json=as_json), open_context(config_path) as ctx:
        report = run_checks(ctx)
        code = report.exit_code
        if as_json:
            items = [{"item": i, "status": s, "detail": d} for i, s, d in report.as_rows()]
            answer = {"items": items, "exit_code": code, "next": next_step(report)}
            click.echo(json.dumps(answer, ensure_ascii=False))
        else:
            _print(ctx, report, verbose)
    sys.exit(code)
