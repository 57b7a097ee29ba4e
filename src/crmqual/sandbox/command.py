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

import click

from crmqual.errors import ConfigError
from crmqual.progress import Snapshot, reporter
from crmqual.sandbox.dialects import DIALECTS
from crmqual.sandbox.faults import FaultProfile, load_profile
from crmqual.sandbox.observe import format_stats, stats
from crmqual.sandbox.server import SandboxServer
from crmqual.sandbox.zoho.backend import ZohoCredentials, ZohoSandbox
from crmqual.sandbox.zoho.hosts import ZohoHosts
from crmqual.sandbox.zoho.quota import DEFAULT_EDITION, EDITIONS, Quota, parse_credits
from crmqual.sandbox.zoho.scopes import ALL_SCOPES, is_valid
from crmqual.sandbox.zoho.seed import CUSTOM_FIELDS, seed_zoho

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
    box = ZohoSandbox(db)
    with reporter(f"seeding {db}") as shown:
        added = seed_zoho(
            box.store,
            accounts,
            seed_value,
            missing_rate=missing_rate,
            bad_rate=bad_rate,
            on_progress=lambda done, total: shown.update(
                Snapshot("seeding", [("accounts", done)], done, total)
            ),
        )
    click.echo(
        f"seeded {added} {crm} accounts into {db} "
        f"({len(CUSTOM_FIELDS)} custom input fields declared; {box.count()} accounts in total)"
    )


@sandbox.command()
@_crm
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Default: a free port.")
@_db
@click.option(
    "--scopes",
    default=None,
    help="Comma-separated OAuth scopes of the printed refresh token (default: every scope).",
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
    type=click.Choice(list(EDITIONS)),
    default=None,
    help=f"Zoho edition: daily credits and concurrency (default: the file's, else "
    f"{DEFAULT_EDITION}).",
)
@click.option(
    "--credits", "credits_text", default=None, help="Daily API credits: a number or 'unlimited'."
)
@click.option(
    "--write-config",
    "config_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write a crmqual.yaml for this sandbox (credentials as ${ZOHO_...} references).",
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
    config_path: str | None,
    env_file: str | None,
) -> None:
    """Serve the sandbox on 127.0.0.1 until killed; print base URLs and credentials."""
    granted = tuple(s.strip() for s in scopes.split(",") if s.strip()) if scopes else ALL_SCOPES
    bad = [s for s in granted if not is_valid(s)]
    if bad:
        raise click.BadParameter(f"not Zoho scopes: {', '.join(bad)}", param_hint="--scopes")
    profile = _profile(faults, latency_ms)
    box = ZohoSandbox(db, faults=profile, fault_seed=fault_seed)
    if edition is not None or credits_text is not None:
        credits = box.quota.credits if credits_text is None else _credits(credits_text)
        quota = Quota(edition or box.quota.edition, credits)
        box = ZohoSandbox(db, quota=quota, faults=profile, fault_seed=fault_seed)
    app = box.app(None)
    server = SandboxServer(app, port)
    app.api_domain = server.base_url
    credentials = box.credentials(ZohoHosts.single(server.base_url), granted)
    if config_path is not None:
        rehearsal_config(Path(config_path), server.base_url, db)
    if env_file is not None:  # last: a script waiting for it may start right away
        rehearsal_env(Path(env_file), credentials)
    if as_json:
        click.echo(json.dumps(credentials.as_dict()))
    else:
        click.echo(f"{crm} sandbox on {server.base_url} (database {db}, {box.count()} accounts)")
        for key, value in credentials.as_dict().items():
            click.echo(f"  {key:<14} {value}")
        click.echo(f"  {'scopes':<14} {','.join(granted)}")
        limit = box.quota.allowance
        click.echo(
            f"  {'edition':<14} {box.quota.edition}, "
            f"{'unlimited' if limit is None else limit} credits a day, "
            f"{box.quota.concurrency} concurrent calls; faults {profile.name}"
        )
        click.echo("Ctrl-C stops it.")
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


#: What crmqual.yaml names the sandbox's credentials (the same names as for a real org).
SECRET_NAMES = {
    "client_id": "ZOHO_CLIENT_ID",
    "client_secret": "ZOHO_CLIENT_SECRET",
    "refresh_token": "ZOHO_REFRESH_TOKEN",
}


def rehearsal_config(path: Path, base_url: str, db: str) -> None:
    """A crmqual.yaml for rehearsing against this sandbox: its hosts, the credentials as
    environment references like a real org's, a state store beside the file."""
    secrets = "\n".join(f"  {key}: ${{{name}}}" for key, name in SECRET_NAMES.items())
    path.write_text(
        f"""# crmqual configuration for the local Zoho sandbox at {base_url} (database {db}),
# written by `crmqual sandbox serve --write-config`. The credentials are the sandbox's own,
# read from the environment like a real org's: source the file `--env-file` wrote.
# Next: `crmqual check`, `crmqual provision`, `crmqual sync --dry-run`, `crmqual sync`.
crm: zoho
target: zoho-sandbox
connection:
  accounts_url: {base_url}
  api_domain: {base_url}
{secrets}
  bulk:
    upload_url: {base_url}
state: sqlite:///crmqual-sandbox-state.sqlite
""",
        encoding="utf-8",
    )


def rehearsal_env(path: Path, credentials: ZohoCredentials) -> None:
    """The sandbox's credentials as shell `export` lines, owner-only, written atomically."""
    values = credentials.as_dict()
    lines = [f"export {name}={shlex.quote(values[key])}" for key, name in SECRET_NAMES.items()]
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


def _credits(text: str) -> int | None:
    try:
        return parse_credits(text)
    except ValueError:
        raise click.BadParameter("a number or 'unlimited'", param_hint="--credits") from None


@sandbox.command(name="stats")
@click.option(
    "--db",
    "db",
    default=DEFAULT_DB,
    show_default=True,
    type=click.Path(dir_okay=False, exists=True),
    help="Sandbox database file (SQLite).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def stats_command(db: str, as_json: bool) -> None:
    """API calls per endpoint and a summary of the write log."""
    box = ZohoSandbox(db)
    summary = stats(box.store, box.credits())
    click.echo(json.dumps(summary) if as_json else format_stats(summary))
