"""`crmqual sandbox` as the CLI shows it: the sandbox's own command group, loaded on use.

The sandbox needs Werkzeug and Faker, which only the `sandbox` extra installs; every other
command works without them, and these say exactly what to install.
"""

from __future__ import annotations

import importlib

import click

from crmqual.cli.errors import CliError
from crmqual.errors import ExitCode
from crmqual.texts import current_lang, t

#: What the sandbox imports beyond crmqual's own dependencies (the `sandbox` extra).
SANDBOX_PACKAGES = {"werkzeug": "Werkzeug", "faker": "Faker"}


def require_sandbox(command: str) -> None:
    """Stop ``command`` with what to install when the sandbox extra is missing (exit 2)."""
    missing = []
    for module, package in SANDBOX_PACKAGES.items():
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(package)
    if missing:
        lang = current_lang()
        names = ("、" if lang == "zh" else " and ").join(missing)
        message = t("sandbox.missing", lang, command=command, missing=names)
        raise CliError(message, ExitCode.CONFIG)


class _SandboxGroup(click.Group):
    """The sandbox's commands, imported only when one is asked for."""

    def _real(self) -> click.Group:
        require_sandbox("sandbox")
        from crmqual.sandbox.command import sandbox as commands

        return commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._real().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._real().get_command(ctx, name)


@click.group(cls=_SandboxGroup)
def sandbox() -> None:
    """A local CRM for rehearsals, tests and benchmarks (the `sandbox` extra)."""
