"""`crmqual check`: prove the connection and the mapping before a sync, writing nothing.

For Zoho the adapter's own check runs (credentials, read scopes proven by read calls, write
scopes reported as unverified, the mapping's fields). For an adapter without one (the file
adapter) the equivalent: the CRM's fields can be described (the input file is readable), the
first page reads, the output location is writable, and the mapping's fields are present.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import click

from crmqual.adapters.zoho_check import CheckItem, CheckReport, CheckStatus
from crmqual.cli.context import Context, config_option, open_context
from crmqual.cli.errors import fail_on_config_error
from crmqual.contract import ReadQuery
from crmqual.errors import CrmqualError, ExitCode
from crmqual.mapping import check_fields

#: Items about the mapping's fields (exit 2); every other failed item is the connection's
#: (credentials, scopes, reachability: exit 3).
_MAPPING_ITEMS = ("field ", "output field ", "mapping ")

_Checker = Callable[[Sequence[str], Sequence[str]], CheckReport]


def is_mapping_item(item: CheckItem) -> bool:
    return item.item.startswith(_MAPPING_ITEMS)


def exit_code(report: CheckReport) -> int:
    """0 nothing failed; 2 a mapping field is missing; 3 credentials, scopes or the CRM
    failed. Both: 2, the more severe in crmqual's order (see the README's exit codes)."""
    failed = [i for i in report.items if i.status == CheckStatus.FAILED]
    if any(is_mapping_item(i) for i in failed):
        return ExitCode.CONFIG
    if failed:
        return ExitCode.CRM_UNAVAILABLE
    return ExitCode.OK


def required_fields(ctx: Context) -> list[str]:
    """Every native field a read needs, less those of optional inputs (absent is allowed)."""
    rules = [r for r in ctx.mapping.inputs.values() if r.field]
    needed = {r.field.split(".")[0] for r in rules if not r.optional}  # type: ignore[union-attr]
    optional = {r.field.split(".")[0] for r in rules if r.optional} - needed  # type: ignore[union-attr]
    return [f for f in ctx.mapping.read_fields if f not in optional]


def run_checks(ctx: Context) -> CheckReport:
    checker: Any = getattr(ctx.adapter, "check", None)
    if callable(checker):
        own: _Checker = checker
        return own(required_fields(ctx), ctx.mapping.output_fields)
    return generic_check(ctx)


def generic_check(ctx: Context) -> CheckReport:
    """What an adapter without its own check can prove by reading (the file adapter)."""
    report = CheckReport()
    adapter, m = ctx.adapter, ctx.mapping
    try:
        described = adapter.describe()
        first = next(iter(adapter.read(ReadQuery(fields=m.read_fields))), [])
    except CrmqualError as exc:
        report.add("connection", CheckStatus.FAILED, str(exc))
        report.add("mapping fields", CheckStatus.UNVERIFIED, "the fields could not be described")
        return report
    report.add(
        "connection",
        CheckStatus.OK,
        f"{len(described)} fields described, first page of {len(first)} record(s) read",
    )
    output = getattr(adapter, "output", None)
    if output is not None:
        folder = os.path.dirname(os.path.abspath(str(output)))
        writable = os.path.isdir(folder) and os.access(folder, os.W_OK)
        report.add(
            "output location",
            CheckStatus.OK if writable else CheckStatus.FAILED,
            folder if writable else f"{folder} is not a writable folder",
        )
    problems, missing = check_fields(m, described, ctx.mapping_source)
    for p in problems:
        report.add(f"field {p.key}", CheckStatus.FAILED, p.reason)
    if not problems:
        report.add("mapping fields", CheckStatus.OK, f"every input field of {m.object} is present")
    for name in m.output_fields:
        if name in missing:
            report.add(
                f"output field {name}",
                CheckStatus.FAILED,
                "not created yet: run `crmqual provision`",
            )
        else:
            report.add(f"output field {name}", CheckStatus.OK)
    return report


def _print(ctx: Context, report: CheckReport, code: int) -> None:
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
    }[code]
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
        code = exit_code(report)
        if as_json:
            items = [{"item": i, "status": s, "detail": d} for i, s, d in report.as_rows()]
            click.echo(json.dumps({"items": items, "exit_code": code}, ensure_ascii=False))
        else:
            _print(ctx, report, code)
    sys.exit(code)
