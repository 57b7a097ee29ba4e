"""`crmqual secret`: keep a credential in the OS keyring instead of the environment."""

from __future__ import annotations

import re
import sys

import click

from crmqual import keystore
from crmqual.cli.errors import CliError, fail_on_config_error
from crmqual.errors import ExitCode
from crmqual.texts import current_lang, lang_option, t

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _checked(name: str) -> str:
    if not _NAME.match(name):
        raise CliError(t("secret.bad_name", current_lang(), name=repr(name)), ExitCode.CONFIG)
    return name


@click.group()
def secret() -> None:
    """Keep credentials in the OS keyring; crmqual.yaml refers to them as ${NAME}.

    The environment wins over the keyring. A machine with no keyring (a headless server,
    CI) keeps them in the environment of the job instead.
    """


@secret.command("set")
@click.argument("name")
@click.option("--stdin", "from_stdin", is_flag=True, help="Read the value from standard input.")
@lang_option
def set_secret(name: str, from_stdin: bool, lang: str) -> None:
    """Store NAME (asked for without echo, or read from standard input)."""
    name = _checked(name)
    if from_stdin:
        value = sys.stdin.readline().rstrip("\r\n")
    else:
        value = click.prompt(f"{name}", hide_input=True, confirmation_prompt=True)
    if not value:
        raise CliError(t("secret.no_value", lang, name=name), ExitCode.CONFIG)
    with fail_on_config_error():
        keystore.store(name, value)
    click.echo(t("secret.stored", lang, name=name))


@secret.command("delete")
@click.argument("name")
@lang_option
def delete_secret(name: str, lang: str) -> None:
    """Remove NAME from the OS keyring."""
    name = _checked(name)
    with fail_on_config_error():
        removed = keystore.forget(name)
    if not removed:
        raise CliError(t("secret.not_there", lang, name=name), ExitCode.CONFIG)
    click.echo(t("secret.removed", lang, name=name))
