"""The nightly sync: read -> map -> assess -> compare -> write what changed -> record.

One run, for one target (a CRM org behind an adapter):

1. The CRM's clock gives a *signpost* at the start; the cursor says where the last run
   stopped and with which policy and mapping. A new policy version or mapping, ``--full``
   or no cursor means a full read; otherwise records modified since the watermark (the
   boundary re-read, duplicates dropped by id).
2. Each page is read with crmqual's own output fields, so "write only what changed" costs
   no extra read. Rows still *pending* from a killed run are resolved first: CRM values
   that match a pending write are crmqual's own (recorded as written), others abandoned
   and redone. Records whose override field is set, or whose outputs a person changed
   since crmqual last wrote them, are left alone: listed in the summary (``left_alone``,
   the first 200) and recorded with why, for ``crmqual history``.
3. Changed records are written in the adapter's batch size. Before each batch is sent,
   what it will write is recorded as pending (with its warning events, whose ids are
   stable); after it, each record's result. The watermark moves only after a page is
   written and recorded, never past the signpost, and never under ``--limit``.
4. Records due for review (by grade), records that failed before and pending ones are
   re-read by id. A dry run does all the reading and assessing, and writes nothing at all.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from crmqual.collector import fewer_collections
from crmqual.compiled import CompiledPolicy, compiled
from crmqual.config import LoadedConfig, SyncSettings
from crmqual.context import open_context
from crmqual.contract import Adapter, FollowUp, ReadQuery, StepKind
from crmqual.dryrun import FIRST_ASSESSMENT, OTHER_CHANGE, DryRunPlan
from crmqual.engine import Assessment, assess
from crmqual.errors import ConfigError, ErrorKind, Problem, QuotaReachedError, exit_code_of_kind
from crmqual.idset import IdSet
from crmqual.mapping import (
    Labels,
    Mapping,
    RecordProblems,
    assessed_at_field,
    changed_fields,
    check_fields,
    is_overridden,
    outputs_of,
    previous_outputs,
    read_record,
    to_native,
)
from crmqual.model import Account
from crmqual.monitoring import OVERRIDDEN, WARNINGS, Change, changes
from crmqual.outputs import previous_from_canonical
from crmqual.runscope import RunScope, run_scope
from crmqual.stability import SnapshotCounts, compare, portfolio_snapshot
from crmqual.state import AssessmentIn, AssessmentRecord, Cursor, EventIn, FailureIn, StateStore
from crmqual.state.reading import Layout
from crmqual.state.rows import PERSONAL
from crmqual.write_queue import QueuedWrite, WriteQueue

log = logging.getLogger("crmqual.sync")

#: Where a run keeps its portfolio snapshot, in its summary.
STABILITY_KEY = "stability_snapshot"

#: How many failures, records left alone and dry-run changes a summary lists in full.
LISTED = 200


@dataclass(frozen=True)
class SyncRequest:
    dry_run: bool = False
    full: bool = False
    limit: int | None = None
    #: Assess as of this moment; default the CRM's clock at the start of the run.
    as_of: datetime | None = None


@dataclass
class RunSummary:
    """What a run did; ``as_json()`` is what ``crmqual sync --json`` prints."""

    run_id: int | None = None
    status: str = "running"
    mode: str = "incremental"
    dry_run: bool = False
    read: int = 0
    assessed: int = 0
    changed: int = 0
    written: int = 0
    failed: int = 0
    overridden: int = 0
    warnings: int = 0
    api_calls: int = 0
    #: What the CRM said is left of its API quota at the end of the run (None: not said).
    quota_left: int | None = None
    duration_s: float = 0.0
    events: Counter[str] = field(default_factory=Counter)
    #: Values that could not be read (the input left missing), per field as the CRM names it.
    unreadable: Counter[str] = field(default_factory=Counter)
    failures: list[dict[str, Any]] = field(default_factory=list)
    #: Records left alone (``overridden`` counts them all): ``{"id", "reason"}``.
    left_alone: list[dict[str, Any]] = field(default_factory=list)
    #: A dry run's whole plan (every record that would change), spooled to a temporary file.
    plan: DryRunPlan = field(default_factory=DryRunPlan, repr=False)
    missing_fields: list[str] = field(default_factory=list)
    watermark: datetime | None = None
    message: str = ""
    #: Population stability against the previous snapshot (``crmqual.stability.compare``,
    #: with ``compared_with_run``); None for the first snapshot or a dry run.
    stability: dict[str, Any] | None = None
    #: The portfolio's binned snapshot at the end of the run (kept with the run, not printed).
    snapshot: dict[str, Any] | None = field(default=None, repr=False)

    #: The kind of the error that ended the run early (quota, lock, CRM), if one did.
    error_kind: ErrorKind | None = None
    #: For progress displays (not in ``as_json``): the phase, how far it is, out of how many
    #: (None: unknown; a read knows it when the adapter's ``expected`` does).
    phase: str = "reading"
    phase_done: int = 0
    phase_total: int | None = None

    @property
    def would_change(self) -> list[dict[str, Any]]:
        """The first :data:`LISTED` field changes of a dry run's plan (all of it: ``plan``)."""
        listed: list[dict[str, Any]] = []
        for record in self.plan:
            for name, old, new in record.fields:
                if len(listed) == LISTED:
                    return listed
                listed.append({"id": record.record_id, "field": name, "from": old, "to": new})
        return listed

    @property
    def exit_code(self) -> int:
        """From the kind of what ended the run (``crmqual.errors``): an error's, else failed
        records', else 0."""
        failed = ErrorKind.RECORDS if self.failed else None
        return exit_code_of_kind(self.error_kind or failed)

    def counts(self) -> dict[str, int]:
        return {
            "read": self.read,
            "assessed": self.assessed,
            "changed": self.changed,
            "written": self.written,
            "failed": self.failed,
            "overridden": self.overridden,
            "warnings": self.warnings,
            "api_calls": self.api_calls,
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "status": self.status,
            "mode": self.mode,
            "dry_run": self.dry_run,
            **self.counts(),
            "quota_left": self.quota_left,
            "duration_s": round(self.duration_s, 3),
            "events": dict(self.events),
            "unreadable": dict(self.unreadable),
            "failures": self.failures,
            "left_alone": self.left_alone,
            "would_change": self.would_change,
            "missing_fields": self.missing_fields,
            "watermark": self.watermark.isoformat() if self.watermark else None,
            "stability": self.stability,
            "exit_code": self.exit_code,
            "message": self.message,
        }


