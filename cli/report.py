"""`crmqual report`: the portfolio report for credit managers, one self-contained HTML page
written from the state store (no CRM connection needed)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import click

from crmqual.cli.assess import parse_as_of
from crmqual.cli.context import build_adapter, config_option, open_context
from crmqual.cli.errors import CliError, fail_on_config_error
from crmqual.config import DEFAULT_REVIEW_DAYS
from crmqual.errors import CrmqualError, ExitCode
from crmqual.policy import Policy, load_policy
from crmqual.report import Report, ReportError, newest_target, write_report
from crmqual.state import StateStore
from crmqual.texts import lang_option, t


def report_json(report: Report, out: Path) -> str:
    """The figures as one JSON object, with the page's path under ``"html"``."""
    return json.dumps(asdict(report) | {"html": str(out)}, ensure_ascii=False, default=str)


@click.command()
@config_option
@click.option(
    "--state",
    "state_url",
    metavar="URL",
    help="Read this state store (sqlite:///PATH or postgresql+psycopg://...) instead of the "
    "one crmqual.yaml names; no configuration is needed then (labels from the shipped policy).",
)
@click.option(
    "--target",
    metavar="NAME",
    help="The CRM target to report on (default: crmqual.yaml's, or with --state the target of "
    "the newest run).",
)
@click.option(
    "--out",
    default="report.html",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Where the HTML page goes.",
)
@lang_option
@click.option(
    "--since",
    "since_text",
    metavar="DATE",
    help="Compare with the portfolio before DATE (default: with the run before).",
)
@click.option(
    "--run",
    "run_id",
    type=click.IntRange(min=1),
    metavar="N",
    help="The portfolio as of run N (default: the newest run); reproduces an earlier report.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help='Print the figures as one JSON object ("html" names the page, written all the same).',
)
def report(
    config_path: str,
    state_url: str | None,
    target: str | None,
    out: str,
    lang: str,
    since_text: str | None,
    run_id: int | None,
    as_json: bool,
) -> None:
    """Write the portfolio report: grades, exposure and limits, what moved since the previous
    run, flags, data completeness, the accounts to look at first and the health of the runs,
    as one HTML page with plots that opens anywhere, offline."""
    since = None if since_text is None else parse_as_of(since_text, "--since")
    path = Path(out)
    with fail_on_config_error(as_json=as_json):
        if state_url is not None:
            state = StateStore(state_url)
            try:
                written = _write(
                    state,
                    target,
                    path,
                    lang=lang,
                    policy=load_policy(None),
                    run_id=run_id,
                    since=since,
                    review_days=DEFAULT_REVIEW_DAYS,
                    record_url=None,
                )
            finally:
                state.close()
        else:
            with open_context(config_path, with_adapter=False) as ctx:
                try:  # a link to each account where the adapter can make one; no connection
                    adapter = build_adapter(ctx.loaded, ctx.mapping)
                except CrmqualError:
                    adapter = None
                try:
                    written = _write(
                        ctx.state,
                        target or ctx.target,
                        path,
                        lang=lang,
                        policy=ctx.policy.policy,
                        run_id=run_id,
                        since=since,
                        review_days={  # as the sync schedules reviews: defaults for grades not set
                            str(g): interval.days
                            for g, interval in ctx.loaded.config.sync.review_intervals().items()
                        },
                        record_url=None if adapter is None else adapter.record_url,
                    )
                finally:
                    if adapter is not None:
                        adapter.close()
    if as_json:
        click.echo(report_json(written, path))
    else:
        click.echo(t("report.wrote", lang, path=path))


def _write(
    state: StateStore,
    target: str | None,
    out: Path,
    *,
    lang: str,
    policy: Policy,
    run_id: int | None,
    since: datetime | None,
    review_days: dict[str, int],
    record_url: Callable[[str], str | None] | None,
) -> Report:
    try:
        return write_report(
            state,
            target or newest_target(state),
            out,
            lang=lang,
            policy=policy,
            run_id=run_id,
            since=since,
            review_days=review_days,
            record_url=record_url,
        )
    except ReportError as exc:
        raise CliError(t(exc.key, lang, **exc.values), ExitCode.CONFIG) from None
    except ModuleNotFoundError as exc:  # a production install without the report extra
        if exc.name != "matplotlib":
            raise
        raise CliError(t("report.no_matplotlib", lang), ExitCode.CONFIG) from None
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror or exc}", ExitCode.CONFIG) from None
