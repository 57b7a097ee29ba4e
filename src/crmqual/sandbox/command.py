"""`crmqual sandbox`: seed, serve and watch a local CRM that speaks a real CRM's API.

The sandbox's own command group: `crmqual sandbox` runs it, and so does a sandbox served in
its own process (`python -m crmqual.sandbox serve ...`) without loading the rest of the CLI.
"""

from __future__ import annotations

import contextlib
import json
import shlex
import sys
from pathlib import Path
from typing import Any

import click

from crmqual.errors import ConfigError
from crmqual.progress import Snapshot, reporter
from crmqual.sandbox.dialects import DIALECTS, SettingError, load
from crmqual.sandbox.faults import FaultProfile, load_profile
from crmqual.sandbox.observe import format_stats

DEFAULT_DB = "crmqual-sandbox.db"

_crm = click.option(
    "--crm",
    type=click.Choice(list(DIALECTS)),
    default="zoho",
    show_default=True,
    help="CRM dialect.",
)
_db = click.option(
    "--db",
    "db",
    default=DEFAULT_DB,
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Sandbox database file (SQLite), shared by seed, serve and stats.",
)


@click.group()
def sandbox() -> None:
    """A local CRM for rehearsals, tests and benchmarks."""


@sandbox.command()
@_crm
@click.option("--accounts", type=click.IntRange(min=0), required=True, help="How many.")
@click.option("--seed", "seed_value", type=int, default=0, show_default=True)
@_db
@click.option(
    "--missing-rate",
    type=click.FloatRange(0.0, 1.0),
    default=0.10,
    show_default=True,
    help="Share of accounts with some inputs missing.",
)
@click.option(
    "--bad-rate",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    help="Share of accounts with one malformed value in a text field.",
)
def seed(
    crm: str, accounts: int, seed_value: int, db: str, missing_rate: float, bad_rate: float
) -> None:
    """Fill the sandbox with companies in English and Chinese (and the custom input fields)."""
    with reporter(f"seeding {db}") as shown:
        line = load(crm).seed(
            Path(db),
            accounts,
            seed=seed_value,
            missing_rate=missing_rate,
            bad_rate=bad_rate,
            on_progress=lambda done, total: shown.update(
                Snapshot("seeding", [("accounts", done)], done, total)
            ),
        )
    click.echo(line)


@sandbox.command()
@_crm
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Default: a free port.")
@_db
@click.option(
    "--scopes",
    default=None,
    help="Zoho: comma-separated OAuth scopes of the printed refresh token (default: all).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object, then serve.")
@click.option(
    "--faults",
    default="none",
    show_default=True,
    help="Fault profile: none, flaky, hostile, or a YAML file of your own.",
)
@click.option("--fault-seed", type=int, default=0, show_default=True, help="Seed of the faults.")
@click.option(
    "--latency-ms", type=click.IntRange(min=0), default=None, help="Added to every API call."
)
@click.option(
    "--edition",
    default=None,
    help="The org's edition: its daily API allowance and concurrency (Zoho: free, standard, "
    "professional, enterprise, ultimate; Salesforce: professional, enterprise, unlimited, "
    "performance, developer, sandbox; default: the file's, else enterprise).",
)
@click.option(
    "--credits",
    "credits_text",
    default=None,
    help="Daily API allowance (Zoho: a number or 'unlimited'; Salesforce: a whole number "
    "of calls).",
)
@click.option(
    "--rate", default=None, help="Fxiaoke: calls a tenant may make per second (0: no limit)."
)
@click.option(
    "--settings",
    "settings_path",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Fxiaoke: a YAML file overriding the sandbox's assumptions (error codes, query "
    "limits ...; see src/crmqual/sandbox/README.md), saved in --db for later runs.",
)
@click.option(
    "--fields",
    "fields_path",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Fxiaoke: a YAML list of custom fields to add as the admin console would.",
)
@click.option(
    "--write-config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a crmqual.yaml for this sandbox (credentials as ${NAME} references).",
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the sandbox's credentials as `export` lines (owner-only), once it serves.",
)
def serve(
    crm: str,
    port: int,
    db: str,
    scopes: str | None,
    as_json: bool,
    faults: str,
    fault_seed: int,
    latency_ms: int | None,
    edition: str | None,
    credits_text: str | None,
    rate: str | None,
    settings_path: str | None,
    fields_path: str | None,
    config_path: str | None,
    env_file: str | None,
) -> None:
    """Serve the sandbox on 127.0.0.1 until killed; print base URLs and credentials."""
    settings = {"scopes": scopes, "edition": edition, "credits": credits_text, "rate": rate}
    settings |= {"settings": settings_path, "fields": fields_path}
    profile = _profile(faults, latency_ms)
    try:
        serving = load(crm).serve(
            Path(db),
            port,
            faults=profile,
            fault_seed=fault_seed,
            settings={key: value for key, value in settings.items() if value is not None},
        )
    except SettingError as exc:
        raise click.BadParameter(str(exc), param_hint=exc.option) from None
    if config_path is not None:
        if serving.config_yaml is None:
            raise click.BadParameter(
                f"crmqual has no {crm} adapter yet, so there is no crmqual.yaml to write for "
                "this sandbox; leave --write-config out and use the printed credentials",
                param_hint="--write-config",
            )
        Path(config_path).write_text(serving.config_yaml, encoding="utf-8")
    if env_file is not None:  # last: a script waiting for it may start right away
        rehearsal_env(Path(env_file), serving.env)
    if as_json:
        click.echo(json.dumps(serving.credentials))
    else:
        for line in serving.summary:
            click.echo(line)
        click.echo("Ctrl-C stops it.")
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        serving.server.serve_forever()


