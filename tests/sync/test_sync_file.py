"""`crmqual` end to end on the file adapter: commands, exit codes, kill and resume, lock."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from backends import FileBackend
from click.testing import CliRunner
from syncutil import company

from crmqual.cli.main import main

pytestmark = pytest.mark.slow


def cli(backend: FileBackend, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [*args, "-c", str(backend.config)])
    return result.exit_code, result.stdout, result.stderr


def sync_json(backend: FileBackend, *args: str) -> tuple[int, dict[str, Any]]:
    code, out, err = cli(backend, "sync", "--json", *args)
    assert out.strip(), err
    return code, json.loads(out.strip().splitlines()[-1])


def written_per_record(backend: FileBackend) -> Counter[str]:
    return Counter(w.record_id for w in backend.write_log() if w.client == "crmqual")


@pytest.fixture
def backend(tmp_path: Path) -> FileBackend:
    b = FileBackend(tmp_path)
    b.load([company(i) for i in range(12)])
    return b


def test_provision_then_sync_then_nothing_to_do(backend: FileBackend) -> None:
    code, out, _ = cli(backend, "provision", "--dry-run")
    assert code == 0 and "would create: crmqual_grade (picklist)" in out
    assert cli(backend, "provision")[0] == 0
    code, out, _ = cli(backend, "provision")
    assert code == 0 and "up to date: crmqual_grade" in out
    code, first = sync_json(backend)
    assert code == 0
    assert {k: first[k] for k in ("status", "read", "written", "failed")} == {
        "status": "ok",
        "read": 12,
        "written": 12,
        "failed": 0,
    }
    for key in ("run_id", "changed", "warnings", "api_calls", "duration_s"):
        assert key in first
    code, second = sync_json(backend)
    assert (code, second["written"]) == (0, 0)
    rows = backend.output.read_text("utf-8").splitlines()
    assert rows[0].startswith("id,crmqual_status,crmqual_grade")
    assert len(rows) == 13


def test_sync_refuses_before_provision_and_dry_run_says_what_is_missing(
    backend: FileBackend,
) -> None:
    code, _, err = cli(backend, "sync")
    assert code == 2 and "crmqual provision" in err
    code, out, _ = cli(backend, "sync", "--dry-run")
    assert code == 0
    assert "would create: crmqual_grade" in out or "crmqual_grade" in out
    assert any(
        line.startswith("would change ") and " account(s): first assessment " in line
        for line in out.splitlines()
    )  # the dry run's plan (issue 14): every record, grouped by kind of change
    assert "first assessment:" in out.splitlines()
    assert backend.write_log() == []


def test_quiet_prints_nothing_on_success(backend: FileBackend) -> None:
    cli(backend, "provision")
    code, out, err = cli(backend, "sync", "--quiet")
    assert (code, out, err) == (0, "", "")


def test_a_bad_record_exits_1_and_names_id_and_field(backend: FileBackend) -> None:
    cli(backend, "provision")
    # Issue 13: "12,000" is no longer a bad value (it is left missing where it cannot be
    # read); an impossible one still fails the record.
    backend.hand_edit("A004", {"total_assets": "-12000"})
    code, out, err = cli(backend, "sync")
    assert code == 1
    assert "record A004: total_assets (total_assets)" in err
    assert "written 11" in out


def test_bad_config_exits_2_naming_file_and_key(tmp_path: Path) -> None:
    config = tmp_path / "crmqual.yaml"
    config.write_text("crm: file\nconnection: {input: a.csv}\nsyncc: {}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["sync", "-c", str(config)])
    assert result.exit_code == 2
    assert f"{config}:2: connection.output: Field required" in result.stderr
    assert f"{config}:3: syncc: Extra inputs are not permitted" in result.stderr


def test_missing_secret_variable_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "crmqual.yaml"
    config.write_text(
        "crm: zoho\nconnection: {client_id: x, client_secret: '${NO_SUCH_SECRET_VAR}'}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["sync", "-c", str(config)])
    assert result.exit_code == 2
    assert "connection.client_secret: environment variable NO_SUCH_SECRET_VAR is not set" in (
        result.stderr
    )


def test_unreachable_crm_exits_3(backend: FileBackend) -> None:
    cli(backend, "provision")
    backend.input.unlink()
    code, _, err = cli(backend, "sync")
    assert code == 3 and "input file not found" in err


def test_runs_history_and_revert(backend: FileBackend) -> None:
    cli(backend, "provision")
    _, first = sync_json(backend)
    backend.hand_edit("A001", {"overdue_max_days": 120, "overdue_count": 9, "defaults": 1})
    _, second = sync_json(backend)
    assert second["written"] == 1
    code, out, _ = cli(backend, "runs")
    assert code == 0 and str(second["run_id"]) in out and str(first["run_id"]) in out
    code, out, _ = cli(backend, "history", "A001")
    assert code == 0 and "KO_DEFAULT" in out and out.count("run ") == 2
    rejected = {
        w.fields.get("crmqual_status") for w in backend.write_log() if w.record_id == "A001"
    }
    assert "rejected" in rejected
    code, out, _ = cli(backend, "revert", str(second["run_id"]), "--dry-run")
    assert code == 0 and "would restore A001 crmqual_status: 'rejected' ->" in out
    code, out, _ = cli(backend, "revert", str(second["run_id"]))
    assert code == 0 and "1 record(s) restored" in out
    restored = backend.adapter()
    assert isinstance(restored, type(backend.adapter()))
    outputs = restored.outputs()  # type: ignore[attr-defined]
    assert outputs["A001"]["crmqual_status"] != "rejected"


def test_history_shows_a_revert_as_a_revert(backend: FileBackend) -> None:
    """Issue 14: a revert's row read `grade - score - status - limit -` with the reverted
    run's policy; it says what was put back, from which run, and the assessment restored."""
    cli(backend, "provision")
    _, first = sync_json(backend)
    backend.hand_edit("A001", {"overdue_max_days": 120, "overdue_count": 9, "defaults": 1})
    _, second = sync_json(backend)
    code, out, _ = cli(backend, "revert", str(second["run_id"]))
    assert code == 0
    code, out, _ = cli(backend, "history", "A001")
    assert code == 0
    lines = out.splitlines()
    (at,) = [i for i, line in enumerate(lines) if "revert of run" in line]
    assert f"revert of run {second['run_id']}, put back:" in lines[at]
    assert "grade -" not in out
    assert any(line.strip().startswith("crmqual_status: rejected -> ") for line in lines[at:])
    first_line = next(line for line in lines if f"run {first['run_id']} (written)" in line)
    restored = next(line for line in lines[at:] if "as assessed" in line)
    assert restored.split(": ", 1)[1] == first_line.split("): ", 1)[1]
    code, out, _ = cli(backend, "history", "A001", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["kind"] for r in rows] == ["sync", "sync", "revert"]
    assert rows[2]["reverted_run"] == second["run_id"]
    assert rows[2]["restored"]["crmqual_status"] == rows[0]["outputs"]["status"]
    assert rows[2]["replaced"]["crmqual_status"] == "rejected"
    assert rows[2]["outputs"] == rows[0]["outputs"]
    _, third = sync_json(backend, "--full")  # the file's records keep their modified time
    assert third["written"] == 1 and set(third["events"]) <= set(second["events"])


