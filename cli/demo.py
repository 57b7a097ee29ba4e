"""`crmqual demo`: the whole chain on a local CRM sandbox, with no configuration.

Seeds the chosen CRM's sandbox (`--crm`, default Zoho) with companies in English and
Chinese, provisions crmqual's output fields through that CRM's adapter, runs a full sync,
runs it again (nothing to write), shows what a salesperson would now see on the accounts,
and writes the portfolio report. Each sandbox dialect's `demo()` supplies the CRM's part.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from crmqual import registry
from crmqual.cli.assess import parse_as_of
from crmqual.cli.errors import CliError, fail_on_config_error
from crmqual.cli.sandbox import require_sandbox
from crmqual.cli.sync import print_failures, sync_snapshot
from crmqual.compiled import compiled
from crmqual.config import DEFAULT_REVIEW_DAYS
from crmqual.contract import BuildContext, ProvisionPlan, StepKind
from crmqual.errors import ExitCode
from crmqual.mapping import Labels, load_mapping, resolve_output_fields, wanted_fields
from crmqual.policy import GRADES, load_policy
from crmqual.progress import Snapshot, reporter
from crmqual.registry import make_adapter
from crmqual.report import write_report
from crmqual.state import StateStore
from crmqual.sync import RunSummary, Sync, SyncRequest
from crmqual.texts import current_lang, lang_given, lang_option, named_lang, t, use_lang

#: How the demo names each CRM in its heading.
CRM_NAMES = {"zoho": "Zoho CRM", "salesforce": "Salesforce", "fxiaoke": "纷享销客 (Fxiaoke)"}
#: What a demo leaves in its folder (SQLite's journal files included).
DEMO_FILES = (
    *(
        f"{name}{suffix}"
        for name in ("sandbox.sqlite", "state.sqlite")
        for suffix in ("", "-journal", "-wal", "-shm")
    ),
    "report.html",
)


def _prepare(where: Path, fresh: bool) -> None:
    """A folder with no earlier demo in it: refuse one, or with ``fresh`` delete its files."""
    earlier = [where / name for name in DEMO_FILES if (where / name).exists()]
    if earlier and not fresh:
        files = ", ".join(p.name for p in earlier)
        raise CliError(t("demo.earlier", current_lang(), dir=where, files=files), ExitCode.CONFIG)
    for path in earlier:
        path.unlink()


def _line(name: str, s: RunSummary, lang: str = "en") -> str:
    counts = {k: f"{getattr(s, k):,}" for k in ("read", "written", "failed", "warnings")}
    line = t("demo.line", lang, calls=f"{s.api_calls:,}", seconds=f"{s.duration_s:.1f}", **counts)
    return f"  {name}: {line}"


def demo_target(crm: str) -> str:
    """The demo's target in its state store (``zoho-demo``)."""
    return f"{crm}-demo"


