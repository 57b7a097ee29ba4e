"""`crmqual fleet run` without a broker: three sandbox orgs served as separate processes, the
shared PostgreSQL store; a broken org config fails alone, is stopped and resumed; status and
the Prometheus metrics file show every org."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fleetutil import OrgSpec, world

pytestmark = pytest.mark.slow


def outcomes(stdout: str) -> dict[str, dict[str, object]]:
    return {o["org"]: o for o in map(json.loads, stdout.strip().splitlines())}


def test_fleet_run_without_a_broker(tmp_path: Path) -> None:
    specs = [OrgSpec("alpha", 80), OrgSpec("beta", 60, priority=9), OrgSpec("gamma", broken=True)]
    with world(tmp_path, specs, broker=None) as w:
        first = w.crmqual("run", "--parallel", "2", "--json")
        assert first.returncode == 2, first.stderr  # the most severe: gamma's
        ran = outcomes(first.stdout)
        assert {o: ran[o]["exit_code"] for o in ran} == {"alpha": 0, "beta": 0, "gamma": 2}
        for name in ("alpha", "beta"):
            org = w.orgs[name]
            assert ran[name]["summary"]["written"] == org.spec.accounts  # type: ignore[index]
            assert set(org.written()) == org.ids() and max(org.written().values()) == 1
        assert "sync.batch_sise" in str(ran["gamma"]["message"])

        # Nothing is due until the next cron time, and gamma stays stopped.
        again = w.crmqual("run")
        assert (again.returncode, again.stdout.strip()) == (
            0,
            "no org is due now (see `crmqual fleet status` for the next times)",
        )

        # Named orgs run at once; a second round writes nothing.
        named = w.crmqual("run", "alpha", "beta", "--json")
        assert named.returncode == 0, named.stderr
        assert {o["org"]: o["summary"]["written"] for o in outcomes(named.stdout).values()} == {
            "alpha": 0,
            "beta": 0,
        }  # type: ignore[index]

        status = w.crmqual("status", "--json")
        orgs = {o["org"]: o for o in json.loads(status.stdout)["orgs"]}
        assert orgs["alpha"]["exit_code"] == 0 and orgs["alpha"]["written"] == 0
        assert orgs["alpha"]["last_success_at"] and orgs["alpha"]["next_due"]
        assert orgs["alpha"]["api_calls"] > 0 and orgs["alpha"]["lock_holder"] is None
        assert orgs["gamma"]["exit_code"] == 2 and "batch_sise" in orgs["gamma"]["stopped"]
        metrics = (tmp_path / "metrics" / "crmqual.prom").read_text("utf-8")
        assert 'crmqual_fleet_org_stopped{org="gamma",target="zoho:gamma"} 1.0' in metrics
        assert (
            'crmqual_fleet_last_run_records_written{org="beta",target="zoho:beta"} 0.0' in metrics
        )
        assert 'crmqual_fleet_last_success_timestamp_seconds{org="alpha"' in metrics

        table = w.crmqual("status", "--lang", "zh")
        assert "组织" in table.stdout and "gamma 已停止" in table.stderr

        # Fixed and resumed, gamma runs with the others.
        config = w.orgs["gamma"].config
        config.write_text(config.read_text("utf-8").replace("batch_sise", "batch_size"), "utf-8")
        assert "gamma resumed" in w.crmqual("resume", "gamma").stdout
        fixed = w.crmqual("run", "--json")
        assert fixed.returncode == 0, fixed.stderr
        assert outcomes(fixed.stdout)["gamma"]["summary"]["written"] == 120  # type: ignore[index]
