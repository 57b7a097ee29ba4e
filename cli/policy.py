"""`crmqual policy`: check a policy file, print the default one."""

from __future__ import annotations

import json
import math
import sys

import click

from crmqual.cli.errors import fail_on_config_error
from crmqual.errors import ConfigError
from crmqual.policy import default_policy_text, load_policy
from crmqual.texts import lang_option, t
from crmqual.yamlfile import LocatedProblem


@click.group()
def policy() -> None:
    """Check and show credit policies."""


@policy.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as one JSON object.")
@lang_option
def check(file: str, as_json: bool, lang: str) -> None:
    """Validate FILE; list every problem as FILE:LINE: key.path: reason, or print the
    policy's version.

    Dimension weights that do not add up to 100 are a warning, not an error: the score
    is normalised (each weight counts as its share of the sum), and `assess --explain`
    shows each weight as that share. Exit status: 0 valid, 2 problems.
    """
    if as_json:
        try:
            loaded = load_policy(file)
        except ConfigError as exc:
            problems = [
                {
                    "file": p.file,
                    "line": p.line if isinstance(p, LocatedProblem) else None,
                    "key": p.key,
                    "reason": p.reason_in(lang),
                }
                for p in exc.problems
            ]
            click.echo(
                json.dumps({"file": file, "valid": False, "problems": problems}, ensure_ascii=False)
            )
            sys.exit(exc.exit_code)
    else:
        with fail_on_config_error():
            loaded = load_policy(file)
    total = loaded.weight_total
    warnings = [] if math.isclose(total, 100) else [t("pol.weights_off", lang, total=f"{total:g}")]
    if as_json:
        answer = {
            "file": file,
            "valid": True,
            "version": loaded.version,
            "weights_total": total,
            "weights_normalised": bool(warnings),
            "warnings": warnings,
        }
        click.echo(json.dumps(answer, ensure_ascii=False))
        return
    click.echo(t("pol.valid", lang, file=file, version=loaded.version))
    for warning in warnings:
        click.echo(warning, err=True)
    if not warnings:
        click.echo(t("pol.weights_100", lang))


@policy.command()
def show() -> None:
    """Print the default policy (a starting point for your own)."""
    click.echo(default_policy_text(), nl=False)
