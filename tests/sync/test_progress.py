"""Progress of long work (issue 14): rich's live line on a terminal, a line at most every
interval off one, nothing under --quiet or --json."""

from __future__ import annotations

import fcntl
import json
import os
import re
import struct
import subprocess
import termios
from pathlib import Path

import pytest
from backends import FileBackend
from click.testing import CliRunner
from syncutil import company

from crmqual.cli.main import main
from crmqual.progress import INTERVAL_ENV, LineReporter, NullReporter, Snapshot, reporter

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def snapshot(done: int, total: int | None = 100, phase: str = "reading") -> Snapshot:
    return Snapshot(phase, [("read", done), ("failed", 0)], done, total)


def test_off_a_terminal_a_line_at_most_every_interval_and_a_last_one() -> None:
    clock, lines = FakeClock(), []
    shown = LineReporter("crmqual sync", interval=30, write=lines.append, clock=clock)
    times = [1, 10, 29, 31, 45, 59, 62, 70, 80, 95]
    for i, t in enumerate(times):
        clock.now = t
        shown.update(snapshot(10 * (i + 1)))
    clock.now = 96
    shown.close()
    # at 31, 62 and 95 (each at least 30 s after the one before), then a last one
    counts = [line.split(" · ")[1] for line in lines]
    assert counts == ["read 40", "read 70", "read 100", "read 100"]
    assert lines[0].startswith("crmqual sync: reading · read 40 · failed 0 · 40 of 100")
    assert "/s" in lines[0] and "left" in lines[0]
    assert lines[-1].endswith("(done)") and not lines[-2].endswith("(done)")


def test_a_short_job_off_a_terminal_prints_nothing() -> None:
    clock, lines = FakeClock(), []
    shown = LineReporter("crmqual sync", interval=30, write=lines.append, clock=clock)
    for t in range(10):
        clock.now = t
        shown.update(snapshot(t))
    shown.close()
    assert lines == []


def test_quiet_or_json_gets_no_reporter() -> None:
    assert isinstance(reporter("x", enabled=False), NullReporter)


@pytest.fixture
def backend(tmp_path: Path) -> FileBackend:
    b = FileBackend(tmp_path, page_size=4, write_batch=3)
    b.load([company(i) for i in range(12)])
    return b


def invoke(backend: FileBackend, *args: str, every: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args, "-c", str(backend.config)], env={INTERVAL_ENV: every})
    return result.exit_code, result.stdout, result.stderr


def test_sync_off_a_terminal_logs_periodic_lines(backend: FileBackend) -> None:
    invoke(backend, "provision", every="30")
    code, out, err = invoke(backend, "sync", every="0")  # an interval of 0: every step
    assert code == 0 and "crmqual sync: ok" in out
    lines = err.splitlines()
    assert lines and all(line.startswith("crmqual sync: ") for line in lines)
    assert any(line.startswith("crmqual sync: reading · read 4 ") for line in lines)
    assert any("writing · read 12 · assessed 12 · written" in line for line in lines)
    assert lines[-1].endswith("(done)") and "written 12" in lines[-1]


@pytest.mark.parametrize("flag", ["--quiet", "--json"])
def test_nothing_extra_under_quiet_or_json(backend: FileBackend, flag: str) -> None:
    invoke(backend, "provision", every="30")
    code, out, err = invoke(backend, "sync", flag, every="0")
    assert (code, err) == (0, "")
    if flag == "--json":
        assert json.loads(out)["written"] == 12
    else:
        assert out == ""


def test_the_default_interval_keeps_a_short_sync_silent(backend: FileBackend) -> None:
    invoke(backend, "provision", every="30")
    code, _, err = invoke(backend, "sync", every="30")
    assert (code, err) == (0, "")


def on_a_pty(command: list[str]) -> tuple[int, str, str]:
    """Run ``command`` with stderr on a pseudo-terminal (80x200); its exit code, stdout and
    what the terminal showed, without escape codes."""
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="200")
    env.pop("NO_COLOR", None)
    proc = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave, env=env
    )
    os.close(slave)
    shown = bytearray()
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        shown += data
    os.close(master)
    out = proc.stdout.read().decode() if proc.stdout else ""
    return proc.wait(timeout=60), out, ANSI.sub("", shown.decode("utf-8", "replace"))


def test_sync_on_a_terminal_shows_a_live_display(backend: FileBackend) -> None:
    subprocess.run(backend.sync_command("provision"), check=True, capture_output=True)
    code, out, shown = on_a_pty(backend.sync_command("sync"))
    assert code == 0 and "crmqual sync: ok" in out, shown
    assert "crmqual sync: writing" in shown, shown
    assert "read 12 · assessed 12 · written 12 · failed 0" in shown
    assert "100%" in shown  # the writes know their total


@pytest.mark.parametrize("flag", ["--quiet", "--json"])
def test_nothing_on_the_terminal_under_quiet_or_json(backend: FileBackend, flag: str) -> None:
    subprocess.run(backend.sync_command("provision"), check=True, capture_output=True)
    code, _, shown = on_a_pty(backend.sync_command("sync", flag))
    assert (code, shown.strip()) == (0, "")
