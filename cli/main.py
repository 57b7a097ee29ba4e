"""crmqual command line: the click group every command hangs off."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from contextvars import ContextVar
from typing import Any

import click

from crmqual.cli.assess import assess
from crmqual.cli.check import check
from crmqual.cli.demo import demo
from crmqual.cli.errors import ChineseUsageError
from crmqual.cli.fit import fit
from crmqual.cli.fleet import fleet
from crmqual.cli.init import init
from crmqual.cli.lab import backtest, diff, outcomes
from crmqual.cli.policy import policy
from crmqual.cli.records import history, prune, revert, runs
from crmqual.cli.report import report
from crmqual.cli.sandbox import sandbox
from crmqual.cli.secret import secret
from crmqual.cli.sync import provision, sync
from crmqual.http import install_redaction
from crmqual.texts import default_lang


class _Commands(click.Group):
    """The top-level group: click's own usage errors follow ``--lang zh`` (or
    $CRMQUAL_LANG), like crmqual's. The command line is kept before parsing, since an
    unknown option stops click before ``--lang`` is read."""

    def main(self, args: Sequence[str] | None = None, *more: Any, **extra: Any) -> Any:
        given = list(sys.argv[1:] if args is None else args)
        _ARGS.set(tuple(given))
        return super().main(given, *more, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            if isinstance(exc, ChineseUsageError) or _lang_asked(_ARGS.get()) != "zh":
                raise
            raise ChineseUsageError(exc) from None


_ARGS: ContextVar[tuple[str, ...]] = ContextVar("crmqual_args", default=())


def _lang_asked(args: tuple[str, ...]) -> str:
    """``--lang X`` or ``--lang=X`` on the command line, else $CRMQUAL_LANG's language."""
    for i, arg in enumerate(args):
        if arg == "--lang" and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith("--lang="):
            return arg.removeprefix("--lang=")
    return default_lang()


@click.group(cls=_Commands)
@click.version_option(package_name="crmqual")
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="More log detail on stderr: -v crmqual's steps, -vv its debug detail, "
    "-vvv also the database libraries' (SQLAlchemy, Alembic).",
)
def main(verbose: int) -> None:
    """Customer qualification and credit risk, inside the CRM you already use."""
    level = logging.WARNING - 10 * min(verbose, 2)
    handler = logging.StreamHandler()  # stderr
    install_redaction(handler)  # secrets never reach the log, whatever logs them
    logging.basicConfig(
        level=level, format="%(levelname)s %(name)s: %(message)s", handlers=[handler]
    )
    # Their set-up (Alembic's plugins, SQLAlchemy's statements) is not crmqual's steps.
    for library in LIBRARIES:
        logging.getLogger(library).setLevel(logging.NOTSET if verbose >= 3 else logging.WARNING)


#: Libraries whose logs only -vvv shows.
LIBRARIES = ("alembic", "sqlalchemy")


policy.add_command(diff)
policy.add_command(backtest)
policy.add_command(fit)

for command in (
    demo,
    assess,
    policy,
    init,
    check,
    provision,
    sync,
    runs,
    history,
    revert,
    prune,
    outcomes,
    report,
    secret,
    sandbox,
    fleet,
):
    main.add_command(command)