def test_prune_keeps_what_the_next_sync_needs(backend: FileBackend) -> None:
    cli(backend, "provision")
    sync_json(backend)
    backend.hand_edit("A001", {"overdue_max_days": 120, "overdue_count": 9, "defaults": 1})
    _, second = sync_json(backend)
    assert second["written"] == 1  # A001 now has two written rows, the first superseded
    code, out, _ = cli(backend, "prune", "--older-than", "30")
    assert code == 0 and out.startswith("0 assessment row(s)")
    code, out, _ = cli(backend, "prune", "--older-than", "0", "--dry-run")
    assert code == 0 and out.startswith("1 assessment row(s)") and "to delete" in out
    code, out, _ = cli(backend, "prune", "--older-than", "0")
    assert code == 0 and out.startswith("1 assessment row(s)") and "deleted" in out
    code, out, _ = cli(backend, "history", "A001")
    assert code == 0 and out.count("run ") == 1 and "KO_DEFAULT" in out
    code, out, _ = cli(backend, "runs", "--json")
    assert json.loads(out.splitlines()[0])["mode"] == "prune"
    _, third = sync_json(backend, "--full")
    assert (third["written"], third["overridden"]) == (0, 0)  # what was written is still known


def test_revert_leaves_records_changed_since_alone(backend: FileBackend) -> None:
    cli(backend, "provision")
    _, first = sync_json(backend)
    backend.hand_edit("A002", {"crmqual_grade": "A"})
    code, out, _ = cli(backend, "revert", str(first["run_id"]))
    assert code == 0 and "left alone (changed since run" in out and "A002" in out


