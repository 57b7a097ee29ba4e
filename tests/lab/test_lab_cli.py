"""The policy lab end to end on a seeded sandbox portfolio (`crmqual demo`): policy diff of
the default against a stricter policy, outcomes imported from a GBK CSV with bad rows, a
backtest of both side by side, and a prune after which the same backtest gives the same
figures."""

from __future__ import annotations

import csv
import gc
import io
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner
from portfolio import strict_policy_text

from crmqual.backtest import stored_account
from crmqual.cli.assess import parse_as_of
from crmqual.cli.main import main
from crmqual.collector import RUN_THRESHOLDS
from crmqual.compiled import compiled
from crmqual.policy import GRADES, load_policy
from crmqual.state import AssessmentIn, StateStore
from crmqual.whatif import Comparison

pytestmark = pytest.mark.slow

AS_OF = "2025-12-31"  # the demo's syncs assess as of this date
TARGET = "zoho-demo"


@dataclass
class Lab:
    folder: Path
    config: Path
    strict: Path

    def run(self, *args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(main, [*args, "-c", str(self.config)])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        return result.exit_code, result.stdout, result.stderr

    def store(self) -> StateStore:
        return StateStore(f"sqlite:///{self.folder / 'state.sqlite'}")


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    folder = tmp_path_factory.mktemp("lab")
    args = ["demo", "--accounts", "1200", "--as-of", AS_OF, "--json", "--dir", str(folder)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 1), result.stderr  # a few seeded founding dates lie after
    config = folder / "crmqual.yaml"
    config.write_text(
        f"crm: file\ntarget: {TARGET}\nstate: sqlite:///state.sqlite\n"
        "connection: {input: accounts.csv, output: outputs.csv}\n",
        encoding="utf-8",
    )
    strict = folder / "strict.yaml"
    strict.write_text(strict_policy_text(), encoding="utf-8")
    yield Lab(folder, config, strict)


GRADE_MAP = {"type": "object", "required": list(GRADES), "additionalProperties": False}
COUNT = {"type": "integer", "minimum": 0}
COUNTS_BY_GRADE = {**GRADE_MAP, "properties": dict.fromkeys(GRADES, COUNT)}
DIFF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "accounts",
        "changed",
        "migration",
        "migration_exposure",
        "limits",
        "admission",
        "terms",
        "flags",
        "most_affected",
        "old",
        "new",
    ],
    "properties": {
        "accounts": {"type": "integer", "minimum": 0},
        "changed": {"type": "integer", "minimum": 0},
        "migration": {
            **GRADE_MAP,
            "properties": {g: COUNTS_BY_GRADE for g in GRADES},
        },
        "limits": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["before", "after", "raised", "cut", "raised_by", "cut_by"],
                "additionalProperties": {"type": "integer", "minimum": 0},
            },
        },
        "flags": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "required": ["appear", "vanish"],
                "properties": {"appear": COUNT, "vanish": COUNT},
                "additionalProperties": False,
            },
        },
        "most_affected": {
            "type": "array",
            "maxItems": 20,
            "items": {
                "type": "object",
                "required": ["id", "old", "new"],
                "properties": {
                    side: {
                        "type": "object",
                        "required": ["status", "grade", "score", "credit_limit", "reasons"],
                    }
                    for side in ("old", "new")
                },
            },
        },
    },
}