@dataclass
class _Plan:
    """One record crmqual will write."""

    record_id: str
    account: Account
    result: Assessment
    native: dict[str, Any]
    write: dict[str, Any]
    current: dict[str, Any]
    changes: list[Change]
    #: The stability snapshot's bins of the account, counted once the write is applied.
    bins: list[int] | None = None


class Sync:
    """One target's sync: the adapter, its mapping, the policy and the state store."""

    def __init__(
        self,
        *,
        adapter: Adapter,
        mapping: Mapping,
        mapping_source: str,
        policy: CompiledPolicy,
        state: StateStore,
        target: str,
        settings: SyncSettings | None = None,
        on_progress: Callable[[RunSummary], None] | None = None,
    ) -> None:
        self.adapter = adapter
        self.mapping = mapping
        self.mapping_source = mapping_source
        self.policy = compiled(policy)
        self.state = state
        self.target = target
        self.settings = settings or SyncSettings()
        self.labels = Labels.of(self.policy.policy)
        self.calls_at_start = 0
        self.on_progress = on_progress or (lambda summary: None)

    # -- checks before anything is read -------------------------------------------------------
    def check_mapping(self) -> list[str]:
        """Validate the mapping against the CRM's fields; return output fields missing."""
        problems, missing = check_fields(self.mapping, self.adapter.describe(), self.mapping_source)
        if problems:
            raise ConfigError(problems)
        return missing

    def _missing_outputs(self, missing: list[str]) -> Problem:
        """What to do about output fields the CRM lacks: run provision, or, where the CRM's API
        cannot create fields, create them in its console as provision lists them. Fields
        found by label are named by their label in the message's language."""
        by_label = {r.native: r.label for r in self.mapping.outputs.values() if not r.field}
        en = ", ".join(f"[{by_label[f].en}]" if f in by_label else f for f in missing)
        zh = ", ".join(f"[{by_label[f].zh}]" if f in by_label else f for f in missing)
        if StepKind.CREATE_FIELD in self.adapter.capabilities.provisioning:
            return Problem(
                self.mapping_source,
                "outputs",
                f"output fields missing in the CRM: {en}; run `crmqual provision` first (sync "
                "never creates fields)",
                zh=f"CRM 中缺少输出字段：{zh}；请先运行 `crmqual provision`（sync 从不创建字段）",
            )
        return Problem(
            self.mapping_source,
            "outputs",
            f"output fields missing in the CRM: {en}; create them in {self.adapter.name}'s "
            "console as `crmqual provision` lists them, then run `crmqual check` (sync never "
            "creates fields)",
            zh=f"CRM 中缺少输出字段：{zh}；请按 `crmqual provision` 列出的清单在 "
            f"{self.adapter.name} 后台创建，然后运行 `crmqual check`（sync 从不创建字段）",
        )

    # -- the run ------------------------------------------------------------------------------
    def run(self, request: SyncRequest) -> RunSummary:
        started = time.monotonic()
        self.calls_at_start = self.adapter.api_calls
        summary = RunSummary(dry_run=request.dry_run)
        cursor = self.state.get_cursor(self.target)
        full = (
            request.full
            or cursor is None
            or cursor.policy_version != self.policy.version
            or cursor.mapping_hash != self.mapping.hash
        )
        summary.mode = "full" if full else "incremental"
        with (
            fewer_collections(),
            run_scope(
                self.state,
                self.target,
                "sync",
                mode=summary.mode,
                stale_after=timedelta(minutes=self.settings.lock_stale_minutes),
                policy_version=self.policy.version,
                mapping_hash=self.mapping.hash,
                record=not request.dry_run,
                on_end=lambda run: self._finish(summary, started, run),
            ) as run,
        ):
            self._run(request, summary, run, cursor, full)
        return summary

    def _run(
        self,
        request: SyncRequest,
        summary: RunSummary,
        run: RunScope,
        cursor: Cursor | None,
        full: bool,
    ) -> None:
        """The run inside its scope: check the mapping, start at the CRM's clock (a dry run
        never starts), read, assess, write; the status it ends with, unless an error ends it."""
        if self.settings.followups and not self.adapter.capabilities.followups:
            reason = f"{self.adapter.name} cannot create follow-up items: set it to false"
            zh = f"{self.adapter.name} 无法创建跟进事项：请设为 false"
            raise ConfigError([Problem("crmqual.yaml", "sync.followups", reason, zh=zh)])
        missing = self.check_mapping()
        if missing and not request.dry_run:
            raise ConfigError([self._missing_outputs(missing)])
        summary.missing_fields = missing
        self.adapter.allow_writes_to(self.mapping.output_fields)
        signpost = self.adapter.server_time()
        as_of = request.as_of or signpost
        run_id = None if request.dry_run else run.start(signpost=signpost)
        runner = _Runner(self, summary, request, run_id, as_of, signpost)
        try:
            since = None if full or cursor is None else cursor.watermark
            runner.process_all(since)
            if not request.dry_run and request.limit is None and not runner.limited:
                summary.watermark = signpost
                self.state.set_cursor(
                    self.target,
                    watermark=signpost,
                    policy_version=self.policy.version,
                    mapping_hash=self.mapping.hash,
                    run_id=run_id,  # type: ignore[arg-type]
                )
            if not request.dry_run and self.settings.followups:
                runner.follow_up()
            if not request.dry_run and self.settings.stability:
                self._stability(summary, as_of, run_id, runner.counted)
            run.status = "dry_run" if request.dry_run else "ok" if not summary.failed else "partial"
        except QuotaReachedError as exc:
            run.status, run.message, run.error_kind = "quota", str(exc), exc.kind

    def _stability(
        self,
        summary: RunSummary,
        as_of: datetime,
        run_id: int | None,
        counted: SnapshotCounts | None,
    ) -> None:
        """Snapshot the portfolio (each account's latest written assessment) and compare it
        with the last run's snapshot (``crmqual.stability``). The accounts this run wrote
        were counted as they were written (``counted``); the store gives the others."""
        previous = next(
            (
                r
                for r in self.state.list_runs(self.target, limit=50)
                if r.run_id != run_id and STABILITY_KEY in r.summary
            ),
            None,
        )
        summary.snapshot = portfolio_snapshot(
            self.state, self.target, self.policy, as_of, counted, not_of_run=run_id
        )
        if previous is not None:
            found = compare(previous.summary[STABILITY_KEY], summary.snapshot)
            summary.stability = found | {"compared_with_run": previous.run_id}

    def _finish(self, summary: RunSummary, started: float, run: RunScope) -> None:
        """The run's end, however it ended: counted, timed, and handed to the run scope."""
        summary.api_calls = self.adapter.api_calls - self.calls_at_start
        summary.quota_left = self.adapter.quota_left()
        summary.duration_s = time.monotonic() - started
        summary.run_id, summary.status, summary.message = run.run_id, run.status, run.message
        summary.error_kind = run.error_kind
        run.counts, run.summary = summary.counts(), summary.as_json()
        if summary.snapshot is not None:
            run.summary[STABILITY_KEY] = summary.snapshot
        run.watermark = summary.watermark


