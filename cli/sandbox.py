"""`crmqual sandbox`: seed, serve and watch a local CRM that speaks a real CRM's API."""

from __future__ import annotations

import contextlib
import json
import sys

import click

from crmqual.sandbox.backend import ZohoSandbox
from crmqual.sandbox.observe import format_stats, stats
from crmqual.sandbox.seed import CUSTOM_FIELDS, seed_zoho
from crmqual.sandbox.server import SandboxServer
from crmqual.sandbox.zoho_hosts import ZohoHosts
from crmqual.sandbox.zoho_scopes import ALL_SCOPES, is_valid

DEFAULT_DB = "crmqual-sandbox.db"

_crm = click.option(
    "--crm", type=click.Choice(["zoho"]), default="zoho", show_default=True, help="CRM dialect."
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
    added = seed_zoho(box.store, accounts, seed_value, missing_rate=missing_rate, bad_rate=bad_rate)
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
def serve(crm: str, port: int, db: str, scopes: str | None, as_json: bool) -> None:
    """Serve the sandbox on 127.0.0.1 until killed; print base URLs and credentials."""
    granted = tuple(s.strip() for s in scopes.split(",") if s.strip()) if scopes else ALL_SCOPES
    bad = [s for s in granted if not is_valid(s)]
    if bad:
        raise click.BadParameter(f"not Zoho scopes: {', '.join(bad)}", param_hint="--scopes")
    box = ZohoSandbox(db)
    app = box.app(None)
    server = SandboxServer(app, port)
    app.api_domain = server.base_url
    credentials = box.credentials(ZohoHosts.single(server.base_url), granted)
    if as_json:
        click.echo(json.dumps(credentials.as_dict()))
    else:
        click.echo(f"{crm} sandbox on {server.base_url} (database {db}, {box.count()} accounts)")
        for key, value in credentials.as_dict().items():
            click.echo(f"  {key:<14} {value}")
        click.echo(f"  {'scopes':<14} {','.join(granted)}")
        click.echo("Ctrl-C stops it.")
    sys.stdout.flush()
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()


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
    summary = stats(box.store)
    click.echo(json.dumps(summary) if as_json else format_stats(summary))