@click.command()
@click.option(
    "--crm",
    type=click.Choice(sorted(CRM_NAMES)),
    default="zoho",
    show_default=True,
    help="Which CRM's sandbox and adapter to demonstrate.",
)
@click.option(
    "--accounts",
    default=2500,
    show_default=True,
    type=click.IntRange(min=1),
    help="How many companies to seed.",
)
@click.option("--seed", default=7, show_default=True, help="Seed of the generated companies.")
@click.option(
    "--bad-rate",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 1),
    help="Share of accounts given one malformed value.",
)
@lang_option
@click.option(
    "--policy",
    "policy_file",
    type=click.Path(dir_okay=False),
    help="Policy YAML (default: the shipped policy).",
)
@click.option("--as-of", "as_of_text", metavar="DATE", help="Assess as of this date.")
@click.option(
    "--dir",
    "folder",
    type=click.Path(file_okay=False),
    help="Where the sandbox and the state go (default: a new temporary folder). A folder "
    "holding an earlier demo is refused unless --fresh.",
)
@click.option(
    "--fresh",
    is_flag=True,
    help="Delete an earlier demo's sandbox and state in --dir first and start clean.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='One JSON object: {"first": ..., "second": ..., "grades": {...}, "report": PATH}.',
)
def demo(
    crm: str,
    accounts: int,
    seed: int,
    bad_rate: float,
    lang: str,
    policy_file: str | None,
    as_of_text: str | None,
    folder: str | None,
    fresh: bool,
    as_json: bool,
) -> None:
    """Seed a local CRM sandbox, sync it twice, show the grades salespeople would see."""
    require_sandbox("demo")
    from crmqual.sandbox.dialects import ConsoleFields, load

    if not lang_given():  # the CRM's own language: what `crmqual init --crm NAME` writes
        template = registry.plugin(crm).init_template if crm in registry.names() else None
        lang = use_lang((named_lang(template.read_text("utf-8")) if template else None) or lang)
    if crm not in registry.names():
        others = ", ".join(name for name in CRM_NAMES if name in registry.names())
        raise CliError(
            t("demo.no_adapter", current_lang(), crm=crm, others=others), ExitCode.CONFIG
        )
    missing = registry.plugin(crm).missing()
    if missing:  # before anything is seeded: an install away from a demo
        raise CliError(
            t(
                "demo.needs_extra",
                current_lang(),
                crm=crm,
                modules=", ".join(missing),
                extra=registry.plugin(crm).extra,
            ),
            ExitCode.CONFIG,
        )
    dialect = load(crm)
    target = demo_target(crm)
    where = Path(folder) if folder else Path(tempfile.mkdtemp(prefix="crmqual-demo-"))
    where.mkdir(parents=True, exist_ok=True)
    _prepare(where, fresh)
    as_of: datetime | None = parse_as_of(as_of_text) if as_of_text else None
    say = (lambda text: None) if as_json else click.echo
    with fail_on_config_error():
        policy = compiled(load_policy(policy_file))
        mapping, source = load_mapping(None, crm)
    box = dialect.demo(where / "sandbox.sqlite")
    say(t("demo.heading", lang, n=f"{accounts:,}", where=where, crm=CRM_NAMES[crm]))
    with reporter("crmqual demo", enabled=not as_json) as display:
        box.seed(
            accounts,
            seed=seed,
            bad_rate=bad_rate,
            on_progress=lambda done, total: display.update(
                Snapshot("seeding", [("accounts", done)], done, total)
            ),
        )
    state = StateStore(f"sqlite:///{where / 'state.sqlite'}")
    try:
        with box.connected() as connection:
            # The CRM's adapter as any configuration gets it: through the registry.
            context = BuildContext(where, mapping.id_field, mapping.modified_field)
            adapter = make_adapter(crm, connection, "crmqual demo", context)
            try:
                plan = adapter.provision(wanted_fields(mapping, policy.policy))
                if plan.create or not plan.manual:
                    say("  " + t("demo.provisioned", lang, n=len(plan.create)))
                if plan.manual and isinstance(box, ConsoleFields):
                    # What the CRM's admin does by hand, done here through its sandbox.
                    made = box.create_by_hand(plan.manual)
                    say("  " + t("demo.by_hand", lang, crm=CRM_NAMES[crm], n=len(made)))
                    for label, name in made:
                        say(f"    {label} → {name}")
                    adapter.close()  # a new command, as after the admin's work: described anew
                    adapter = make_adapter(crm, connection, "crmqual demo", context)
                mapping, _ = resolve_output_fields(adapter, mapping, source)
                layouts = placed_on(plan)
                if layouts:
                    say("  " + t("demo.layouts", lang, layouts=", ".join(layouts)))

                def run(name: str) -> RunSummary:
                    with reporter(f"crmqual demo: {name}", enabled=not as_json) as display:
                        return Sync(
                            adapter=adapter,
                            mapping=mapping,
                            mapping_source=source,
                            policy=policy,
                            state=state,
                            target=target,
                            on_progress=lambda s: display.update(sync_snapshot(s)),
                        ).run(SyncRequest(as_of=as_of))

                first = run("first sync")
                say(_line(t("demo.first", lang), first, lang))
                second = run("second sync")
                say(_line(t("demo.second", lang), second, lang))
            finally:
                adapter.close()
        records = list(box.records())
        shown = _riskiest(
            state,
            target,
            (mapping.id_field, box.name_field),
            mapping.outputs["score"].native,
            mapping.outputs["grade"].native,
            records,
        )
        # The portfolio report of the two syncs; the sandbox has no web pages to link to.
        report_path = where / "report.html"
        write_report(
            state,
            target,
            report_path,
            lang=lang,
            policy=policy.policy,
            review_days=DEFAULT_REVIEW_DAYS,
        )
    finally:
        state.close()
        box.close()
    # The CRM's values as the mapping writes them (a code, or a label) read back as codes.
    rules, read = mapping.outputs, Labels.of(policy.policy).read
    grades = Counter(
        read("grade", rules["grade"], str(r.get(rules["grade"].native) or "")) for r in records
    )
    grade_counts = {g: grades.get(g, 0) for g in GRADES}
    if as_json:
        click.echo(
            json.dumps(
                {
                    "first": first.as_json(),
                    "second": second.as_json(),
                    "grades": grade_counts,
                    "layouts": layouts,
                    "folder": str(where),
                    "report": str(report_path),
                },
                ensure_ascii=False,
                default=str,
            )
        )
        return
    print_failures(first, lang)
    statuses = Counter(
        read("status", rules["status"], str(r.get(rules["status"].native) or "")) for r in records
    )
    total = max(len(records), 1)
    click.echo("\n" + t("demo.grades", lang))
    for g in GRADES:
        n = grade_counts[g]
        click.echo(f"  {g}  {n:6,}  {n / total:6.1%}  {'█' * round(40 * n / total)}")
    labels = {k: getattr(v, lang) for k, v in policy.policy.statuses.items()}
    click.echo(
        "  "
        + ", ".join(
            f"{labels.get(k, k) if k else t('demo.no_status', lang)} {v:,}"  # type: ignore[call-overload]
            for k, v in sorted(statuses.items())
        )
    )
    click.echo("\n" + t("demo.riskiest", lang))
    flag_labels = {f.code: getattr(f.label, lang) for f in policy.policy.flags}
    for row in shown:
        status = labels.get(row["status"], row["status"])
        click.echo(f"  {row['grade']}  {row['score']:>3}  {row['name']}  ({status})")
        if row["flags"]:
            flags = ", ".join(f"{c} {flag_labels.get(c, '')}".rstrip() for c in row["flags"])
            click.echo("       " + t("demo.flags", lang, flags=flags))
        for reason in row["reasons"][:3]:
            click.echo(f"       {reason['code']}: {reason[lang]}")
    state_path = where / "state.sqlite"
    click.echo(
        "\n" + t("demo.state", lang, path=state_path, first=first.run_id, second=second.run_id)
    )
    box_path = where / "sandbox.sqlite"
    command = f"crmqual sandbox stats --crm {crm} --db {box_path}"
    click.echo(t("demo.sandbox", lang, path=box_path, command=command))
    click.echo(t("demo.report", lang, path=report_path))


def placed_on(plan: ProvisionPlan) -> list[str]:
    """The layouts provisioning placed fields on, by name."""
    return list(dict.fromkeys(step.place for step in plan.of(StepKind.PLACE_ON_LAYOUT)))


def _riskiest(
    state: StateStore,
    target: str,
    id_and_name: tuple[str, str],
    score_field: str,
    grade_field: str,
    records: list[dict[str, Any]],
    count: int = 5,
) -> list[dict[str, Any]]:
    scored = [r for r in records if r.get(score_field) is not None]
    scored.sort(key=lambda r: (-ord(str(r.get(grade_field) or "A")[0]), float(r[score_field])))
    picked = scored[:count]
    id_field, name_field = id_and_name
    written = state.last_written(target, [str(r[id_field]) for r in picked])
    out = []
    for r in picked:
        row = written.get(str(r[id_field]))
        outputs = row.outputs if row else {}
        out.append(
            {
                "name": r.get(name_field, r[id_field]),
                "grade": outputs.get("grade", r.get(grade_field)),
                "score": outputs.get("score", r.get(score_field)),
                "status": outputs.get("status", ""),
                "flags": outputs.get("flags", []),
                "reasons": outputs.get("reasons", []),
            }
        )
    return out
