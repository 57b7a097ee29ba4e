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
from crmqual.contract import CheckItem, CheckReport, CheckStatus, FieldSpec
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
    for output, rule in m.outputs.items():
        name, labels = rule.native, f"“{rule.label.en}” / “{rule.label.zh}”"
        if rule.field is None:
            detail = (
                f"no field labelled {labels}: create it by hand (`crmqual provision` lists how)"
            )
            items.append(CheckItem(f"output field {name}", CheckStatus.FAILED, detail, config))
        elif name in missing:
            detail = "not created yet: run `crmqual provision`"
            items.append(CheckItem(f"output field {name}", CheckStatus.FAILED, detail, config))
        else:
            found = f"found by label {labels}" if output in ctx.found_by_label else ""
            items.append(CheckItem(f"output field {name}", CheckStatus.OK, found, config))
    return items


def run_checks(ctx: Context) -> CheckReport:
    return ctx.adapter.check(
        required_fields(ctx),
        ctx.mapping.output_fields,
        lambda described: mapping_items(ctx, described),
    )


def _print(ctx: Context, report: CheckReport) -> None:
    click.echo(
        f"crmqual check: {ctx.loaded.config.crm} (target {ctx.target}), "
        f"mapping {ctx.mapping_source}"
    )
    width = max((len(i.item) for i in report.items), default=0)
    for i in report.items:
        detail = f"  {i.detail}" if i.detail else ""
        click.echo(f"  {i.status.value:<10}  {i.item:<{width}}{detail}".rstrip())
    counts = {s: sum(1 for i in report.items if i.status == s) for s in CheckStatus}
    verdict = {
        ExitCode.OK: "nothing failed",
        ExitCode.CONFIG: "the mapping's fields are not all there",
        ExitCode.CRM_UNAVAILABLE: "the CRM or the credentials failed",
    }[report.exit_code]
    click.echo(
        f"{counts[CheckStatus.OK]} ok · {counts[CheckStatus.FAILED]} failed · "
        f"{counts[CheckStatus.UNVERIFIED]} unverified: {verdict}"
    )


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def check(config_path: str, as_json: bool) -> None:
    """Prove the credentials, read scopes and mapping fields; write nothing.

    Unverified items (write scopes: proving them would mean writing) do not fail the check.
    Exit status: 0 nothing failed, 2 a field of the mapping is missing (or the configuration
    is invalid), 3 credentials, scopes or the CRM failed.
    """
    with fail_on_config_error(), open_context(config_path) as ctx:
        report = run_checks(ctx)
        code = report.exit_code
        if as_json:
            items = [{"item": i, "status": s, "detail": d} for i, s, d in report.as_rows()]
            click.echo(json.dumps({"items": items, "exit_code": code}, ensure_ascii=False))
        else:
            _print(ctx, report)
    sys.exit(code)
