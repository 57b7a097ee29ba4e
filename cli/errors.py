"""Turning crmqual's errors into messages and exit codes at the edge of the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from crmqual.errors import ConfigError, CrmqualError


class CliError(click.ClickException):
    """A crmqual error as click shows it: message on stderr, the error's own exit code."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click reads it per instance


def error_object(exc: CrmqualError, message: str) -> dict[str, Any]:
    """What a ``--json`` command prints on stdout when an error ends it: the same ``status``,
    ``exit_code`` and ``message`` keys as a run's summary, and the error's kind."""
    return {
        "status": "error",
        "error": {"kind": exc.kind.value, "message": message},
        "exit_code": exc.exit_code,
        "message": message,
    }


@contextmanager
def fail_on_config_error(*, as_json: bool = False) -> Iterator[None]:
    """Re-raise crmqual errors as CliError, listing every configuration problem. With
    ``as_json``, the error is also printed as one JSON object on stdout (``error_object``)."""
    try:
        yield
    except CrmqualError as exc:
        if isinstance(exc, ConfigError):
            listing = "\n".join(f"  {p}" for p in exc.problems)
            message = f"{len(exc.problems)} problem(s):\n{listing}"
        else:
            message = str(exc)
        if as_json:
            click.echo(json.dumps(error_object(exc, message), ensure_ascii=False))
        raise CliError(message, exc.exit_code) from None
