"""A state store that fails mid-run (full disk, database errors): exit 6, one clear line, a
`--json` error object, no traceback, and nothing lost: a rerun resumes and writes each
record once (issue 13, section 3)."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from backends import FileBackend
from click.testing import CliRunner
from syncutil import company

from crmqual.cli.main import main
from crmqual.errors import EXIT_CODES, SEVERITY, ErrorKind, ExitCode, most_severe

ACCOUNTS = 30


def cli(backend: FileBackend, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args, "-c", str(backend.config)])
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    return result.exit_code, result.stdout, result.stderr


def written_per_record(backend: FileBackend) -> Counter[str]:
    return Counter(w.record_id for w in backend.write_log() if w.client == "crmqual")


def disk_full(statement: Any) -> sa.exc.OperationalError:
    return sa.exc.OperationalError(
        str(statement), {}, sqlite3.OperationalError("database or disk is full")
    )


@contextlib.contextmanager
def failing(monkeypatch: pytest.MonkeyPatch, matches: Callable[[str], bool]) -> Iterator[None]:
    """Every statement whose SQL ``matches`` fails as on a full disk (the engine's execute,
    and its driver-SQL execute, which the ledger's bulk insert takes)."""
    real = sa.engine.Connection.execute
    real_driver_sql = sa.engine.Connection.exec_driver_sql

    def execute(self: sa.engine.Connection, statement: Any, *args: Any, **kw: Any) -> Any:
        if matches(" ".join(str(statement).split())):
            raise disk_full(statement)
        return real(self, statement, *args, **kw)

    def exec_driver_sql(self: sa.engine.Connection, statement: str, *args: Any, **kw: Any) -> Any:
        if matches(" ".join(statement.split())):
            raise disk_full(statement)
        return real_driver_sql(self, statement, *args, **kw)

    with monkeypatch.context() as patch:
        patch.setattr(sa.engine.Connection, "execute", execute)
        patch.setattr(sa.engine.Connection, "exec_driver_sql", exec_driver_sql)
        yield


def assert_state_store_error(code: int, out: str, err: str, store: str) -> None:
    assert code == ExitCode.STATE_STORE == 6, (code, out, err)
    assert "Traceback" not in out + err
    error = json.loads(out.strip().splitlines()[-1])
    assert error["status"] == "error" and error["exit_code"] == 6
    assert error["error"]["kind"] == "state_store"
    message = error["error"]["message"]
    assert "\n" not in message
    assert store in message and "database or disk is full" in message
    assert "free disk space" in message and "run the command again" in message
    assert message in err


@pytest.fixture
def backend(tmp_path: Path) -> FileBackend:
    b = FileBackend(tmp_path, page_size=10, write_batch=5)
    b.load([company(i) for i in range(ACCOUNTS)])
    return b


#: Where the store fails: recording pending writes, marking results (after the CRM took
#: them), moving the cursor, finishing the run.
WHERE = {
    "record_pending": lambda sql: sql.startswith("INSERT INTO assessments"),
    "mark_written": lambda sql: sql.startswith("UPDATE assessments SET status"),
    "set_cursor": lambda sql: sql.startswith("INSERT INTO cursors"),
    "finish_run": lambda sql: sql.startswith("UPDATE runs SET status"),
}


@pytest.mark.parametrize("where", list(WHERE))
def test_an_injected_database_error_exits_6_and_a_rerun_converges(
    backend: FileBackend, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    assert cli(backend, "provision")[0] == 0
    with failing(monkeypatch, WHERE[where]):
        code, out, err = cli(backend, "sync", "--json")
    assert_state_store_error(code, out, err, f"sqlite:///{backend.folder}")
    code, out, err = cli(backend, "sync", "--json")
    assert code == 0, err
    again = json.loads(out)
    assert again["failed"] == 0
    written = written_per_record(backend)
    assert set(written) == {f"A{i:03d}" for i in range(ACCOUNTS)}
    assert set(written.values()) == {1}, f"written twice: {written}"
    code, out, _ = cli(backend, "sync", "--json")
    assert (code, json.loads(out)["written"]) == (0, 0)


def test_without_json_one_line_on_stderr(
    backend: FileBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli(backend, "provision")[0] == 0
    with failing(monkeypatch, WHERE["record_pending"]):
        code, out, err = cli(backend, "sync")
    assert code == 6 and "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot use the state store sqlite:///" in lines[0], err


@pytest.mark.parametrize(
    "args",
    [
        ("runs",),
        ("runs", "--json"),
        ("history", "A001"),
        ("prune", "--older-than", "0"),
        ("revert", "1"),
        ("check",),
    ],
    ids=lambda a: "-".join(a),
)
def test_other_commands_exit_6(
    backend: FileBackend, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]
) -> None:
    assert cli(backend, "provision")[0] == 0
    assert cli(backend, "sync")[0] == 0
    with failing(
        monkeypatch, lambda sql: any(t in sql for t in ("runs", "assessments", "field_names"))
    ):
        code, out, err = cli(backend, *args)
    assert code == 6 and "Traceback" not in out + err, (code, out, err)
    assert "the state store sqlite:///" in err
    if "--json" in args:
        assert json.loads(out.strip().splitlines()[-1])["error"]["kind"] == "state_store"


def test_a_password_is_masked_and_an_unsupported_url_stays_a_config_error(
    tmp_path: Path,
) -> None:
    b = FileBackend(tmp_path, state_url="postgresql+psycopg://u:s3cret-pw@127.0.0.1:1/x")
    code, out, err = cli(b, "sync", "--json")
    assert code == 6 and "s3cret-pw" not in out + err and "u:***@127.0.0.1:1/x" in err
    b = FileBackend(tmp_path, state_url="mysql://u:s3cret-pw@h/db")
    code, _, err = cli(b, "sync")
    assert code == 2 and "s3cret-pw" not in err


def test_exit_6_sits_after_config_in_the_severity_order() -> None:
    assert EXIT_CODES[ErrorKind.STATE_STORE] == 6
    assert SEVERITY.index(ErrorKind.STATE_STORE) == 1
    assert most_severe([ErrorKind.RECORDS, ErrorKind.STATE_STORE, ErrorKind.QUOTA]) == (
        ErrorKind.STATE_STORE
    )


# -- a real full disk: a tiny tmpfs ---------------------------------------------------------------
@contextlib.contextmanager
def tmpfs(path: Path, size_kb: int) -> Iterator[Path]:
    path.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)],
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode(errors='replace').strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_full_disk_exits_6_and_freeing_it_lets_the_rerun_converge(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk", 16 * 1024) as disk:
        (tmp_path / "crm").mkdir()
        b = FileBackend(tmp_path / "crm", state_url=f"sqlite:///{disk / 'state.sqlite'}")
        b.load([company(i) for i in range(200)])
        assert cli(b, "provision")[0] == 0
        assert cli(b, "runs")[0] == 0  # the store exists, migrated
        filler = disk / "filler"
        fd = os.open(filler, os.O_CREAT | os.O_WRONLY, 0o600)
        try:  # fill the disk to the last block
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * 4096)
        finally:
            os.close(fd)
        # then leave 64 KB free: far less than 200 pending rows need
        os.truncate(filler, max(0, filler.stat().st_size - 64 * 1024))
        code, out, err = cli(b, "sync", "--json")
        assert code == 6, (code, out, err)
        error = json.loads(out.strip().splitlines()[-1])
        assert error["error"]["kind"] == "state_store" and "Traceback" not in out + err
        assert "full" in error["message"] or "disk" in error["message"], error
        filler.unlink()
        codes = []
        for _ in range(3):
            code, out, err = cli(b, "sync", "--json")
            codes.append(code)
            if code == 0:
                break
        assert codes[-1] == 0, (codes, out)
        written = written_per_record(b)
        assert len(written) == 200 and set(written.values()) == {1}
