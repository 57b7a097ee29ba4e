"""`crmqual init`: write a commented crmqual.yaml for a CRM (any installed adapter)."""

from __future__ import annotations

import json
from pathlib import Path

import click

from crmqual import registry
from crmqual.cli.errors import CliError, fail_on_config_error
from crmqual.errors import ExitCode
from crmqual.texts import lang_option, t


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
@click.option("--json", "as_json", is_flag=True, help="Print what was written as one JSON object.")
@lang_option
def init(crm: str, path: str, force: bool, as_json: bool, lang: str) -> None:
    """Write a commented crmqual.yaml (credentials as environment-variable references)."""
    target = Path(path)
    if target.exists() and not force:
        raise CliError(t("init.exists", lang, path=path), ExitCode.CONFIG)
    with fail_on_config_error():
        text = registry.plugin(crm).init_template.read_text("utf-8")
    target.write_text(text, encoding="utf-8")
    if as_json:
        answer = {"wrote": path, "crm": crm, "next": f"crmqual check -c {path}"}
        click.echo(json.dumps(answer, ensure_ascii=False))
        return
    click.echo(t("init.wrote", lang, path=path))
