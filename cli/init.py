"""`crmqual init`: write a commented crmqual.yaml for a CRM (any installed adapter)."""

from __future__ import annotations

from pathlib import Path

import click

from crmqual import registry
from crmqual.cli.errors import CliError, fail_on_config_error
from crmqual.errors import ExitCode


@click.command()
@click.option(
    "--crm",
    type=click.Choice(registry.names()),
    required=True,
    help="Which CRM to connect (every installed adapter).",
)
@click.option(
    "--path",
    "path",
    default="crmqual.yaml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Where to write the configuration.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
def init(crm: str, path: str, force: bool) -> None:
    """Write a commented crmqual.yaml (credentials as environment-variable references)."""
    target = Path(path)
    if target.exists() and not force:
        raise CliError(f"{path} exists; use --force to overwrite it", ExitCode.CONFIG)
    with fail_on_config_error():
        text = registry.plugin(crm).init_template.read_text("utf-8")
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path}; edit it, then run `crmqual check -c {path}`")
