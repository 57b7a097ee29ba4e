"""Seconds and peak memory of `crmqual report` over a state store of N accounts.

Run by hand: ``python bench/report.py [--sizes 100000 1000000] [--state URL] [--dir DIR]``.
Each size gets a fresh state store (default: a SQLite file in a temporary folder; ``--state``
a PostgreSQL URL whose tables are emptied first) holding what two nightly runs leave: run 1
wrote every account, run 2 rewrote 10 % of them (grades, flags, limits and exposure moved).
The rows are copies of real assessments (a small `crmqual demo` is run once for them), with
new ids and varied values, inserted in bulk (seeding is not what is measured). Then
``crmqual report --state URL --json`` runs as its own process: its wall time and its peak
resident memory (``wait4``'s ru_maxrss) are the figures (on PostgreSQL the server's own
work is not in them). Prints one line per size and writes ``bench/results/report.json``
(``report-postgresql.json`` with ``--state``). The target: under 500 MB at a million.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from crmqual.policy import GRADES
from crmqual.state import StateStore
from crmqual.state.schema import assessments, metadata, schedule

HERE = Path(__file__).resolve().parent
TARGET = "zoho-demo"
T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
BATCH = 5_000


def templates(where: Path) -> list[dict[str, Any]]:
    """Real assessment rows: those of a 300-account demo."""
    demo = where / "demo"
    subprocess.run(
        [sys.executable, "-m", "crmqual", "demo", "--accounts", "300", "--dir", str(demo)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    engine = sa.create_engine(f"sqlite:///{demo / 'state.sqlite'}")
    with engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(sa.select(assessments))]
    engine.dispose()
    shutil.rmtree(demo)
    return rows


def _vary(rng: random.Random, row: dict[str, Any], account_id: str) -> dict[str, Any]:
    account = dict(row["account"], id=account_id)
    if account.get("current_exposure") is not None:
        account["current_exposure"] = round(rng.uniform(0, 3) * 100_000, 2)
    outputs = dict(row["outputs"], grade=rng.choice(GRADES))
    if outputs.get("credit_limit") is not None:
        outputs["credit_limit"] = rng.choice([0, 50_000, 100_000, 250_000, 500_000])
    return {"account": account, "outputs": outputs, "grade": outputs["grade"]}


def _flush(engine: sa.Engine, batch: list[dict[str, Any]], due: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(assessments), batch)
        if due:
            conn.execute(sa.insert(schedule), due)
    batch.clear()
    due.clear()


def seed(url: str, accounts: int, rows: list[dict[str, Any]], changed: float) -> None:
    rng = random.Random(21)
    with StateStore(url) as store:
        first = store.start_run(
            TARGET, mode="full", dry_run=False, signpost=T0, policy_version="p", mapping_hash="m"
        )
        engine = store.engine
        second_ids = set(rng.sample(range(accounts), int(accounts * changed)))
        runs = [(first, range(accounts), T0), (first + 1, sorted(second_ids), T0)]
        for run_id, ids, at in runs:
            if run_id != first:
                second = store.start_run(
                    TARGET,
                    mode="incremental",
                    dry_run=False,
                    signpost=at,
                    policy_version="p",
                    mapping_hash="m",
                )
                assert second == run_id
            batch: list[dict[str, Any]] = []
            due: list[dict[str, Any]] = []

            for i in ids:
                template = rows[rng.randrange(len(rows))]
                account_id = f"{4_000_000_000_000 + i}"
                varied = _vary(rng, template, account_id)
                batch.append(
                    {
                        "run_id": run_id,
                        "written_run_id": run_id,
                        "target": TARGET,
                        "account_id": account_id,
                        "assessed_at": at,
                        "native": template["native"],
                        "previous_native": template["previous_native"],
                        "policy_version": template["policy_version"],
                        "reasons": template["reasons"],
                        "status": "written",
                        "written_at": at,
                        **varied,
                    }
                )
                if run_id == first:
                    assessed = at - timedelta(days=rng.randrange(400))
                    due.append(
                        {
                            "target": TARGET,
                            "account_id": account_id,
                            "grade": varied["grade"],
                            "assessed_at": assessed,
                        }
                    )
                if len(batch) >= BATCH:
                    _flush(engine, batch, due)
            if batch:
                _flush(engine, batch, due)
            n = len(ids)
            counts = {"read": n, "written": n, "failed": 0, "api_calls": n // 100}
            store.finish_run(
                run_id,
                status="ok",
                counts=counts,
                watermark=at,
                summary={"duration_s": n / 500, "exit_code": 0},
            )
        if engine.dialect.name == "postgresql":
            # What autovacuum does within a minute of a sync this size; a report made right
            # after a bulk insert would otherwise be planned on an empty table's statistics.
            with engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


def measure(url: str, out: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak MB of one `crmqual report` process."""
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "crmqual", "report", "--state", url, "--out", str(out), "--json"],
        stdout=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - began
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"crmqual report failed with exit code {process.returncode}")
    cpu = usage.ru_utime + usage.ru_stime
    return seconds, cpu, usage.ru_maxrss / 1024  # kilobytes on Linux


def _empty(url: str) -> None:
    engine = sa.create_engine(url)
    metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--state", default=None, help="a PostgreSQL URL (emptied first)")
    parser.add_argument("--changed", type=float, default=0.1, help="share rewritten by run 2")
    parser.add_argument("--dir", type=Path, default=None, help="where the files go")
    args = parser.parse_args()
    where = Path(tempfile.mkdtemp(dir=args.dir))
    results = []
    try:
        rows = templates(where)
        for size in args.sizes:
            url = args.state or f"sqlite:///{where / f'state-{size}.sqlite'}"
            if args.state:
                _empty(url)
            began = time.perf_counter()
            seed(url, size, rows, args.changed)
            seeded = time.perf_counter() - began
            seconds, cpu, megabytes = measure(url, where / f"report-{size}.html")
            page = (where / f"report-{size}.html").stat().st_size
            result = {
                "accounts": size,
                "rows": size + int(size * args.changed),
                "backend": sa.make_url(url).get_backend_name(),
                "seconds": round(seconds, 1),
                "cpu_seconds": round(cpu, 1),
                "peak_mb": round(megabytes),
                "page_kb": round(page / 1024),
                "seed_seconds": round(seeded, 1),
            }
            results.append(result)
            print(
                f"{size:>9,} accounts ({result['backend']})  {seconds:>6.1f} s ({cpu:.1f} s CPU)  "
                f"{megabytes:>5.0f} MB peak  page {result['page_kb']:,} KB",
                flush=True,
            )
            if not args.state:
                for path in where.glob(f"state-{size}.sqlite*"):
                    path.unlink()
    finally:
        shutil.rmtree(where, ignore_errors=True)
    summary = {
        "runs": results,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "date": datetime.now(UTC).date().isoformat(),
    }
    out = HERE / "results" / ("report-postgresql.json" if args.state else "report.json")
    out.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
