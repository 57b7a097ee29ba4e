"""End to end against `crmqual sandbox serve --crm fxiaoke` in its own process, with
`crmqual` as a subprocess (a real crmqual.yaml, secrets in the environment):

provision's list of fields for the admin, the fields added through the sandbox's console
action (`crmqual sandbox fields add`), check resolving them by label, a full sync, a second run
writing 0, an incremental run after a salesperson's edit, nothing written outside the output
fields, a 万元 amount landing in the model as 元; SIGKILL mid-run and resume with each record
written once; the `flaky` fault profile ending with the values of a fault-free run.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fx_backend import env, serve, write_config

from crmqual.sandbox.fxiaoke.backend import FxiaokeCredentials, FxiaokeSandbox
from crmqual.sandbox.fxiaoke.seed import seed_fxiaoke
from crmqual.sandbox.fxiaoke.settings import FxiaokeSettings
from served_sandbox import crmqual_argv, wait_for_writes

pytestmark = pytest.mark.slow

ACCOUNTS = 60
START = datetime(2026, 3, 2, 9, tzinfo=UTC)
AS_OF = "2026-03-02"
STAMP = "评估时间"
FOLLOWUP = "ActiveRecordObj"
BAD_CREDIT = {"违约次数": 3, "最长逾期天数": 240, "被执行记录数": 4, "逾期次数": 9}
OUTPUT_LABELS = (
    "信用准入状态",
    "风险等级",
    "信用评分",
    "信用额度(元)",
    "额度币种",
    "付款条件",
    "预警标记",
    "评估理由",
    "数据完整度",
    "政策版本",
    STAMP,
)


@dataclass
class Tenant:
    box: FxiaokeSandbox
    creds: FxiaokeCredentials
    config: Path
    folder: Path

    def run(self, *args: str) -> tuple[int, str]:
        done = subprocess.run(
            crmqual_argv(self.config, *args), capture_output=True, text=True, env=env(self.creds)
        )
        return done.returncode, done.stdout + done.stderr

    def sync(self, *args: str) -> tuple[int, dict[str, Any]]:
        code, out = self.run("sync", "--json", "--as-of", AS_OF, *args)
        return code, json.loads(out.splitlines()[0]) if out.startswith("{") else {"out": out}

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        log = (self.folder / "spawned.log").open("w", encoding="utf-8")
        return subprocess.Popen(
            crmqual_argv(self.config, *args), stdout=log, stderr=log, text=True, env=env(self.creds)
        )

    def ours(self) -> list[Any]:
        return [w for w in self.box.write_log() if w.client.startswith("crmqual/")]

    def output_names(self) -> dict[str, str]:
        """Output field api name -> label, as the console named them."""
        return {f.api_name: f.label for f in self.box.fields() if f.label in OUTPUT_LABELS}

    def add_fields_by_hand(self) -> None:
        """The admin, in the console, creates what `crmqual provision` listed."""
        code, out = self.run("provision", "--json")
        assert code == 0, out
        for f in json.loads(out)["manual_fields"]:
            self.box.add_field(
                f["label_zh"],
                f["crm_type"],
                f["options"],
                decimals=0 if f["type"] == "integer" else None,
            )


@contextmanager
def tenant(
    tmp_path: Path, *, faults: str | None = None, fault_seed: int = 0, rate: float = 1000
) -> Iterator[Tenant]:
    box = FxiaokeSandbox(tmp_path / "fx.db", settings=FxiaokeSettings(rate_per_second=0))
    box.clock.freeze(START)  # the seed's dates are relative to it, as the runs' --as-of
    seed_fxiaoke(box.store, ACCOUNTS, seed=5, workers=0)
    box.clock.resume()
    try:
        with serve(box, tmp_path / "serve.log", faults=faults, fault_seed=fault_seed) as creds:
            config = write_config(tmp_path, creds, limits={"rate_per_second": rate})
            yield Tenant(box, creds, config, tmp_path)
    finally:
        box.close()


def outputs(t: Tenant) -> dict[str, dict[str, Any]]:
    """Every record's crmqual outputs by label (option codes as labels), but the stamp: the
    console names fields and option codes differently in every tenant file."""
    fields = {f.api_name: f for f in t.box.fields() if f.label in OUTPUT_LABELS}
    shown: dict[str, dict[str, Any]] = {}
    for r in t.box.records():
        row = {}
        for name, f in fields.items():
            if f.label == STAMP:
                continue
            labels = {p.actual_value: p.display_value for p in f.picklist}
            value = r.get(name)
            if isinstance(value, list):
                value = sorted(labels.get(v, v) for v in value)
            elif labels and value is not None:
                value = labels.get(value, value)
            row[f.label] = value
        shown[r["_id"]] = row
    return shown


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """A fault-free, uninterrupted sync of the same tenant: the values other runs end with."""
    with tenant(tmp_path_factory.mktemp("reference")) as t:
        t.add_fields_by_hand()
        code, summary = t.sync()
        assert (code, summary["written"], summary["failed"]) == (0, ACCOUNTS, 0), summary
        values = outputs(t)
    assert all(v["风险等级"] for v in values.values())
    return values


def test_provision_check_full_second_and_incremental_sync(
    tmp_path: Path, reference: dict[str, dict[str, Any]]
) -> None:
    with tenant(tmp_path) as t:
        code, out = t.run("sync", "--as-of", AS_OF)
        assert code == 2 and "console as `crmqual provision` lists them" in out
        assert not t.ours()
        code, out = t.run("provision", "--json", "--csv", str(tmp_path / "fields.csv"))
        listed = json.loads(out)["manual_fields"]
        assert code == 0 and len(listed) == len(OUTPUT_LABELS)
        grade = next(f for f in listed if f["label_zh"] == "风险等级")
        assert grade["crm_type"] == "select_one" and grade["options"][0].startswith("A")
        csv_rows = (tmp_path / "fields.csv").read_text("utf-8-sig").splitlines()
        assert csv_rows[0].startswith("label_zh,label_en,type,crm_type,options,section")
        assert len(csv_rows) == 1 + len(OUTPUT_LABELS)
        for f in listed:  # the admin, in the console (the sandbox's admin action)
            argv = ["sandbox", "fields", "add", "--crm", "fxiaoke", "--db", str(t.box.db)]
            argv += ["--label", f["label_zh"], "--type", f["crm_type"]]
            if f["options"]:
                argv += ["--options", ",".join(f["options"])]
            if f["type"] == "integer":
                argv += ["--decimals", "0"]
            done = subprocess.run(
                [*crmqual_argv(t.config, "x")[:3], *argv], capture_output=True, text=True
            )
            assert done.returncode == 0, done.stderr
        code, out = t.run("check", "--json")
        report = json.loads(out)
        assert code == 0, out
        names = t.output_names()
        found = {i["item"].removeprefix("output field "): i for i in report["items"]}
        for api_name, label in names.items():
            assert found[api_name]["status"] == "ok"
            assert label in found[api_name]["detail"], found[api_name]

        code, full = t.sync()
        assert (code, full["read"], full["written"], full["failed"]) == (0, ACCOUNTS, ACCOUNTS, 0)
        assert outputs(t) == reference
        written = {name for w in t.ours() for name in w.changes}
        assert written <= set(names), written - set(names)

        # The next run's watermark is this run's start as the CRM's Date says it (whole
        # seconds, rounded down) less the adapter's 1 s overlap: wait past both, so the full
        # run's own writes lie before the window the third run re-reads.
        time.sleep(2.1)
        code, second = t.sync()
        assert (code, second["written"]) == (0, 0), second

        revenue = t.box.field("营业收入(万元)").api_name
        someone = next(r["_id"] for r in t.box.records() if r.get(revenue))
        wan = t.box.record(someone)[revenue]
        code, out = t.run("history", someone, "--json")
        assessed = json.loads(out.splitlines()[0])
        assert assessed["inputs"]["revenue"] == pytest.approx(wan * 10_000, abs=0.01)  # 元

        t.box.hand_edit(someone, {revenue: round(wan * 3, 6)})  # a salesperson's edit
        code, third = t.sync()
        assert code == 0 and 1 <= third["read"] < ACCOUNTS, third

        # a downgrade: the account's credit record turns bad; one follow-up for its owner
        before = {r["_id"] for r in t.box.records(FOLLOWUP)}
        worse = {t.box.field(label).api_name: n for label, n in BAD_CREDIT.items()}
        good = next(r for r in t.box.records() if outputs(t)[r["_id"]]["风险等级"][:1] in "AB")
        t.box.hand_edit(good["_id"], worse)
        code, fourth = t.sync()
        assert code == 0, fourth
        made = [r for r in t.box.records(FOLLOWUP) if r["_id"] not in before]
        assert made and {r["account_id"] for r in made} == {good["_id"]}
        assert all(r["owner"] == good["owner"] for r in made)
        markers = [r["name"].rsplit("[crmqual:", 1)[1] for r in made]
        assert len(set(markers)) == len(made)  # one per event (the downgrade, each new flag)
        assert t.sync()[0] == 0
        assert len(list(t.box.records(FOLLOWUP))) == len(before) + len(made)


def test_sigkill_mid_sync_then_resume_writes_each_record_once(
    tmp_path: Path, reference: dict[str, dict[str, Any]]
) -> None:
    with tenant(tmp_path, rate=40) as t:  # 40 updates a second: the kill lands mid-run
        t.add_fields_by_hand()
        proc = t.spawn("sync", "--as-of", AS_OF)
        wait_for_writes(t, 20, proc)
        assert proc.poll() is None, "the sync ended before the kill"
        proc.kill()
        proc.wait(timeout=30)
        landed = len({w.record_id for w in t.ours()})
        assert 0 < landed < ACCOUNTS
        codes = []
        while not codes or (codes[-1] != 0 and len(codes) < 3):
            codes.append(t.sync()[0])
        assert codes[-1] == 0, codes
        written = Counter(w.record_id for w in t.ours())
        assert len(written) == ACCOUNTS, "a record was lost"
        assert not [k for k, n in written.items() if n > 1], "a record was written twice"
        assert outputs(t) == reference


def test_flaky_faults_and_reruns_end_where_a_fault_free_run_does(
    tmp_path: Path, reference: dict[str, dict[str, Any]]
) -> None:
    with tenant(tmp_path, faults="flaky", fault_seed=11) as t:
        t.add_fields_by_hand()
        codes = []
        while not codes or (codes[-1] != 0 and len(codes) < 6):
            codes.append(t.sync()[0])
        assert codes[-1] == 0, codes
        assert outputs(t) == reference
        written = {name for w in t.ours() for name in w.changes}
        assert written <= set(t.output_names())
