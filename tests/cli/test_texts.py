"""Admin-facing texts (issue 14, item 5): every option has help, `--lang zh` leaves no
English label of the catalogue behind, every reporting command has `--json`, and
$CRMQUAL_LANG chooses the language unless --lang does."""

from __future__ import annotations

import html
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from crmqual.cli.main import main
from crmqual.texts import CATALOGUE, amount, pct

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "accounts.csv"


def walk(command: click.Command, path: str = "crmqual") -> Iterator[tuple[str, click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from walk(sub, f"{path} {name}")


def test_every_option_of_every_command_has_help() -> None:
    missing = [
        f"{path} {'/'.join(p.opts)}"
        for path, command in walk(main)
        for p in command.params
        if isinstance(p, click.Option) and not (p.help or "").strip()
    ]
    assert missing == []


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def org(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A file-adapter crmqual.yaml next to the sample accounts, synced once."""
    monkeypatch.chdir(tmp_path)
    shutil.copy(SAMPLE, tmp_path / "accounts.csv")
    assert invoke("init", "--crm", "file")[0] == 0
    return tmp_path / "crmqual.yaml"


#: English labels too short or too plain to scan for without matching data (ids, codes).
_PLAIN = {"id", "name", "ok", "run", "kind", "read", "none", "sync", "full", "low", "high"}


def english_labels() -> list[str]:
    """The English side of every catalogue pair, without placeholders, that the Chinese
    side does not share (commands such as `crmqual sync --dry-run` read the same)."""
    found = set()
    for en, zh in CATALOGUE.values():
        for part in re.split(r"\{[^}]*\}|`[^`]*`", en):
            part = part.strip(" :,.()·-")
            if (
                len(part) >= 4
                and part not in zh
                and part not in _PLAIN
                and re.search("[a-z]", part)
            ):
                found.add(part)
    return sorted(found)


#: What the output quotes from the CRM and the policy: field labels (“Credit limit”), codes
#: and values ('approved', [A, B, ...]), field names (crmqual_status) and input dumps.
_QUOTED = re.compile(r"“[^”]*”|\"[^\"]*\"|'[^']*'|\[[^\]]*\]|\b\w+_\w+\b|\w+=\S+")


def assert_no_english(output: str) -> None:
    output = _QUOTED.sub("", output)
    leftovers = [
        label
        for label in english_labels()
        if re.search(rf"(?<![\w_]){re.escape(label)}(?![\w_])", output)
    ]
    lines = [line for line in output.splitlines() if any(x in line for x in leftovers)]
    assert leftovers == [], "\n".join([*leftovers, *lines])


def test_zh_output_of_each_admin_command_has_no_english_label(org: Path) -> None:
    outputs = []
    for args in (
        ("assess", str(SAMPLE), "--as-of", "2026-06-30"),
        ("assess", str(SAMPLE), "--explain", "ACC-004", "--as-of", "2026-06-30"),
        ("check", "-v"),
        ("provision", "--dry-run"),
        ("provision",),
        ("sync", "--dry-run", "--as-of", "2026-06-30"),
        ("sync", "--as-of", "2026-06-30"),
        ("sync", "--as-of", "2026-06-30"),
        ("runs",),
        ("history", "ACC-004"),
        ("revert", "2", "--dry-run"),
        ("revert", "1", "--dry-run"),
        ("prune", "--older-than", "0", "--dry-run"),
        ("report", "--out", "report-zh.html"),
        ("policy", "check", str(REPO / "src/crmqual/data/default_policy.yaml")),
    ):
        code, out, err = invoke(*args, "--lang", "zh")
        assert code in (0, 1), (args, out, err)
        outputs.append(out + err)
    assert_no_english("\n".join(outputs))


def test_zh_report_page_has_no_english_label(org: Path) -> None:
    """The report page in Chinese: its text and its plots' text (SVG text stays text)."""
    assert invoke("provision")[0] == 0
    assert invoke("sync", "--as-of", "2026-06-30")[0] in (0, 1)
    assert invoke("report", "--lang", "zh", "--out", "zh.html")[0] == 0
    page = (org.parent / "zh.html").read_text(encoding="utf-8")
    page = re.sub(r"<style>.*?</style>|<code>.*?</code>|<[^>]+>", " ", page, flags=re.S)
    assert "信用组合报告" in page and "评级迁移" in page
    assert_no_english(html.unescape(page))


def test_crmqual_lang_chooses_the_language_and_the_option_wins(org: Path) -> None:
    _, out, _ = invoke("check", env={"CRMQUAL_LANG": "zh"})
    assert "下一步" in out
    _, out, _ = invoke("check", "--lang", "en", env={"CRMQUAL_LANG": "zh"})
    assert "next:" in out and "下一步" not in out


def test_every_reporting_command_has_json(org: Path) -> None:
    policy_file = str(REPO / "src/crmqual/data/default_policy.yaml")
    for args in (
        ("check", "--json"),
        ("provision", "--dry-run", "--json"),
        ("provision", "--json"),
        ("sync", "--json", "--as-of", "2026-06-30"),
        ("revert", "1", "--dry-run", "--json"),
        ("prune", "--older-than", "0", "--json"),
        ("policy", "check", policy_file, "--json"),
        ("report", "--json", "--out", "report.html"),
    ):
        code, out, err = invoke(*args)
        assert code == 0, (args, err)
        answer = json.loads(out)  # one JSON object, nothing else
        assert isinstance(answer, dict), args
    code, out, _ = invoke("init", "--crm", "file", "--path", "other.yaml", "--json")
    assert code == 0 and json.loads(out)["wrote"] == "other.yaml"


def test_policy_check_json_names_file_line_and_key(tmp_path: Path) -> None:
    text = (REPO / "src/crmqual/data/default_policy.yaml").read_text("utf-8")
    path = tmp_path / "p.yaml"
    path.write_text(text.replace("weight: 15", "weight: -15"), encoding="utf-8")
    code, out, _ = invoke("policy", "check", str(path), "--json")
    assert code == 2
    [problem] = json.loads(out)["problems"]
    line = text.splitlines().index("      weight: 15") + 1
    assert problem == {
        "file": str(path),
        "line": line,
        "key": "scorecard.dimensions[2].weight",
        "reason": "Input should be greater than 0",
    }


def test_policy_check_says_whether_weights_add_up_to_100(tmp_path: Path) -> None:
    text = (REPO / "src/crmqual/data/default_policy.yaml").read_text("utf-8")
    code, out, err = invoke("policy", "check", str(REPO / "src/crmqual/data/default_policy.yaml"))
    assert code == 0 and "dimension weights add up to 100" in out and err == ""
    path = tmp_path / "p.yaml"
    path.write_text(text.replace("weight: 23", "weight: 25"), encoding="utf-8")
    code, out, err = invoke("policy", "check", str(path))
    assert code == 0 and "valid" in out
    assert "add up to 102, not 100; scores are normalised" in err
    code, out, _ = invoke("policy", "check", str(path), "--json")
    answer = json.loads(out)
    assert answer["weights_total"] == 102 and answer["weights_normalised"] is True
    _, out, _ = invoke("assess", str(SAMPLE), "--explain", "ACC-004", "--policy", str(path))
    assert "add up to 102, not 100" in out
    assert "weight 24.5 %" in out  # the dimension's share, as its contribution is computed


def test_numbers_read_as_admins_read_them() -> None:
    assert pct(0.8294) == "82.9 %" and pct(0.8294, "zh") == "82.9%"
    assert amount(24_095_000, "CNY") == "24,095,000 CNY"
    assert amount(24_095_000, "CNY", "zh") == "2,409.5 万元"
    assert amount(240_950_000, "CNY", "zh") == "2.41 亿元"
    assert amount(5_000, "CNY", "zh") == "5,000 元"
    assert amount(1_125_000, "USD", "zh") == "1,125,000 USD"


def test_a_config_problem_names_file_line_and_key(org: Path) -> None:
    text = org.read_text("utf-8")
    assert "  # batch_size: 100" in text
    org.write_text(text.replace("  # batch_size: 100", "  batch_size: -5"), encoding="utf-8")
    line = org.read_text("utf-8").splitlines().index("  batch_size: -5") + 1
    code, _, err = invoke("check")
    assert code == 2
    assert f"crmqual.yaml:{line}: sync.batch_size: Input should be greater than" in err
    org.write_text("crm: file\nconnection: {input: [\n", encoding="utf-8")
    code, _, err = invoke("check")
    assert code == 2 and "crmqual.yaml:3: not valid YAML: " in err
    assert "<unicode string>" not in err


def test_zh_output_of_the_policy_lab_has_no_english_label(org: Path) -> None:
    """Issue 19: policy diff, outcomes import/list and policy backtest in Chinese."""
    assert invoke("provision")[0] == 0
    assert invoke("sync", "--as-of", "2026-01-31")[0] == 0
    text = (REPO / "src/crmqual/data/default_policy.yaml").read_text("utf-8")
    strict = org.parent / "strict.yaml"
    strict.write_text(
        text.replace("min_score: 51", "min_score: 70").replace("min_score: 30", "min_score: 50"),
        encoding="utf-8",
    )
    outcomes = org.parent / "outcomes.csv"
    rows = ["id,date,outcome", "ACC-004,2026-03-01,违约", "ACC-001,2026-06-30,正常还款"]
    rows.append("X,2026-13-01,违约")  # no such month: reported, the others recorded
    outcomes.write_bytes("\n".join(rows).encode("gbk"))
    outputs = []
    for args, expected in (
        (("policy", "diff", "default", str(strict), "--as-of", "2026-01-31"), 0),
        (("policy", "diff", "default", "default", "--as-of", "2026-01-31"), 0),
        (("outcomes", "import", str(outcomes)), 1),
        (("outcomes", "derive"), 0),
        (("outcomes", "list"), 0),
        (("policy", "backtest", "default", "--against", str(strict), "--as-of", "2026-01-31"), 0),
    ):
        code, out, err = invoke(*args, "--lang", "zh")
        assert code == expected, (args, out, err)
        outputs.append(out + err)
    joined = "\n".join(outputs)
    assert "评级迁移" in joined and "回测" in joined and "违约" in joined
    assert_no_english(joined)
    for args in (
        ("policy", "diff", "default", str(strict), "--json"),
        ("policy", "backtest", "default", "--as-of", "2026-01-31", "--json"),
        ("outcomes", "import", str(outcomes), "--json"),
        ("outcomes", "derive", "--json"),
    ):
        code, out, err = invoke(*args)
        assert code in (0, 1), (args, err)
        assert isinstance(json.loads(out), dict), args
