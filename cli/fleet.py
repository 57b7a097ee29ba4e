"""`crmqual fleet`: many orgs on Celery workers (worker, beat, enqueue), or without a broker
(run); every org in one place (status), and an org stopped by exit 2 or 6 resumed (resume)."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, ParamSpec, TypeVar

import click

from crmqual.cli.errors import CliError, fail_on_config_error
from crmqual.errors import ExitCode
from crmqual.texts import current_lang, lang_option, pad, t, width

if TYPE_CHECKING:
    from crmqual.fleet.config import LoadedFleet

P = ParamSpec("P")
R = TypeVar("R")


def _fleet_option(fn: Callable[P, R]) -> Callable[P, R]:
    """The fleet file's option; the command checks the ``fleet`` extra first, once its
    ``--lang`` is known (the group's callback runs before the command's options)."""

    @functools.wraps(fn)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            import celery  # noqa: F401
            import croniter  # noqa: F401
            import prometheus_client  # noqa: F401
        except ImportError:
            raise CliError(t("fleet.no_extra", current_lang()), ExitCode.CONFIG) from None
        return fn(*args, **kwargs)

    return click.option(
        "-f",
        "--fleet",
        "fleet_file",
        type=click.Path(dir_okay=False),
        default=None,
        show_default="fleet.yaml, or $CRMQUAL_FLEET",
        help="The fleet file.",
    )(checked)


def _load(fleet_file: str | None) -> LoadedFleet:
    """The fleet file, loaded and validated."""
    from crmqual.fleet.config import fleet_path, load_fleet

    return load_fleet(fleet_path(fleet_file))


@click.group()
def fleet() -> None:
    """Many CRM orgs: nightly syncs on Celery workers, or without a broker (see README,
    "Many orgs"). Needs the `fleet` extra: pip install 'crmqual[fleet]'."""


def _celery(fleet_file: str | None, role: str, extra: tuple[str, ...], lang: str) -> None:
    """`celery -A crmqual.fleet.app ROLE ...` with the fleet file in $CRMQUAL_FLEET."""
    from crmqual.fleet.config import FLEET_ENV, fleet_path

    with fail_on_config_error():
        _load(fleet_file)  # every problem of the file now, not in the worker's traceback
    env = os.environ | {FLEET_ENV: os.path.abspath(fleet_path(fleet_file))}
    argv = [sys.executable, "-m", "celery", "-A", "crmqual.fleet.app", role, *extra]
    os.execvpe(argv[0], argv, env)


_extra = click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)


@fleet.command(context_settings={"ignore_unknown_options": True})
@_fleet_option
@_extra
@lang_option
def worker(fleet_file: str | None, celery_args: tuple[str, ...], lang: str) -> None:
    """Start a Celery worker for the fleet (more options after --, e.g. -- -c 4 -n w1@%h)."""
    _celery(fleet_file, "worker", ("-O", "fair", *celery_args), lang)


@fleet.command(context_settings={"ignore_unknown_options": True})
@_fleet_option
@_extra
@lang_option
def beat(fleet_file: str | None, celery_args: tuple[str, ...], lang: str) -> None:
    """Start Celery beat: it sends each org at its cron times (one beat per fleet)."""
    _celery(fleet_file, "beat", celery_args, lang)


@fleet.command()
@_fleet_option
@click.argument("orgs", nargs=-1)
@lang_option
def enqueue(fleet_file: str | None, orgs: tuple[str, ...], lang: str) -> None:
    """Send ORGS (default: every org) to the workers now, at their priority."""
    from crmqual.fleet.tasks import make_app, send

    with fail_on_config_error():
        loaded = _load(fleet_file)
        chosen = [loaded.org(n) for n in orgs] if orgs else loaded.fleet.orgs
    app = make_app(loaded)
    for org in chosen:
        click.echo(t("fleet.sent", lang, org=org.name, id=send(app, loaded, org)))


@fleet.command("run")
@_fleet_option
@click.option(
    "--parallel",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Orgs run at once (threads; orgs of one concurrency class one after another).",
)
@click.argument("orgs", nargs=-1)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per org run.")
@lang_option
def run_command(
    fleet_file: str | None, parallel: int, orgs: tuple[str, ...], as_json: bool, lang: str
) -> None:
    """Run the orgs that are due (or ORGS) here, without a broker; same locks and state.
    Exit status: the most severe of the orgs' (as `crmqual sync`'s)."""
    from crmqual.fleet.local import run_due, worst_exit
    from crmqual.fleet.run import OrgOutcome

    def shown(outcome: OrgOutcome) -> None:
        if as_json:
            click.echo(json.dumps(outcome.as_json(), ensure_ascii=False, default=str))
            return
        counts = outcome.summary or {}
        click.echo(
            t(
                "fleet.ran",
                lang,
                org=outcome.org,
                code=outcome.exit_code,
                written=counts.get("written", 0),
                failed=counts.get("failed", 0),
            )
            + (f": {outcome.message}" if outcome.message else "")
        )

    with fail_on_config_error(as_json=as_json):
        loaded = _load(fleet_file)
        outcomes = run_due(loaded, parallel=parallel, names=list(orgs), on_done=shown)
    if not outcomes and not as_json:
        click.echo(t("fleet.none_due", lang))
    sys.exit(worst_exit(outcomes))


@fleet.command()
@_fleet_option
@click.option("--json", "as_json", is_flag=True, help="One JSON object: every org.")
@lang_option
def status(fleet_file: str | None, as_json: bool, lang: str) -> None:
    """Every org: last run, its exit code and counts, last success, next due time, quota
    left, lock holder, stop; also rewrites the metrics file when the fleet has one."""
    from crmqual.fleet.status import org_statuses, write_metrics
    from crmqual.state import StateStore

    with fail_on_config_error(as_json=as_json):
        loaded = _load(fleet_file)
        with StateStore(loaded.state_url) as store:
            statuses = org_statuses(loaded, store, datetime.now(UTC))
    if loaded.metrics_path is not None:
        write_metrics(loaded.metrics_path, statuses)
    if as_json:
        answer = {"orgs": [s.as_json() for s in statuses]}
        click.echo(json.dumps(answer, ensure_ascii=False))
        return
    heads = ["org", "last_run", "exit", "written", "failed", "calls", "quota", "success", "next"]
    rows = [[t(f"fleet.col.{h}", lang) for h in heads]]
    for s in statuses:
        when = f"{s.started_at:%m-%d %H:%M}" if s.started_at else "-"
        rows.append(
            [
                s.org,
                f"{when} {s.status or ''}".strip(),
                "-" if s.exit_code is None else str(s.exit_code),
                _n(s.written),
                _n(s.failed),
                _n(s.api_calls),
                _n(s.quota_left),
                f"{s.last_success_at:%m-%d %H:%M}" if s.last_success_at else "-",
                f"{s.next_due:%m-%d %H:%M}",
            ]
        )
    widths = [max(width(r[i]) for r in rows) + 2 for i in range(len(heads))]
    for row in rows:
        click.echo("".join(pad(cell, widths[i]) for i, cell in enumerate(row)).rstrip())
    for s in statuses:
        if s.lock_holder:
            click.echo(t("fleet.locked_by", lang, org=s.org, holder=s.lock_holder))
        if s.stopped:
            click.echo(t("fleet.stopped", lang, org=s.org, why=s.stopped), err=True)


def _n(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


@fleet.command()
@_fleet_option
@click.argument("org")
@lang_option
def resume(fleet_file: str | None, org: str, lang: str) -> None:
    """Let ORG's schedule run again after its stop (exit 2 or 6) was fixed."""
    from crmqual.state import StateStore

    with fail_on_config_error():
        loaded = _load(fleet_file)
        chosen = loaded.org(org)
        with StateStore(loaded.state_url) as store:
            stop = store.resume_org(chosen.target)
    click.echo(t("fleet.resumed" if stop else "fleet.not_stopped", lang, org=chosen.name))
