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
from crmqual.contract import CheckItem, CheckReport, CheckStatus, FieldSpec, FieldType, StepKind
from crmqual.errors import ErrorKind
from crmqual.mapping import OutputRule, check_fields, picklist_values
from crmqual.texts import CATALOGUE, LANGS, lang_option, pad, t, width


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
    items = [
        CheckItem(f"field {p.key}", CheckStatus.FAILED, p.reason, config, p.zh) for p in problems
    ]
    if not problems:
        detail = {lang: t("check.inputs_present", lang, object=m.object) for lang in LANGS}
        items.append(
            CheckItem("mapping fields", CheckStatus.OK, detail["en"], config, detail["zh"])
        )
    by_hand = StepKind.CREATE_FIELD not in ctx.adapter.capabilities.provisioning
    kept = ctx.state.field_names(ctx.target)  # outputs found by label, as recorded
    for output, rule in m.outputs.items():
        name, labels = rule.native, f"“{rule.label.en}” / “{rule.label.zh}”"
        if rule.field is not None and name not in missing:
            lacking = _options_missing(ctx, output, rule, described[name])
            if lacking:
                key = "check.options_missing" if by_hand else "check.options_to_add"
                status = CheckStatus.FAILED if by_hand else CheckStatus.TO_CREATE
                texts = {lang: t(key, lang, values=", ".join(lacking)) for lang in LANGS}
                items.append(
                    CheckItem(f"output field {name}", status, texts["en"], config, texts["zh"])
                )
                continue
            found = {"en": "", "zh": ""}
            if output in kept and kept[output].api_name == name:
                found = {lang: t("check.found_by_label", lang, labels=labels) for lang in LANGS}
            items.append(
                CheckItem(f"output field {name}", CheckStatus.OK, found["en"], config, found["zh"])
            )
            continue
        key = "check.by_hand" if by_hand else "check.by_provision"
        items.append(
            CheckItem(
                f"output field {name}",
                CheckStatus.TO_CREATE,
                t(key, "en"),
                config,
                t(key, "zh"),
            )
        )
    return items


def _options_missing(ctx: Context, output: str, rule: OutputRule, have: FieldSpec) -> list[str]:
    """The picklist values the policy writes into an output field that the field lacks."""
    if rule.type not in (FieldType.PICKLIST, FieldType.MULTISELECT):
        return []
    return [v for v in picklist_values(ctx.policy.policy, output, rule) if v not in have.picklist]


def run_checks(ctx: Context) -> CheckReport:
    return ctx.adapter.check(
        required_fields(ctx),
        ctx.mapping.output_fields,
        lambda described: mapping_items(ctx, described),
    )


def item_words(item: str, lang: str) -> str:
    """An item's name in ``lang``: its leading words (``output field``, ``credentials``)
    translated when the catalogue knows them; the field's own name stays as the CRM has it."""
    if lang == "en":
        return item
    for words in sorted(
        (k.removeprefix("check.item.") for k in CATALOGUE if k.startswith("check.item.")),
        key=len,
        reverse=True,
    ):
        if item == words or item.startswith(words + " "):
            return t(f"check.item.{words}", lang) + item[len(words) :]
    return item


def _detail(item: CheckItem, lang: str) -> str:
    return item.detail_zh if lang == "zh" and item.detail_zh else item.detail


def _print(ctx: Context, report: CheckReport, verbose: bool, lang: str = "en") -> None:
    click.echo(
        t(
            "check.heading",
            lang,
            crm=ctx.loaded.config.crm,
            target=ctx.target,
            mapping=ctx.mapping_source,
        )
    )
    shown = [i for i in report.items if verbose or i.status != CheckStatus.OK]
    names = [item_words(i.item, lang) for i in shown]
    statuses = [t(f"check.{i.status.value}", lang) for i in shown]
    name_width = max((width(n) for n in names), default=0)
    status_width = max((width(s) for s in [*statuses, "unverified"]), default=0)
    for i, name, status in zip(shown, names, statuses, strict=True):
        detail = f"  {_detail(i, lang)}" if i.detail else ""
        click.echo(f"  {pad(status, status_width)}  {pad(name, name_width)}{detail}".rstrip())
    counts = " · ".join(
        f"{sum(1 for i in report.items if i.status == s)} {t(f'check.{s.value}', lang)}"
        for s in CheckStatus
    )
    verdict = t(f"check.verdict.{report.exit_code}", lang)
    click.echo(f"{counts}: {verdict}")
    click.echo(t("next", lang, step=next_step(report, lang)))


def next_step(report: CheckReport, lang: str = "en") -> str:
    """What the admin runs after this check (README's order: init, check, provision,
    sync --dry-run, sync)."""
    if report.exit_code:
        return t("next.fix_check", lang)
    if any(i.status == CheckStatus.TO_CREATE for i in report.items):
        return t("next.provision", lang)
    return t("next.sync_dry", lang)


@click.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("-v", "--verbose", is_flag=True, help="List every item, not only the problems.")
@lang_option
def check(config_path: str, as_json: bool, verbose: bool, lang: str) -> None:
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
            _print(ctx, report, verbose, lang)
    sys.exit(code)