def rehearsal_env(path: Path, env: dict[str, str]) -> None:
    """The sandbox's credentials as shell `export` lines, owner-only, written atomically."""
    lines = [f"export {name}={shlex.quote(value)}" for name, value in env.items()]
    partial = path.with_name(path.name + ".partial")
    partial.touch(mode=0o600)
    partial.write_text("\n".join(lines) + "\n", encoding="utf-8")
    partial.replace(path)


def _profile(faults: str, latency_ms: int | None) -> FaultProfile:
    try:
        profile = load_profile(faults)
    except ConfigError as exc:
        raise click.BadParameter(str(exc), param_hint="--faults") from None
    if latency_ms is not None:
        profile = profile.model_copy(update={"latency_ms": latency_ms})
    return profile


@sandbox.command(name="stats")
@_crm
@click.option(
    "--db",
    "db",
    default=DEFAULT_DB,
    show_default=True,
    type=click.Path(dir_okay=False, exists=True),
    help="Sandbox database file (SQLite).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def stats_command(crm: str, db: str, as_json: bool) -> None:
    """API calls per endpoint and a summary of the write log."""
    summary = load(crm).stats(Path(db))
    click.echo(json.dumps(summary) if as_json else format_stats(summary))


@sandbox.group()
def fields() -> None:
    """Custom fields as a CRM's admin console makes them (Fxiaoke has no API for it)."""


def _console(crm: str) -> Any:
    dialect = load(crm)
    if not hasattr(dialect, "add_field"):
        raise click.BadParameter(
            f"{crm}'s fields are created through its API (crmqual provision); only the "
            "Fxiaoke sandbox has a console field screen: pass --crm fxiaoke",
            param_hint="--crm",
        )
    return dialect


@fields.command(name="add")
@_crm
@_db
@click.option("--label", required=True, help="The field's label (e.g. 信用等级).")
@click.option("--type", "kind", required=True, help="select_one, select_many, number, ...")
@click.option("--options", default="", help="Comma-separated option labels (select fields).")
@click.option("--decimals", type=int, default=None)
@click.option("--unit", default=None, help="万元 or 元 for amounts (the sandbox remembers it).")
def fields_add(
    crm: str, db: str, label: str, kind: str, options: str, decimals: int | None, unit: str | None
) -> None:
    """Add a custom field; prints its generated API name, label and type."""
    chosen = [o.strip() for o in options.split(",") if o.strip()]
    try:
        click.echo(_console(crm).add_field(Path(db), label, kind, chosen, decimals, unit))
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@fields.command(name="list")
@_crm
@_db
@click.option("--json", "as_json", is_flag=True, help="Print one JSON array.")
def fields_list(crm: str, db: str, as_json: bool) -> None:
    """The object's fields: API name, label, type."""
    listed = _console(crm).list_fields(Path(db))
    if as_json:
        click.echo(json.dumps(listed, ensure_ascii=False))
        return
    for f in listed:
        click.echo(f"{f['api_name']}\t{f['label']}\t{f['type']}")