def test_policy_diff_default_against_stricter(lab: Lab) -> None:
    code, out, err = lab.run(
        "policy", "diff", "default", str(lab.strict), "--as-of", AS_OF, "--json"
    )
    assert code == 0, err
    answer = json.loads(out)
    jsonschema.validate(answer, DIFF_SCHEMA)
    with lab.store() as store:
        portfolio = store.portfolio(TARGET)
    assert answer["accounts"] == len(portfolio) > 1000
    assert sum(sum(row.values()) for row in answer["migration"].values()) == answer["accounts"]
    exposure: dict[str, float] = {}
    for row in portfolio:
        if row.account.get("current_exposure") is not None:
            ccy = row.account["currency"]
            exposure[ccy] = exposure.get(ccy, 0.0) + row.account["current_exposure"]
    assert answer["exposure"].keys() == exposure.keys()
    for ccy, total in exposure.items():
        cells = sum(
            cell.get(ccy, 0.0)
            for row in answer["migration_exposure"].values()
            for cell in row.values()
        )
        assert cells == pytest.approx(total) and answer["exposure"][ccy] == pytest.approx(total)
    assert 0 < answer["changed"] < answer["accounts"]
    for ccy, limits in answer["limits"].items():  # stricter: limits only cut
        assert limits["raised"] == 0 and limits["after"] <= limits["before"], ccy
        assert limits["before"] - limits["after"] == limits["cut_by"]
    assert len(answer["most_affected"]) == 20
    first = answer["most_affected"][0]
    assert first["old"]["reasons"] and first["new"]["reasons"]
    # the kept Accounts it compares are the stored inputs, validated again
    old, new = compiled(load_policy()), compiled(load_policy(lab.strict))
    again = Comparison(old, new, parse_as_of(AS_OF))
    for row in portfolio:
        again.assess(stored_account(row.account))
    figures = {k: v for k, v in again.as_json().items() if k not in ("old", "new")}
    assert len(figures) > 10
    assert figures == {k: v for k, v in answer.items() if k in figures}
    # the stored grades came from the default policy as of AS_OF: it reproduces them
    stored = {r.account_id: r.outputs["grade"] for r in portfolio}
    counts = {g: sum(1 for v in stored.values() if v == g) for g in GRADES}
    assert {g: sum(answer["migration"][g].values()) for g in GRADES} == counts

    code, out, _ = lab.run("policy", "diff", "default", "default", "--as-of", AS_OF, "--json")
    same = json.loads(out)
    assert code == 0 and same["changed"] == 0 and same["most_affected"] == []
    assert all(same["migration"][g][h] == 0 for g in GRADES for h in GRADES if g != h)

    code, out, _ = lab.run("policy", "diff", "default", str(lab.strict), "--as-of", AS_OF, "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(rows) == answer["accounts"]
    assert sum(r["changed"] == "yes" for r in rows) == answer["changed"]

    code, out, _ = lab.run("policy", "diff", "default", str(lab.strict), "--as-of", AS_OF)
    assert code == 0 and "Grade migration" in out and "Most affected" in out
    code, out, _ = lab.run(
        "policy", "diff", "default", str(lab.strict), "--as-of", AS_OF, "--lang", "zh"
    )
    assert code == 0 and "评级迁移" in out and "受影响最大的客户" in out


def outcomes_file(lab: Lab) -> tuple[Path, int, set[str]]:
    """Outcomes that follow the stored grades (worse grade, more defaults), in GBK with
    Chinese outcome names, and four bad rows; (file, good rows, accounts that went bad)."""
    rng = random.Random(5)
    chance = dict(zip(GRADES, (0.02, 0.05, 0.12, 0.3, 0.5), strict=True))
    with lab.store() as store:
        portfolio = store.portfolio(TARGET)
    lines, bad = ["id,date,outcome"], set()
    for row in portfolio:
        if rng.random() < chance[row.outputs["grade"]]:
            kind = rng.choice(["违约", "逾期90天以上", "written off"])
            lines.append(f"{row.account_id},2026/3/{rng.randint(1, 28)},{kind}")
            bad.add(row.account_id)
        elif rng.random() < 0.3:
            lines.append(f"{row.account_id},2026年6月30日,正常还款")
    good = len(lines) - 1
    lines += [
        "X1,2026-02-30,defaulted",
        "X2,2026-02-01,maybe",
        "X3,,defaulted",
        "X4,2099-01-01,defaulted",
    ]
    path = lab.folder / "outcomes.csv"
    path.write_bytes(("\n".join(lines) + "\n").encode("gbk"))
    return path, good, bad


def backtest(lab: Lab) -> dict[str, Any]:
    code, out, err = lab.run(
        "policy", "backtest", "default", "--against", str(lab.strict),
        "--as-of", AS_OF, "--window", "6m", "--json",
    )  # fmt: skip
    assert code == 0, err
    return dict(json.loads(out))


def test_outcomes_backtest_and_prune(lab: Lab) -> None:
    path, good, went_bad = outcomes_file(lab)
    code, out, err = lab.run("outcomes", "import", str(path))
    assert code == 1  # some rows were not read; the others were recorded
    assert out.startswith(f"{good} outcome(s) recorded, 0 already recorded, 4 row(s) not read")
    total = len(path.read_bytes().splitlines())
    for line, why in (
        (total - 3, "no such date"),
        (total - 2, "'maybe' is not one of"),
        (total - 1, "no date"),
        (total, "lies in the future"),
    ):
        assert f"line {line} (id X{line - total + 4}): " in err and why in err
    code, out, _ = lab.run("outcomes", "import", str(path), "--json")
    again = json.loads(out)
    assert (again["recorded"], again["already_recorded"], len(again["bad_rows"])) == (0, good, 4)
    code, out, _ = lab.run("outcomes", "list", "--json")
    listed = [json.loads(line) for line in out.splitlines()]
    assert len(listed) == good and all(o["assessment_id"] is not None for o in listed)
    assert {o["id"] for o in listed if o["outcome"] != "paid_as_agreed"} == went_bad

    # A later sync in the same month changed some accounts: their December rows are now
    # superseded, and prune would delete them, but for the backtest that scores them.
    with lab.store() as store:
        later = datetime(2025, 12, 31, 18, tzinfo=UTC)
        run = store.start_run(
            TARGET, mode="incremental", dry_run=False, signpost=later, policy_version="p",
            mapping_hash="m",
        )  # fmt: skip
        changed = store.portfolio(TARGET)[:50]
        store.record_pending(
            run,
            TARGET,
            [
                AssessmentIn(r.account_id, later, r.account | {"overdue_max_days": 200},
                             r.outputs, {}, {}, "p", "E", [])
                for r in changed
            ],
        )  # fmt: skip
        store.mark_written(TARGET, [r.account_id for r in changed], run_id=run)
        store.finish_run(run, status="ok", counts={}, watermark=None, summary={})
    code, out, _ = lab.run("prune", "--older-than", "0", "--dry-run", "--json")
    with_outcome = {o["id"] for o in listed}  # an outcome keeps the row it is tied to
    loose = [r for r in changed if r.account_id not in with_outcome]
    assert 0 < len(loose) < 50
    assert json.loads(out)["to_delete"] == len(loose)

    first = backtest(lab)
    assert first["accounts"] > 1000 and first["bad"] == len(went_bad)
    default, strict = first["policies"]
    assert default["policy_version"].startswith("crmqual-default@")
    assert strict["policy_version"].startswith("strict@")
    for figures in (default, strict):
        assert 0.6 < figures["auc"] <= 1.0 and figures["gini"] == pytest.approx(
            2 * figures["auc"] - 1
        )
        assert 0 < figures["ks"] <= 1
        assert sum(g["count"] for g in figures["grades"].values()) == first["accounts"]
    # the stricter policy puts more of the bad accounts into D-E
    assert strict["bad_caught_de"] > default["bad_caught_de"]

    code, out, _ = lab.run("prune", "--older-than", "0", "--json")
    assert code == 0 and json.loads(out)["deleted"] == 0  # the backtest refers to the rest
    second = backtest(lab)
    assert second["policies"] == first["policies"]
    assert second["backtest_id"] == first["backtest_id"] + 1

    code, out, _ = lab.run(
        "policy", "backtest", "default", "--against", str(lab.strict),
        "--as-of", AS_OF, "--window", "6m", "--lang", "zh",
    )  # fmt: skip
    assert code == 0 and "回测" in out and "基尼系数" in out and "校准" in out
    # the diff reads the newest rows: the 50 accounts' later inputs
    code, out, _ = lab.run("policy", "diff", "default", "default", "--json")
    assert json.loads(out)["accounts"] == first["accounts"]


def test_policy_diff_on_a_file_needs_no_state_store(tmp_path: Path) -> None:
    strict = tmp_path / "strict.yaml"
    strict.write_text(strict_policy_text(), encoding="utf-8")
    sample = Path(__file__).resolve().parents[2] / "examples" / "accounts.csv"
    lines = sample.read_text("utf-8").splitlines()
    broken = tmp_path / "accounts.csv"  # GBK, with a row of the wrong width
    broken.write_bytes("\n".join([*lines, "ACC-999,坏行"]).encode("gbk"))
    args = ["policy", "diff", "default", str(strict), "--as-of", "2026-06-30"]
    result = CliRunner().invoke(main, [*args, "--input", str(sample), "--json"])
    assert result.exit_code == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["accounts"] == len(lines) - 1 and answer["changed"] > 0
    result = CliRunner().invoke(main, [*args, "--input", str(broken), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["accounts"] == len(lines) - 1
    assert f"line {len(lines) + 1}" in result.stderr and "ACC-999" in result.stderr


@pytest.mark.parametrize(
    ("lang", "said"), [("en", "run `crmqual sync` first"), ("zh", "请先运行 `crmqual sync`")]
)
def test_policy_diff_on_a_store_without_written_assessments_says_to_sync_first(
    tmp_path: Path, lang: str, said: str
) -> None:
    config = tmp_path / "crmqual.yaml"
    config.write_text(
        f"crm: file\ntarget: {TARGET}\nstate: sqlite:///{tmp_path / 'state.sqlite'}\n"
        "connection: {input: accounts.csv, output: outputs.csv}\n",
        encoding="utf-8",
    )
    args = ["policy", "diff", "default", "default", "-c", str(config), "--lang", lang]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert said in result.stderr and TARGET in result.stderr and result.stdout == ""


def test_policy_diff_on_a_fresh_read_of_the_crm(tmp_path: Path, monkeypatch: Any) -> None:
    """--read compares the accounts as the CRM holds them now: through the configured
    adapter (here the file adapter), the same figures as the file itself gives."""
    monkeypatch.chdir(tmp_path)
    strict = tmp_path / "strict.yaml"
    strict.write_text(strict_policy_text(), encoding="utf-8")
    sample = Path(__file__).resolve().parents[2] / "examples" / "accounts.csv"
    (tmp_path / "accounts.csv").write_bytes(sample.read_bytes())
    (tmp_path / "crmqual.yaml").write_text(
        "crm: file\nconnection: {input: accounts.csv, output: out.csv}\n"
        "state: sqlite:///state.sqlite\n",
        encoding="utf-8",
    )
    args = ["policy", "diff", "default", str(strict), "--as-of", "2026-06-30", "--json"]
    fresh = CliRunner().invoke(main, [*args, "--read"])
    assert fresh.exit_code == 0, fresh.stderr
    from_file = CliRunner().invoke(main, [*args, "--input", "accounts.csv"])
    read, filed = json.loads(fresh.stdout), json.loads(from_file.stdout)
    assert read["accounts"] == filed["accounts"] > 0
    assert read["migration"] == filed["migration"] and read["changed"] == filed["changed"]
    assert read["source"].startswith("a fresh read of ")
    assert not (tmp_path / "out.csv").exists()  # nothing written
    both = CliRunner().invoke(main, [*args, "--read", "--input", "accounts.csv"])
    assert both.exit_code == 2 and "--read" in both.stderr


def test_outcomes_read_from_the_crm_field_the_mapping_names(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """`outcomes read`: the outcome words a CRM field holds (here a column the file adapter
    reads), dated by the mapping's date field; a word that is no outcome is reported with its
    record's id and the others are recorded, once."""
    monkeypatch.chdir(tmp_path)
    repo = Path(__file__).resolve().parents[2]
    rows = list(csv.DictReader(io.StringIO((repo / "examples" / "accounts.csv").read_text())))
    words = {0: ("违约", "2026-03-05"), 1: ("paid as agreed", "2026/3/6"), 2: ("maybe", "")}
    for n, row in enumerate(rows):
        row["Collection"], row["Collection_Date"] = words.get(n, ("", ""))
    with (tmp_path / "accounts.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    mapping = (repo / "mappings" / "file.yaml").read_text("utf-8")
    mapping += "\noutcomes: {field: Collection, date_field: Collection_Date}\n"
    (tmp_path / "mapping.yaml").write_text(mapping, encoding="utf-8")
    (tmp_path / "crmqual.yaml").write_text(
        "crm: file\nconnection: {input: accounts.csv, output: out.csv}\n"
        "mapping: mapping.yaml\nstate: sqlite:///state.sqlite\n",
        encoding="utf-8",
    )
    first = CliRunner().invoke(main, ["outcomes", "read", "--json"])
    assert first.exit_code == 1, first.stderr
    answer = json.loads(first.stdout)
    assert answer["recorded"] == 2 and answer["already_recorded"] == 0
    assert [b["id"] for b in answer["bad_records"]] == [rows[2]["id"]]
    assert "'maybe'" in first.stderr
    again = json.loads(CliRunner().invoke(main, ["outcomes", "read", "--json"]).stdout)
    assert (again["recorded"], again["already_recorded"]) == (0, 2)
    listed = [
        json.loads(line)
        for line in CliRunner().invoke(main, ["outcomes", "list", "--json"]).stdout.splitlines()
    ]
    assert {(o["id"], o["outcome"], o["date"]) for o in listed} == {
        (rows[0]["id"], "defaulted", "2026-03-05"),
        (rows[1]["id"], "paid_as_agreed", "2026-03-06"),
    }
    assert not (tmp_path / "out.csv").exists()


def test_outcomes_read_without_an_outcome_field_says_what_to_add(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.chdir(tmp_path)
    sample = Path(__file__).resolve().parents[2] / "examples" / "accounts.csv"
    (tmp_path / "accounts.csv").write_bytes(sample.read_bytes())
    (tmp_path / "crmqual.yaml").write_text(
        "crm: file\nconnection: {input: accounts.csv, output: out.csv}\n"
        "state: sqlite:///state.sqlite\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["outcomes", "read", "--lang", "zh"])
    assert result.exit_code == 2 and "outcomes: {field:" in result.stderr


def test_the_lab_reads_the_portfolio_with_the_runs_collector_settings(
    lab: Lab, monkeypatch: Any
) -> None:
    """policy diff and backtest work through the whole portfolio: they run with fewer collector
    passes, as a sync does (``crmqual.collector``), and leave the caller's settings (policy
    fit too: ``test_fit.py``)."""
    seen: list[tuple[int, int, int]] = []
    read = StateStore.iter_portfolio  # diff streams it, backtest lists it (``portfolio``)

    def iter_portfolio(self: StateStore, *args: Any, **kwargs: Any) -> Any:
        seen.append(gc.get_threshold())
        return read(self, *args, **kwargs)

    monkeypatch.setattr(StateStore, "iter_portfolio", iter_portfolio)
    before = gc.get_threshold()
    code, _, _ = lab.run("policy", "diff", "default", str(lab.strict), "--json")
    assert code == 0
    code, _, _ = lab.run("policy", "backtest", "default", "--as-of", AS_OF, "--json")
    assert code == 0
    assert seen == [RUN_THRESHOLDS, RUN_THRESHOLDS]
    assert gc.get_threshold() == before
