"""Progress of long work (sync, revert, prune, seeding): one interface, three forms.

The engines only call a callback with their own counts; the command turns those into a
:class:`Snapshot` and hands it to a :class:`Reporter`:

- on a terminal, :class:`RichReporter`: a live line with the phase, the counts, the rate
  and, where the total is known, a bar and the time left;
- off one (cron, CI), :class:`LineReporter`: one plain line at most every ``interval``
  seconds (30 by default, ``CRMQUAL_PROGRESS_EVERY`` overrides it), and a last one when
  the work ends if any was printed, so a short job prints nothing extra;
- under ``--quiet`` or ``--json``, :class:`NullReporter`: nothing.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import IO, Any

#: Seconds between two progress lines off a terminal.
DEFAULT_INTERVAL = 30.0
INTERVAL_ENV = "CRMQUAL_PROGRESS_EVERY"


@dataclass(frozen=True)
class Snapshot:
    """Where long work stands: its phase, its counts (in display order), and how much of
    the phase is done out of how much (``total`` None: not known)."""

    phase: str
    counts: Sequence[tuple[str, int]]
    done: int
    total: int | None = None

    def text(self) -> str:
        return " · ".join(f"{name} {value:,}" for name, value in self.counts)


class Reporter:
    """Shows snapshots; ``close`` ends the display. Usable as a context manager."""

    def update(self, snapshot: Snapshot) -> None:
        """Show where the work stands now."""

    def close(self) -> None:
        """The work ended (however it ended): finish the display."""

    def __enter__(self) -> Reporter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


class NullReporter(Reporter):
    """Shows nothing (``--quiet``, ``--json``)."""


class _Rate:
    """Items per second within the current phase."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.phase: str | None = None
        self.started = clock()
        self.base = 0

    def of(self, snapshot: Snapshot) -> float | None:
        now = self.clock()
        if snapshot.phase != self.phase:
            self.phase, self.started, self.base = snapshot.phase, now, snapshot.done
            return None
        elapsed = now - self.started
        return (snapshot.done - self.base) / elapsed if elapsed > 0 else None


def describe(snapshot: Snapshot, rate: float | None) -> str:
    """One line: ``label: phase · counts · rate · ETA``."""
    parts = [snapshot.phase, snapshot.text()]
    if snapshot.total is not None:
        parts.append(f"{snapshot.done:,} of {snapshot.total:,}")
    if rate:
        parts.append(f"{rate:,.0f}/s")
        if snapshot.total is not None and snapshot.total > snapshot.done:
            parts.append(f"about {_duration((snapshot.total - snapshot.done) / rate)} left")
    return " · ".join(p for p in parts if p)


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class LineReporter(Reporter):
    """Off a terminal: a line at most every ``interval`` seconds, then a last one at the
    end if any was written."""

    def __init__(
        self,
        label: str,
        *,
        interval: float = DEFAULT_INTERVAL,
        write: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.interval = interval
        self.write = write or _stderr_line
        self.clock = clock
        self.rate = _Rate(clock)
        self.last_line = clock()
        self.latest: tuple[Snapshot, float | None] | None = None
        self.lines = 0

    def update(self, snapshot: Snapshot) -> None:
        self.latest = (snapshot, self.rate.of(snapshot))
        now = self.clock()
        if now - self.last_line >= self.interval:
            self.last_line = now
            self._emit()

    def close(self) -> None:
        if self.lines and self.latest is not None:
            self._emit(final=True)
        self.latest = None

    def _emit(self, final: bool = False) -> None:
        assert self.latest is not None
        snapshot, rate = self.latest
        self.lines += 1
        end = " (done)" if final else ""
        self.write(f"{self.label}: {describe(snapshot, rate)}{end}")


def _stderr_line(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class RichReporter(Reporter):
    """On a terminal: rich's live progress line (phase, counts, rate, bar and ETA when the
    total is known). Started at the first snapshot; left on screen when it ends."""

    def __init__(self, label: str, *, file: IO[str] | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            SpinnerColumn,
            TaskProgressColumn,
            TextColumn,
            TimeRemainingColumn,
        )

        self.console = Console(file=file or sys.stderr)
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn(f"{label}: [bold]{{task.description}}[/bold]"),
            BarColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[counts]}"),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self.task: Any = None
        self.phase: str | None = None
        self.rate = _Rate(time.monotonic)

    def update(self, snapshot: Snapshot) -> None:
        rate = self.rate.of(snapshot)
        counts, per_second = snapshot.text(), f"{rate:,.0f}/s" if rate else ""
        if self.task is None:
            self.progress.start()
            self.task = self.progress.add_task(
                snapshot.phase,
                total=snapshot.total,
                completed=snapshot.done,
                counts=counts,
                rate=per_second,
            )
        elif snapshot.phase != self.phase:
            self.progress.reset(
                self.task,
                total=snapshot.total,
                completed=snapshot.done,
                description=snapshot.phase,
                counts=counts,
                rate=per_second,
            )
        else:
            self.progress.update(
                self.task,
                total=snapshot.total,
                completed=snapshot.done,
                counts=counts,
                rate=per_second,
            )
        self.phase = snapshot.phase

    def close(self) -> None:
        if self.task is not None:
            self.progress.stop()
            self.task = None


def interval_from_env() -> float:
    raw = os.environ.get(INTERVAL_ENV, "")
    try:
        return max(0.0, float(raw)) if raw.strip() else DEFAULT_INTERVAL
    except ValueError:
        return DEFAULT_INTERVAL


def reporter(label: str, *, enabled: bool = True, stream: IO[str] | None = None) -> Reporter:
    """The reporter for this process: nothing when not ``enabled`` (``--quiet``, ``--json``),
    rich's live display when ``stream`` (default stderr) is a terminal, else periodic lines."""
    if not enabled:
        return NullReporter()
    out = stream or sys.stderr
    if out.isatty():
        return RichReporter(label, file=out)
    return LineReporter(
        label, interval=interval_from_env(), write=lambda text: print(text, file=out, flush=True)
    )
