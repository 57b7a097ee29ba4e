"""`crmqual report`: from a state store URL or from crmqual.yaml, --json, --run, --since,
errors; and the Zoho adapter's record links."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from report_portfolio import SEVERITIES, TARGET, Book

from crmqual.cli.main import main
from crmqual.report import build_report
from crmqual.state import StateStore

REPO = Path(__file__).resolve().parents[2]


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_report_from_a_state_url_as_json(
    state_url: str, store: StateStore, book: Book, tmp_path: Path
) -> None:
    out = tmp_path / "pages" / "book.html"
    code, stdout, stderr = invoke("report", "--state", state_url, "--out", str(out), "--json")
    assert code == 0, stderr
    figures = json.loads(stdout)  # one JSON object, nothing else
    assert figures["html"] == str(out)
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.count('<svg class="plot"') == 8
    assert "http://" not in page.replace("http://www.w3.org/", "")  # nothing to fetch
    expected = build_report(store, TARGET, severities=SEVERITIES)
    assert figures["meta"]["target"] == TARGET
    grades: dict[str, int] = {}
    for row in figures["portfolio"]:
        grades[row["grade"]] = grades.get(row["grade"], 0) + row["accounts"]
    assert grades == expected.grade_counts()
    assert figures["migration"] == [
        {"previous": m.previous, "current": m.current, "accounts": m.accounts}
        for m in expected.migration
    ]
    assert figures["psi"] is None  # the policy lab's, not computed here


def test_run_and_since_and_errors(state_url: str, book: Book, tmp_path: Path) -> None:
    out = str(tmp_path / "r.html")
    code, stdout, _ = invoke("report", "--state", state_url, "--out", out, "--run", "1", "--json")
    assert code == 0
    assert json.loads(stdout)["meta"]["run_id"] == 1
    code, stdout, _ = invoke(
        "report", "--state", state_url, "--out", out, "--since", "2000-01-01", "--json"
    )
    assert code == 0
    assert json.loads(stdout)["meta"]["previous_run_id"] is None
    code, _, stderr = invoke("report", "--state", state_url, "--out", out, "--run", "99")
    assert code == 2 and "no run 99" in stderr
    code, _, stderr = invoke("report", "--state", state_url, "--since", "last week", "--lang", "zh")
    assert code == 2 and "不是 ISO 日期" in stderr


def test_empty_store_says_to_sync_first(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    code, _, stderr = invoke("report", "--state", url, "--out", str(tmp_path / "r.html"))
    assert code == 2 and "run a sync first" in stderr
    assert not (tmp_path / "r.html").exists()


def test_report_from_crmqual_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(REPO / "examples" / "accounts.csv", tmp_path / "accounts.csv")
    assert invoke("init", "--crm", "file")[0] == 0
    assert invoke("provision")[0] == 0
    assert invoke("sync", "--as-of", "2026-06-30")[0] in (0, 1)
    code, stdout, stderr = invoke("report", "--lang", "zh")
    assert code == 0, stderr
    assert "报告已写入" in stdout
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page and "信用组合报告" in page
    code, stdout, _ = invoke("report", "--json", "--out", "again.html")
    figures = json.loads(stdout)
    assert sum(r["accounts"] for r in figures["portfolio"]) > 0
    assert all(a["url"] is None for a in figures["top"])  # a file has no record pages


def test_zoho_links_to_the_record_in_its_data_centre() -> None:
    from crmqual.adapters.zoho.adapter import ZohoAdapter
    from crmqual.adapters.zoho.config import ZohoConnection

    def adapter(**connection: str) -> ZohoAdapter:
        return ZohoAdapter(
            ZohoConnection(client_id="x", client_secret="y", refresh_token="z", **connection)  # type: ignore[arg-type]
        )

    assert adapter().record_url("123") == "https://crm.zoho.com/crm/tab/Accounts/123"
    eu = adapter(data_centre="eu", module="Leads")
    assert eu.record_url("9/8") == "https://crm.zoho.eu/crm/tab/Leads/9%2F8"
    assert adapter(data_centre="cn").record_url("1") == "https://crm.zoho.com.cn/crm/tab/Accounts/1"
    # a sandbox org, a proxy or a test server: no page to link to
    assert adapter(api_domain="http://127.0.0.1:8080").record_url("1") is None


def test_without_matplotlib_it_says_what_to_install(
    state_url: str, book: Book, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    monkeypatch.delitem(sys.modules, "crmqual.report.page", raising=False)
    monkeypatch.delitem(sys.modules, "crmqual.report.plots", raising=False)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    code, _, stderr = invoke("report", "--state", state_url, "--out", str(tmp_path / "r.html"))
    assert code == 2 and "pip install 'crmqual[report]'" in stderr


def test_a_target_with_runs_but_no_assessment_still_gets_its_page(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    with StateStore(url) as store:
        run = store.start_run(
            "zoho:new",
            mode="full",
            dry_run=False,
            signpost=None,
            policy_version="p",
            mapping_hash="m",
        )
        store.finish_run(run, status="failed", counts={}, watermark=None, summary={})
    out = tmp_path / "r.html"
    code, stdout, stderr = invoke("report", "--state", url, "--out", str(out), "--json")
    assert code == 0, stderr
    assert json.loads(stdout)["portfolio"] == []
    assert out.read_text(encoding="utf-8").count('<svg class="plot"') == 8


def test_the_policy_lab_s_population_stability_is_on_the_page(tmp_path: Path) -> None:
    """Each sync records the PSI of the score against the previous run's snapshot (the
    policy lab); the report shows it per run, in the runs' own figures."""
    folder = tmp_path / "demo"
    done = CliRunner().invoke(main, ["demo", "--dir", str(folder), "--accounts", "60", "--json"])
    assert done.exit_code == 0, done.output
    store = StateStore(f"sqlite:///{folder / 'state.sqlite'}")
    try:
        found = build_report(store, "zoho-demo").psi
    finally:
        store.close()
    assert found is not None
    (second,) = found  # the first run has nothing to compare with
    assert (second["run"], second["compared_with"], second["level"]) == (2, 1, "stable")
    assert float(second["score"]) == 0.0  # the second sync wrote nothing: the same book
    page = (folder / "report.html").read_text("utf-8")
    assert "Population stability of the score" in page and "compared with run" in page
