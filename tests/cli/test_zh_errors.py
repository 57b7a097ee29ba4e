"""`--lang zh` on the error path (issue 14, item 5): what went wrong and what to do next,
in Chinese, for bad configs, policies, inputs and arguments; English stays as it was."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from crmqual.cli.main import main

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "accounts.csv"

#: three English words in a row, outside `code`, “quotes”, 'quotes' and paths
_ENGLISH = re.compile(r"\b[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}\b")
_VERBATIM = re.compile(r"`[^`]*`|'[^']*'|“[^”]*”|\"[^\"]*\"|\S*/\S*")


def english_phrases(text: str) -> list[str]:
    return _ENGLISH.findall(_VERBATIM.sub(" ", text))


def run(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout + result.stderr


BAD_CONFIG = """crm: zoho
connection:
  accounts_url: ftp://accounts.zoho.com
  client_id: ${CRMQUAL_TEST_NOT_SET}
colour: blue
"""

BAD_POLICY = """name: broken
grades: [1]
weights: {}
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRMQUAL_TEST_NOT_SET", raising=False)
    (tmp_path / "bad.yaml").write_text(BAD_CONFIG, encoding="utf-8")
    (tmp_path / "policy.yaml").write_text(BAD_POLICY, encoding="utf-8")
    (tmp_path / "syntax.yaml").write_text("a: [1, 2\n", encoding="utf-8")
    shutil.copy(SAMPLE, tmp_path / "accounts.csv")
    return tmp_path


CASES = {
    "no config": ["sync"],
    "bad config": ["check", "-c", "bad.yaml"],
    "bad policy": ["policy", "check", "policy.yaml"],
    "policy not YAML": ["policy", "check", "syntax.yaml"],
    "policy missing": ["policy", "check", "nowhere.yaml"],
    "input missing": ["assess", "nowhere.csv"],
    "unknown account": ["assess", "accounts.csv", "--explain", "NO-SUCH-ID"],
    "bad as-of": ["assess", "accounts.csv", "--as-of", "yesterday"],
    "json and csv": ["assess", "accounts.csv", "--json", "--csv"],
}


@pytest.mark.parametrize("case", list(CASES))
def test_errors_in_chinese_say_what_and_what_next(folder: Path, case: str) -> None:
    code, out = run([*CASES[case], "--lang", "zh"])
    assert code == 2, out
    assert "错误：" in out, out
    assert "Error:" not in out and "problem(s)" not in out, out
    assert english_phrases(out) == [], out


@pytest.mark.parametrize("case", ["no config", "bad config", "bad policy", "input missing"])
def test_the_same_errors_stay_english_without_lang(folder: Path, case: str) -> None:
    code, out = run(CASES[case])
    assert code == 2
    assert "Error: " in out
    assert not re.search(r"[\u4e00-\u9fff]", out.replace("万元", "")), out


def test_crmqual_lang_environment_chooses_chinese_errors(folder: Path) -> None:
    code, out = run(["check", "-c", "bad.yaml"], env={"CRMQUAL_LANG": "zh"})
    assert code == 2
    assert "不认识的键" in out  # colour: an unknown key
    assert "缺少此项（必填）" in out  # client_secret, refresh_token
    assert "CRMQUAL_TEST_NOT_SET" in out and "环境变量" in out
    assert re.search(r"bad\.yaml:5: colour: ", out), out  # file, line and key as in English


def test_every_problem_names_file_line_and_key_in_chinese(folder: Path) -> None:
    code, out = run(["policy", "check", "policy.yaml", "--lang", "zh"])
    assert code == 2
    assert re.search(r"policy\.yaml:2: grades: 必须各列一次 A、B、C、D、E", out), out
    assert re.search(r"policy\.yaml:3: weights: 不认识的键", out), out


def test_policy_check_json_gives_reasons_in_chinese(folder: Path) -> None:
    import json

    code, out = run(["policy", "check", "policy.yaml", "--json", "--lang", "zh"])
    assert code == 2
    answer = json.loads(out)
    reasons = {p["key"]: p["reason"] for p in answer["problems"]}
    assert reasons["admission"] == "缺少此项（必填）"
    assert reasons["grades"] == "必须各列一次 A、B、C、D、E"


def test_other_errors_in_chinese_lead_with_what_to_do(folder: Path) -> None:
    assert run(["init", "--crm", "file"])[0] == 0
    code, out = run(["revert", "999", "--lang", "zh"])
    assert code == 2
    assert "没有运行 999" in out and "crmqual runs" in out, out
    code, out = run(["history", "nope", "--lang", "zh"])
    assert code == 2
    assert "状态库中没有 nope 的评估" in out, out
    assert english_phrases(out) == [], out


USAGE_CASES = {
    "unknown option": (["sync", "--limt", "3"], "没有选项 --limt；是不是想用 --limit"),
    "missing argument": (["history"], "缺少 'ACCOUNT_ID'"),
    "bad value": (["sync", "--limit", "x"], "'--limit' 的值无效：'x' 不是整数"),
    "out of range": (["sync", "--limit", "0"], "'--limit' 的值无效：0 超出允许的范围（x>=1）"),
    "not a choice": (["init", "--crm", "nope"], "'--crm' 的值无效：'nope' 不是可选值之一："),
    "unknown command": (["nosuch"], "用法不对"),
}


@pytest.mark.parametrize("case", list(USAGE_CASES))
def test_click_usage_errors_in_chinese(folder: Path, case: str) -> None:
    args, said = USAGE_CASES[case]
    code, out = run([*args, "--lang", "zh"])
    assert code == 2
    assert f"错误：{said}" in out, out
    assert "用法：" in out and "--help` 查看所有选项" in out, out
    assert "Usage:" not in out and "Error:" not in out, out
    assert "is not" not in out, out


def test_a_detail_click_words_otherwise_is_quoted_as_it_is() -> None:
    from crmqual.cli.errors import _detail_zh

    assert _detail_zh("'x' is not a valid float range.") == "'x' 不是数字"
    assert _detail_zh("'x' is not 'only'.") == "'x' 不是可选值之一：'only'"
    assert _detail_zh("'x' is not a valid UUID.") == "'x' is not a valid UUID."


def test_click_usage_errors_follow_crmqual_lang_and_stay_english_otherwise(folder: Path) -> None:
    code, out = run(["sync", "--limt", "3"], env={"CRMQUAL_LANG": "zh"})
    assert code == 2 and "没有选项 --limt" in out
    code, out = run(["sync", "--limt", "3"])
    assert code == 2 and "Error: No such option '--limt'" in out and "Usage:" in out
