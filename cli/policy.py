"""`crmqual policy`: check a policy file, print the default one."""

from __future__ import annotations

import click

from crmqual.cli.errors import fail_on_config_error
from crmqual.policy import default_policy_text, load_policy


@click.group()
def policy() -> None:
    """Check and show credit policies."""


@policy.command()
@click.argument("file", type=click.Path(dir_okay=False))
def check(file: str) -> None:
    """Validate FILE; list every problem with its key, or print the policy's version."""
    with fail_on_config_error():
        loaded = load_policy(file)
    click.echo(f"{file}: valid, version {loaded.version}")


@policy.command()
def show() -> None:
    """Print the default policy (a starting point for your own)."""
    click.echo(default_policy_text(), nl=False)