def sync_configured(
    config: str | Path | LoadedConfig,
    request: SyncRequest,
    on_progress: Callable[[RunSummary], None] | None = None,
) -> RunSummary:
    """What ``crmqual sync`` runs for one org: open it from its configuration (config,
    mapping and policy fail before anything else), sync it, close it. The CLI and the
    fleet's workers both call this."""
    with open_context(config) as ctx:
        runner = Sync(
            adapter=ctx.adapter,
            mapping=ctx.mapping,
            mapping_source=ctx.mapping_source,
            policy=ctx.policy,
            state=ctx.state,
            target=ctx.target,
            settings=ctx.loaded.config.sync,
            on_progress=on_progress,
        )
        return runner.run(request)


class _Runner:
    """The state of one run while it reads, assesses and writes."""

    def __init__(
        self,
        sync: Sync,
        summary: RunSummary,
        request: SyncRequest,
        run_id: int | None,
        as_of: datetime,
        signpost: datetime,
    ) -> None:
        self.sync = sync
        self.summary = summary
        self.request = request
        self.run_id = run_id
        self.as_of = as_of
        self.signpost = signpost
        self.seen = IdSet()
        self.limited = False
        self.left_alone: list[tuple[str, str]] = []  # of the page being processed
        #: The writes recorded as pending, to send once every page is read.
        self.queue = WriteQueue()
        self.layout_recorded = False
        #: The stability snapshot of the accounts this run writes, counted as each write
        #: is applied (a run that takes no snapshot counts none).
        self.counted = (
            SnapshotCounts(sync.policy) if sync.settings.stability and not request.dry_run else None
        )
        #: Inputs the state store does not keep (personal data, unless a setting asks).
        self.not_kept = frozenset() if sync.settings.keep_personal_data else frozenset(PERSONAL)

    @property
    def dry(self) -> bool:
        return self.request.dry_run

    # -- reading ------------------------------------------------------------------------------
    def process_all(self, since: datetime | None) -> None:
        """Read and assess everything due, queueing writes; then send the queue.

        Nothing is written while pages are read: a write moves a record's modified time,
        which would shift the pages of a read sorted by it, and records would be skipped.
        """
        self.read_all(since)
        self._read_problems()
        if not self.dry:
            self.flush()

    def read_all(self, since: datetime | None) -> None:
        m = self.sync.mapping
        written = self._written_since(since)
        query = ReadQuery(m.read_fields, since, filters=m.filter_rules, written_since=written)
        for page in self.sync.adapter.read(query):
            self.summary.phase_total = self.sync.adapter.expected(query)
            if not self.process_page(page):
                return
        state = self.sync.state
        again = state.pending_ids(self.sync.target, before_run=self.run_id)
        again += state.open_failures(self.sync.target)
        intervals = self.sync.settings.review_intervals()
        again += state.due_accounts(self.sync.target, self.as_of, intervals, intervals["E"])
        ids = [i for i in dict.fromkeys(again) if i not in self.seen]
        if ids:
            self.summary.phase, self.summary.phase_done = "reading by id", 0
            self.summary.phase_total = len(ids)
        per_read = self.sync.adapter.limits().ids_per_read
        for start in range(0, len(ids), per_read):
            chunk = tuple(ids[start : start + per_read])
            by_id = ReadQuery(fields=m.read_fields, ids=chunk, filters=m.filter_rules)
            for page in self.sync.adapter.read(by_id):
                if not self.process_page(page):
                    return

    def _written_since(self, since: datetime | None) -> int:
        """What the run that set the watermark wrote, all of it after the watermark: the
        ``since`` read's size hint (``ReadQuery.written_since``)."""
        state = self.sync.state
        cursor = state.get_cursor(self.sync.target) if since is not None else None
        run = state.get_run(cursor.run_id) if cursor is not None else None
        return int(run.counts.get("written", 0)) if run is not None else 0

    def process_page(self, records: Sequence[dict[str, Any]]) -> bool:
        """Assess one page and queue its writes; False once ``--limit`` is reached."""
        sync, m = self.sync, self.sync.mapping
        fresh = []
        for record in records:
            record_id = str(record.get(m.id_field) or "")
            if record_id and record_id not in self.seen:
                self.seen.add(record_id)
                fresh.append((record_id, record))
        if self.request.limit is not None:
            room = self.request.limit - self.summary.read
            if len(fresh) >= room:
                fresh, self.limited = fresh[:room], True
        self.summary.read += len(fresh)
        self.summary.phase_done += len(fresh)
        with self._recording():
            self._resolve_pending(fresh)
            self.left_alone = []
            last = sync.state.last_written(sync.target, [rid for rid, _ in fresh])
            plans, touched, clean = [], [], []
            for record_id, record in fresh:
                plan = self._assess_record(record_id, record, last.get(record_id))
                if plan is None:
                    continue
                if isinstance(plan, Assessment):
                    touched.append((record_id, plan.grade, self.as_of))
                    clean.append(record_id)
                else:
                    touched.append((record_id, plan.result.grade, self.as_of))
                    plans.append(plan)
            self._queue(plans)
            if not self.dry:
                sync.state.record_left_alone(self.run_id, sync.target, self.left_alone)  # type: ignore[arg-type]
                sync.state.touch_accounts(sync.target, touched)
                sync.state.resolve_failures(sync.target, clean)
                sync.state.heartbeat(sync.target, self.run_id)  # type: ignore[arg-type]
        self.summary.api_calls = sync.adapter.api_calls - sync.calls_at_start
        sync.on_progress(self.summary)
        return not self.limited

    def _recording(self) -> AbstractContextManager[None]:
        """One state store transaction for what a page or a batch of writes records (a dry
        run records nothing and takes no write lock)."""
        return nullcontext() if self.dry else self.sync.state.transaction()

    def _resolve_pending(self, fresh: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Pending rows of a killed run: the CRM's values tell whether the write landed."""
        landed: list[str] = []
        lost: list[str] = []
        records = dict(fresh)
        old = self.sync.state.pending(self.sync.target, list(records), before_run=self.run_id)
        for row in {r.account_id: r for r in old}.values():  # the newest per account
            record_id, record = row.account_id, records[row.account_id]
            current = outputs_of(self.sync.mapping, record)
            same = not changed_fields(self.sync.mapping, row.native, current)
            (landed if same else lost).append(record_id)
        if self.dry:
            return
        if landed:
            self.sync.state.mark_written(self.sync.target, landed, run_id=self.run_id)  # type: ignore[arg-type]
            self.sync.state.resolve_failures(self.sync.target, landed)
        if lost:
            self.sync.state.mark_abandoned(self.sync.target, lost)

    def _assess_record(
        self, record_id: str, record: dict[str, Any], last: AssessmentRecord | None
    ) -> _Plan | Assessment | None:
        """A plan to write, the assessment when nothing changes, or None when skipped."""
        sync, m = self.sync, self.sync.mapping
        current = outputs_of(m, record)
        if is_overridden(m, record):
            self._overridden(record_id, f"{m.override_field} is set")
            return None
        if last is not None:
            edited = [f for f in changed_fields(m, last.native, current) if f in last.native]
            if edited:
                self._overridden(
                    record_id, f"changed by hand since crmqual wrote it: {', '.join(edited)}"
                )
                return None
        try:
            account, unreadable = read_record(
                m, record, self.as_of.date(), sync.policy.knockout_inputs
            )
        except RecordProblems as exc:
            self._failed(record_id, [(p.field, p.reason) for p in exc.problems])
            return None
        self.summary.assessed += 1
        self.summary.unreadable.update(u.source for u in unreadable)
        # The last written row, else what the CRM shows of crmqual's outputs (a store that
        # lost its rows), is the previous assessment (for the downgrade's hold).
        previous = last.as_previous() if last is not None else None
        from_row = previous is not None
        from_crm: dict[str, Any] | None = None
        if not from_row:
            from_crm = previous_outputs(m, sync.labels, record)
            if from_crm is not None:
                previous = previous_from_canonical(record_id, from_crm)
        result = assess(account, sync.policy, previous, as_of=self.as_of, unreadable=unreadable)
        native = to_native(m, sync.labels, result)
        stamp = assessed_at_field(m)
        changed = [f for f in changed_fields(m, native, current) if f != stamp]
        if not changed:
            return result
        write = {f: native[f] for f in changed} | {stamp: native[stamp]}
        # Changes are told against what the previous assessment came from, when there is a
        # last written row (rendered only now: most records change nothing).
        compared = None if last is None else last.outputs if from_row else from_crm
        found = changes(sync.target, compared, result, sync.policy.policy)
        bins = None
        if self.counted is not None:
            bins = self.counted.bins(result.indicators, result.score)
        return _Plan(record_id, account, result, native, write, current, found, bins)

    # -- writing ------------------------------------------------------------------------------
    def _queue(self, plans: list[_Plan]) -> None:
        """Record the writes of a page as pending (a dry run only lists them)."""
        sync, summary = self.sync, self.summary
        summary.changed += len(plans)
        for plan in plans:
            for change in plan.changes:
                summary.events[change.kind] += 1
                summary.warnings += change.warning
        if self.dry:
            stamp = assessed_at_field(sync.mapping)
            for plan in plans:
                first = not plan.current.get(stamp)
                kinds = [c.kind for c in plan.changes] or [
                    FIRST_ASSESSMENT if first else OTHER_CHANGE
                ]
                fields = [(f, plan.current.get(f), v) for f, v in plan.write.items() if f != stamp]
                summary.plan.add(plan.record_id, plan.account.name or "", kinds, fields)
            return
        if not plans:
            return
        run_id: int = self.run_id  # type: ignore[assignment]
        if not self.layout_recorded:  # before the run's first row: how its rows render
            sync.state.record_layout(run_id, Layout(dict(sync.mapping.outputs), sync.labels))
            self.layout_recorded = True
        sync.state.record_pending(run_id, sync.target, [self._pending_row(p) for p in plans])
        self.queue.add_page([(p.record_id, p.write, p.bins) for p in plans])
        events = [
            EventIn(
                c.event_id,
                c.account_id,
                c.kind,
                c.severity,
                {"detail": c.detail, "warning": c.warning},
            )
            for p in plans
            for c in p.changes
        ]
        if events:
            sync.state.record_events(run_id, sync.target, events)

    def _pending_row(self, p: _Plan) -> AssessmentIn:
        """The plan's row as the ledger keeps it: slim, from the engine's result."""
        return AssessmentIn(
            account_id=p.record_id,
            assessed_at=self.as_of,
            account=p.account,
            outputs={},
            native=p.native,
            previous_native=p.current,
            policy_version=p.result.policy_version,
            grade=p.result.grade,
            reasons=[],
            result=p.result,
            leave_out=self.not_kept,
            snapshot=self._kept_bins(p),
        )

    def _kept_bins(self, p: _Plan) -> tuple[int, bytes] | None:
        """The plan's snapshot bins as its row keeps them, for later snapshots."""
        if self.counted is None or p.bins is None:
            return None
        return self.counted.key, self.counted.kept(p.bins, p.account)

    def flush(self) -> None:
        """Send this run's queued writes, as decided when each account was assessed, in the
        adapter's batch size; record each result."""
        sync, summary = self.sync, self.summary
        run_id: int = self.run_id  # type: ignore[assignment]
        size = sync.settings.batch_size or sync.adapter.write_batch_for(summary.changed)
        summary.phase, summary.phase_done, summary.phase_total = "writing", 0, summary.changed
        if summary.changed:
            sync.on_progress(summary)
        after = 0
        for batch in self.queue.batches(size):
            rows = sync.state.pending_rows_of_run(
                sync.target, run_id, after_id=after, limit=len(batch)
            )
            if [account_id for _, account_id in rows] != [w.account_id for w in batch]:
                raise RuntimeError(f"run {run_id}: its queued writes and pending rows differ")
            after = rows[-1][0]
            row_of = {account_id: row_id for row_id, account_id in rows}
            results = sync.adapter.write([(w.account_id, w.values) for w in batch])
            with self._recording():
                ok = [r.record_id for r in results if r.ok]
                bad = [r for r in results if not r.ok]
                written = [(row_of[i], i) for i in ok if i in row_of]
                sync.state.mark_rows_written(sync.target, written, run_id=run_id)
                self._count_written(batch, ok)
                sync.state.resolve_failures(sync.target, ok)
                summary.written += len(ok)
                if bad:
                    sync.state.mark_failed(sync.target, [r.record_id for r in bad], run_id=run_id)
                    for r in bad:
                        self._failed(
                            r.record_id, [(r.field or "(record)", f"{r.code}: {r.message}")], r.code
                        )
                sync.state.heartbeat(sync.target, run_id)
            summary.api_calls = sync.adapter.api_calls - sync.calls_at_start
            summary.phase_done += len(results)
            sync.on_progress(summary)

    def _count_written(self, batch: Sequence[QueuedWrite], ok: Sequence[str]) -> None:
        """The stability snapshot counts the accounts whose writes were applied."""
        if self.counted is None:
            return
        applied = set(ok)
        self.counted.add_all(
            [q.bins for q in batch if q.bins is not None and q.account_id in applied]
        )

    # -- reporting ----------------------------------------------------------------------------
    def _failed(
        self, record_id: str, problems: list[tuple[str, str]], code: str | None = None
    ) -> None:
        self.summary.failed += 1
        for field_name, reason in problems:
            if len(self.summary.failures) < LISTED:
                self.summary.failures.append(
                    {"id": record_id, "field": field_name, "reason": reason}
                )
        # Logged at info: the command prints each failed record once, from the summary.
        log.info("record %s: %s", record_id, "; ".join(f"{f}: {r}" for f, r in problems))
        if not self.dry:
            self.sync.state.record_failures(
                self.run_id,  # type: ignore[arg-type]
                self.sync.target,
                [FailureIn(record_id, f, r, code) for f, r in problems],
            )

    def _read_problems(self) -> None:
        """Rows the adapter could not read as records (a broken file row): failed, listed."""
        for p in self.sync.adapter.read_problems():
            self.summary.failed += 1
            if len(self.summary.failures) < LISTED:
                self.summary.failures.append(
                    {"id": p.record_id, "field": "(row)", "reason": p.where_and_why}
                )
            log.info("unreadable row: %s", p.where_and_why)

    def _overridden(self, record_id: str, why: str) -> None:
        self.summary.overridden += 1
        self.summary.events[OVERRIDDEN] += 1
        if len(self.summary.left_alone) < LISTED:
            self.summary.left_alone.append({"id": record_id, "reason": why})
        self.left_alone.append((record_id, why))
        log.info("record %s left alone: %s", record_id, why)

    # -- follow-ups ---------------------------------------------------------------------------
    def follow_up(self) -> None:
        """A follow-up item per warning event not yet followed up (its id stored first)."""
        sync = self.sync
        for event in sync.state.unfollowed_events(sync.target):
            if event.kind not in WARNINGS:
                continue
            detail = str(event.payload.get("detail", ""))
            item = FollowUp(
                event_id=event.event_id,
                account_id=event.account_id,
                subject=f"Credit warning: {event.kind.replace('_', ' ')} ({detail})",
                description=f"crmqual raised {event.kind} {detail} for account {event.account_id}.",
            )
            ref = sync.adapter.create_followup(item)
            sync.state.mark_followed_up(event.event_id, ref)
