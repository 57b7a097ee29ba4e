"""`crmqual init`: write a commented crmqual.yaml for a CRM."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

from crmqual.cli.errors import CliError
from crmqual.errors import ExitCode

CRMS = ("file", "zoho")


@click.command()
@click.option("--crm", type=click.Choice(CRMS), required=True, help="Which CRM to connect.")
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
    text = resources.files("crmqual.data").joinpath(f"init_{crm}.yaml").read_text("utf-8")
    target.write_text(text, encoding="utf-8")
    click.echo(f"wrote {path}; edit it, then run `crmqual sync --dry-run -c {path}`")
