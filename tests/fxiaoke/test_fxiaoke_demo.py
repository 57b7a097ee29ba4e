"""`crmqual demo --crm fxiaoke`: the whole story on the Fxiaoke sandbox, the admin's manual
field creation done through the sandbox's console action and said so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from crmqual.cli.main import main
from crmqual.sandbox.fxiaoke.backend import FxiaokeSandbox

pytestmark = pytest.mark.slow


def test_demo_on_fxiaoke_creates_the_fields_by_hand_and_syncs_twice(tmp_path: Path) -> None:
    args = ["demo", "--crm", "fxiaoke", "--accounts", "300", "--dir", str(tmp_path)]
    result = CliRunner().invoke(main, [*args, "--json"])
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    first, second = report["first"], report["second"]
    assert (first["status"], first["read"], first["written"], first["failed"]) == (
        "ok",
        300,
        300,
        0,
    )
    assert (second["status"], second["written"]) == ("ok", 0)
    assert all(n > 0 for n in report["grades"].values()), report["grades"]
    assert sum(report["grades"].values()) == 300
    box = FxiaokeSandbox(tmp_path / "sandbox.sqlite")
    grade = box.field("风险等级")
    assert grade.api_name.startswith("field_") and grade.api_name.endswith("__c")
    box.close()


def test_demo_on_fxiaoke_speaks_chinese(tmp_path: Path) -> None:
    args = ["demo", "--crm", "fxiaoke", "--lang", "zh", "--accounts", "60", "--dir", str(tmp_path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "纷享销客 (Fxiaoke) 的 API 不能创建字段：演示代替管理员在后台操作" in out
    assert "风险等级 → field_" in out
    assert "第二次同步: 读取 60 · 写入 0" in out
    assert "销售人员现在在客户上看到的评级" in out


def test_demo_on_fxiaoke_is_chinese_unless_asked_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 18: Chinese by default for Fxiaoke (the language its `crmqual init` template
    names), English on request; Zoho's demo stays English."""
    monkeypatch.delenv("CRMQUAL_LANG", raising=False)
    base = ["demo", "--accounts", "40"]
    chinese = CliRunner().invoke(main, [*base, "--crm", "fxiaoke", "--dir", str(tmp_path / "a")])
    assert chinese.exit_code == 0, chinese.stderr
    assert "本地 纷享销客" in chinese.stdout and "第一次同步" in chinese.stdout
    english = CliRunner().invoke(
        main, [*base, "--crm", "fxiaoke", "--lang", "en", "--dir", str(tmp_path / "b")]
    )
    assert english.exit_code == 0, english.stderr
    assert "companies in a local" in english.stdout and "first sync" in english.stdout
    zoho = CliRunner().invoke(main, [*base, "--dir", str(tmp_path / "c")])
    assert zoho.exit_code == 0, zoho.stderr
    assert "companies in a local Zoho CRM sandbox" in zoho.stdout