def test_init_writes_a_config_that_names_its_secrets(tmp_path: Path) -> None:
    path = tmp_path / "crmqual.yaml"
    result = CliRunner().invoke(main, ["init", "--crm", "zoho", "--path", str(path)])
    assert result.exit_code == 0
    text = path.read_text("utf-8")
    assert "${ZOHO_REFRESH_TOKEN}" in text
    again = CliRunner().invoke(main, ["init", "--crm", "zoho", "--path", str(path)])
    assert again.exit_code == 2


# -- subprocesses -------------------------------------------------------------------------


def spawn(backend: FileBackend, *args: str) -> subprocess.Popen[str]:
    env = dict(os.environ)
    return subprocess.Popen(
        backend.sync_command("sync", *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for_batches(backend: FileBackend, count: int, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if len({w.record_id for w in backend.write_log()}) >= count or proc.poll() is not None:
            return
        time.sleep(0.005)
    raise AssertionError("the sync wrote nothing in 30 s")


KILL_POINTS = [(k, 0.0) for k in range(1, 7)] + [
    (random.Random(seed).randint(1, 6), random.Random(seed).uniform(0, 0.12)) for seed in range(6)
]


@pytest.mark.parametrize(("batches", "delay"), KILL_POINTS)
def test_sigkill_at_any_point_then_resume_writes_each_record_once(
    tmp_path: Path, batches: int, delay: float
) -> None:
    backend = FileBackend(tmp_path, page_size=10, write_batch=5, write_pause_s=0.05)
    backend.load([company(i) for i in range(30)])
    assert subprocess.run(backend.sync_command("provision"), capture_output=True).returncode == 0
    proc = spawn(backend)
    wait_for_batches(backend, batches * 5, proc)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    for _ in range(3):
        rerun = subprocess.run(
            backend.sync_command("sync", "--json"), capture_output=True, text=True
        )
        if rerun.returncode == 0:
            break
    assert rerun.returncode == 0, rerun.stderr
    written = written_per_record(backend)
    assert set(written) == set(backend.records), "a record was lost"
    assert max(written.values()) == 1, f"written twice: {[k for k, v in written.items() if v > 1]}"
    settle = json.loads(
        subprocess.run(
            backend.sync_command("sync", "--json"), capture_output=True, text=True
        ).stdout
    )
    assert settle["written"] == 0


def test_a_second_run_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    # The first run must still be writing when the second starts: ten batches of 0.5 s
    # left, so a loaded machine's slow interpreter start does not let it finish first.
    backend = FileBackend(tmp_path, page_size=10, write_batch=5, write_pause_s=0.5)
    backend.load([company(i) for i in range(60)])
    subprocess.run(backend.sync_command("provision"), check=True, capture_output=True)
    first = spawn(backend)
    wait_for_batches(backend, 2, first)
    second = subprocess.run(backend.sync_command("sync"), capture_output=True, text=True)
    assert second.returncode == 4
    assert "lock" in second.stderr.lower()
    first.send_signal(signal.SIGKILL)  # leaves its lock behind
    first.communicate()
    third = subprocess.run(backend.sync_command("sync", "--json"), capture_output=True, text=True)
    assert third.returncode == 0, third.stderr  # the dead run's lock is recovered
