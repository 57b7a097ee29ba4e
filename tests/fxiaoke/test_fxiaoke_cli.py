"""The Chinese-first admin path for Fxiaoke, in-process: `crmqual init --crm fxiaoke` writes a
config whose language is zh, and provision, check and sync then speak Chinese; check verifies
each output field's options, and a mapping label no field carries fails naming its key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from crmqual.cli.main import main
from crmqual.mapping import load_mapping
from crmqual.sandbox.fxiaoke.backend import FxiaokeSandbox
from crmqual.sandbox.fxiaoke.seed import seed_fxiaoke
from crmqual.sandbox.fxiaoke.settings import FxiaokeSettings

MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "fxiaoke.yaml"


@pytest.fixture
def tenant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FxiaokeSandbox]:
    """A seeded tenant answering on the legacy host, and `crmqual init --crm fxiaoke`'s
    config in the working folder (secrets in the environment, a state store beside it)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRMQUAL_LANG", raising=False)
    monkeypatch.delenv("CRMQUAL_CONFIG", raising=False)
    box = FxiaokeSandbox(tmp_path / "fx.db", settings=FxiaokeSettings(rate_per_second=0))
    seed_fxiaoke(box.store, 12, seed=2, workers=0)
    with box.inprocess() as creds:
        for name, value in {
            "FXIAOKE_APP_ID": creds.app_id,
            "FXIAOKE_APP_SECRET": creds.app_secret,
            "FXIAOKE_PERMANENT_CODE": creds.permanent_code,
            "FXIAOKE_EMPLOYEE_ID": creds.employee_id,
        }.items():
            monkeypatch.setenv(name, value)
        assert run("init", "--crm", "fxiaoke").exit_code == 0
        with Path("crmqual.yaml").open("a", encoding="utf-8") as f:
            f.write("state: sqlite:///state.sqlite\n")
        yield box
    box.close()


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def by_hand(box: FxiaokeSandbox, *, grades: str = "ABCDE") -> None:
    """What the admin creates in the console, from the shipped mapping's outputs."""
    result = run("provision", "--json")
    assert result.exit_code == 0, result.output
    for f in yaml.safe_load(result.output)["manual_fields"]:
        options = f["options"]
        if f["label_zh"] == "风险等级":
            options = [o for o in options if o[0] in grades]
        box.add_field(
            f["label_zh"], f["crm_type"], options, decimals=0 if f["type"] == "integer" else None
        )


def test_init_writes_a_chinese_config_and_commands_speak_chinese(tenant: FxiaokeSandbox) -> None:
    config = yaml.safe_load(Path("crmqual.yaml").read_text("utf-8"))
    assert config["crm"] == "fxiaoke" and config["lang"] == "zh"
    provision = run("provision")
    assert provision.exit_code == 0, provision.output
    assert "在后台新建“单选”字段（select_one），放在“信用与资质”分区" in provision.output
    assert "“Risk Grade” / “风险等级” [A – 风险很低" in provision.output
    sync = run("sync")
    assert sync.exit_code == 2 and "CRM 中缺少输出字段" in sync.output
    by_hand(tenant)
    check = run("check")
    assert check.exit_code == 0, check.output
    assert "通过" in check.output and "按标签找到" in run("check", "-v").output
    done = run("sync")
    assert done.exit_code == 0, done.output
    assert "crmqual sync：成功" in done.output and "写入 12" in done.output
    assert "crmqual sync: ok" in run("sync", "--lang", "en").output


def test_check_names_missing_options_and_sync_writes_nothing(tenant: FxiaokeSandbox) -> None:
    by_hand(tenant, grades="ABC")
    check = run("check", "--lang", "en")
    assert check.exit_code == 2, check.output
    assert "options missing: D – 风险较高, E – 风险很高" in check.output
    assert "缺少选项：D – 风险较高, E – 风险很高" in run("check").output


def test_an_input_label_no_field_carries_is_named(tenant: FxiaokeSandbox, tmp_path: Path) -> None:
    mapping = load_mapping(MAPPING, "fxiaoke")[0].model_dump(mode="json", exclude_none=True)
    mapping["inputs"]["revenue"]["label"] = "营业总收入(万元)"
    Path("mapping.yaml").write_text(yaml.safe_dump(mapping, allow_unicode=True), "utf-8")
    with Path("crmqual.yaml").open("a", encoding="utf-8") as f:
        f.write("mapping: mapping.yaml\n")
    check = run("check", "--lang", "en")
    assert check.exit_code == 2
    assert (
        "inputs.revenue.label: no field labelled “营业总收入(万元)” in AccountObj" in check.output
    )
    assert not [w for w in tenant.write_log() if w.client.startswith("crmqual/")]


def test_sync_before_the_fields_exist_says_to_create_them_in_the_console(
    tenant: FxiaokeSandbox,
) -> None:
    """Provision cannot create Fxiaoke's fields, so a sync before the admin did says to create
    them in the console as provision lists them, naming them by their Chinese labels."""
    result = run("sync")
    assert result.exit_code == 2
    assert "[风险等级]" in result.stderr and "[Risk Grade]" not in result.stderr
    assert "后台创建" in result.stderr and "crmqual check" in result.stderr
    english = run("sync", "--lang", "en")
    assert "[Risk Grade]" in english.stderr and "console" in english.stderr
