"""Turning crmqual's errors into messages and exit codes at the edge of the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from crmqual.errors import ConfigError, CrmqualError


class CliError(click.ClickException):
    """A crmqual error as click shows it: message on stderr, the error's own exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click reads it per instance


@contextmanager
def fail_on_config_error() -> Iterator[None]:
    """Re-raise crmqual errors as CliError, listing every configuration problem."""
    try:
        yield
    except ConfigError as exc:
        listing = "\n".join(f"  {p}" for p in exc.problems)
        raise CliError(f"{len(exc.problems)} problem(s):\n{listing}", exc.exit_code) from None
    except CrmqualError as exc:
        raise CliError(str(exc), exc.exit_code) from None
