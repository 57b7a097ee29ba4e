"""The portfolio report for credit managers (``crmqual report``): figures computed with SQL
over the state store (:mod:`~crmqual.report.figures`), plots rendered to static SVG
(:mod:`~crmqual.report.plots`), one self-contained HTML page in English or Chinese
(:mod:`~crmqual.report.page`)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from crmqual.policy import Policy
from crmqual.report.figures import Report, ReportError, build_report
from crmqual.state import StateStore
from crmqual.state.schema import runs

__all__ = ["Report", "ReportError", "build_report", "newest_target", "write_report"]


def newest_target(state: StateStore) -> str:
    """The target of the store's newest run (the one to report on when none is named)."""
    with state.engine.connect() as conn:
        target = conn.execute(
            sa.select(runs.c.target).order_by(runs.c.id.desc()).limit(1)
        ).scalar_one_or_none()
    if target is None:
        raise ReportError("report.no_target")
    return str(target)


def write_report(
    state: StateStore,
    target: str,
    out: Path,
    *,
    lang: str,
    policy: Policy,
    run_id: int | None = None,
    since: datetime | None = None,
    review_days: Mapping[str, int] | None = None,
    record_url: Callable[[str], str | None] | None = None,
) -> Report:
    """Compute the report and write its page to ``out`` (atomically: a reader never sees
    half a page); returns the figures."""
    from crmqual.report.page import render_html  # matplotlib only when a page is drawn

    report = build_report(
        state,
        target,
        run_id=run_id,
        since=since,
        severities={f.code: f.severity for f in policy.flags},
        review_days=review_days,
        record_url=record_url,
    )
    html = render_html(report, lang, policy)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(html)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return report
