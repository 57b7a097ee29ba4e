"""Turning crmqual's errors into messages and exit codes at the edge of the CLI."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import click

from crmqual.errors import ConfigError, CrmqualError
from crmqual.texts import current_lang, t


class CliError(click.ClickException):
    """A crmqual error as click shows it: message on stderr, the error's own exit code, the
    "Error:" in the command's language (fixed when raised: click shows it after the command's
    context is gone)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code  # type: ignore[misc]  # click reads it per instance
        self.lang = current_lang()

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(t("err.prefix", self.lang, message=self.format_message()), file=file, err=True)


class ChineseUsageError(click.UsageError):
    """click's own usage error (unknown option, missing argument, bad value) told in Chinese:
    what is wrong first, the usage, and where to read more. click's detail of a bad value is
    told in Chinese where it is one of its common ones (not a number, out of range, not one
    of the choices: ``_detail_zh``); any other is quoted as it is."""

    def __init__(self, error: click.UsageError) -> None:
        super().__init__(_usage_zh(error), error.ctx)

    def show(self, file: IO[Any] | None = None) -> None:
        if self.ctx is not None:
            usage = self.ctx.get_usage().replace("Usage: ", "用法：", 1)
            click.echo(usage, file=file, err=True)
            path = self.ctx.command_path
            click.echo(t("err.usage_help", "zh", command=path), file=file, err=True)
            click.echo(file=file, err=True)
        click.echo(t("err.prefix", "zh", message=self.message), file=file, err=True)


def _usage_zh(error: click.UsageError) -> str:
    if isinstance(error, click.NoSuchOption):
        said = t("err.no_such_option", "zh", option=error.option_name)
        if error.possibilities:
            said += t("err.did_you_mean", "zh", options=", ".join(error.possibilities))
        return said
    if isinstance(error, click.MissingParameter) and error.param is not None:
        name = error.param.get_error_hint(error.ctx) if error.ctx else error.param.name
        return t("err.missing_param", "zh", name=name)
    if isinstance(error, click.BadParameter):
        hint = error.param_hint
        if hint is None and error.param is not None and error.ctx is not None:
            hint = error.param.get_error_hint(error.ctx)
        return t("err.bad_value", "zh", option=hint or "", detail=_detail_zh(error.message))
    return t("err.usage", "zh", detail=error.message)


#: click's details of a bad value (``click.types``) and their keys in ``crmqual.texts``.
_CLICK_DETAILS = (
    (re.compile(r"^(?P<value>'.*') is not a valid integer( range)?\.$"), "err.not_integer"),
    (re.compile(r"^(?P<value>'.*') is not a valid float( range)?\.$"), "err.not_number"),
    (re.compile(r"^(?P<value>.*) is not in the range (?P<range>.*)\.$"), "err.out_of_range"),
    (re.compile(r"^(?P<value>'.*') is not (one of )?(?P<choices>'.*')\.$"), "err.not_a_choice"),
)


def _detail_zh(detail: str) -> str:
    """click's detail of a bad value in Chinese, where it is one of the common ones."""
    for pattern, key in _CLICK_DETAILS:
        found = pattern.match(detail)
        if found is not None:
            return t(key, "zh", **found.groupdict())
    return detail


def error_message(exc: CrmqualError, lang: str) -> str:
    """What went wrong, in ``lang``: every configuration problem on a line of its own; in
    Chinese, any other error's kind first (what to do), the detail after it, since that
    detail is often the CRM's own English message."""
    if isinstance(exc, ConfigError):
        listing = "\n".join(f"  {p.text(lang)}" for p in exc.problems)
        return f"{t('pol.problems', lang, n=len(exc.problems))}\n{listing}"
    if lang == "zh":
        detail = exc.zh or str(exc)
        return f"{t(f'err.kind.{exc.kind.value}', lang)}\n{t('err.details', lang, message=detail)}"
    return str(exc)


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
        message = error_message(exc, current_lang())
        if as_json:
            click.echo(json.dumps(error_object(exc, message), ensure_ascii=False))
        raise CliError(message, exc.exit_code) from None
