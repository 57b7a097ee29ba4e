"""crmqual command line: the click group every command hangs off."""

from __future__ import annotations

import logging

import click

from crmqual.cli.assess import assess
from crmqual.cli.check import check
from crmqual.cli.demo import demo
from crmqual.cli.init import init
from crmqual.cli.policy import policy
from crmqual.cli.records import history, prune, revert, runs
from crmqual.cli.report import report
from crmqual.cli.sandbox import sandbox
from crmqual.cli.secret import secret
from crmqual.cli.sync import provision, sync
from crmqual.http import install_redaction


@click.group()
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
    report,
    secret,
    sandbox,
):
    main.add_command(command)
