"""fleet.yaml's validation: every problem with file, line and key, in English and Chinese; an
org's own crmqual.yaml checked against the fleet (target, state store) when it runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from crmqual.errors import ConfigError
from crmqual.fleet.config import load_fleet

GOOD = """\
state: postgresql+psycopg://crmqual@db/crmqual
orgs:
  - name: acme-sh
    target: zoho:acme-sh
    config: acme-sh/crmqual.yaml
    schedule: {cron: "0 2 * * *", timezone: Asia/Shanghai}
    priority: 7
    concurrency_class: acme
  - name: acme-bj
    target: zoho:acme-bj
    inline:
      crm: memory
      target: zoho:acme-bj
    schedule: {cron: "30 1 * * 1-5"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str, lang: str = "en") -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_fleet(write(tmp_path, text))
    return [p.text(lang) for p in caught.value.problems]


def test_a_good_fleet_loads_with_defaults(tmp_path: Path) -> None:
    fleet = load_fleet(write(tmp_path, GOOD))
    acme_sh, acme_bj = fleet.fleet.orgs
    assert (acme_sh.priority, acme_sh.concurrency_class) == (7, "acme")
    assert (acme_bj.priority, acme_bj.schedule.timezone) == (5, "UTC")
    assert fleet.fleet.retry.crm_unavailable.times == 5
    assert fleet.fleet.queue == "crmqual"


def test_every_problem_is_named_with_line_and_key(tmp_path: Path) -> None:
    text = GOOD.replace('"0 2 * * *"', '"0 25 * * *"').replace("Asia/Shanghai", "Mars/Base")
    text = text.replace("priority: 7", "priority: 12").replace(
        "target: zoho:acme-bj\n    inline", "target: zoho:acme-sh\n    inline"
    )
    found = problems(tmp_path, text)
    source = str(tmp_path / "fleet.yaml")
    assert f"{source}:6: orgs[1].schedule.cron: not a cron expression: '0 25 * * *'" in found[0]
    assert any(
        f"{source}:6: orgs[1].schedule.timezone: unknown time zone 'Mars/Base'" in p for p in found
    )
    assert any(p.startswith(f"{source}:7: orgs[1].priority:") for p in found)
    assert any(
        p.startswith(f"{source}:10: orgs[2].target: target 'zoho:acme-sh' is used by more than one")
        for p in found
    ), found
    assert any(p.startswith(f"{source}:4: orgs[1].target:") for p in found), found


def test_problems_in_chinese(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace("Asia/Shanghai", "Mars/Base"), "zh")
    assert found == [
        f"{tmp_path / 'fleet.yaml'}:6: orgs[1].schedule.timezone: "
        "未知的时区 'Mars/Base'；应为 IANA 名称，例如 Asia/Shanghai 或 UTC"
    ]


def test_an_org_needs_its_settings_exactly_once(tmp_path: Path) -> None:
    text = GOOD.replace("    config: acme-sh/crmqual.yaml\n", "")
    found = problems(tmp_path, text)
    assert len(found) == 1 and "orgs[1]: give the org's settings once" in found[0]


def test_unknown_keys_and_missing_state(tmp_path: Path) -> None:
    found = problems(tmp_path, GOOD.replace("state:", "stat:").replace("priority: 7", "prio: 7"))
    assert any(": state: Field required" in p for p in found), found
    assert any(":1: stat: Extra inputs are not permitted" in p for p in found), found
    assert any(":7: orgs[1].prio: Extra inputs" in p for p in found), found


def test_the_state_url_may_name_a_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = GOOD.replace("state: postgresql+psycopg://crmqual@db/crmqual", "state: ${FLEET_PG}")
    monkeypatch.delenv("FLEET_PG", raising=False)
    found = problems(tmp_path, text)
    assert len(found) == 1 and ":1: state:" in found[0] and "FLEET_PG" in found[0]
    monkeypatch.setenv("FLEET_PG", "postgresql+psycopg://u:secret@db/x")
    assert load_fleet(write(tmp_path, text)).state_url == "postgresql+psycopg://u:secret@db/x"


def test_an_org_config_must_match_the_fleet(tmp_path: Path) -> None:
    (tmp_path / "acme-sh").mkdir()
    (tmp_path / "acme-sh" / "crmqual.yaml").write_text(
        "crm: memory\ntarget: zoho:other\nstate: sqlite:///elsewhere.sqlite\n", encoding="utf-8"
    )
    fleet = load_fleet(write(tmp_path, GOOD))
    with pytest.raises(ConfigError) as caught:
        fleet.org_config(fleet.org("acme-sh"))
    texts = [p.text() for p in caught.value.problems]
    assert "target: the org's target is 'zoho:other'" in texts[0]
    assert "state: names another state store" in texts[1]


def test_inline_problems_name_the_fleet_file_and_its_line(tmp_path: Path) -> None:
    text = GOOD.replace("      crm: memory\n", "      crm: memory\n      sink: 3\n")
    fleet = load_fleet(write(tmp_path, text))
    with pytest.raises(ConfigError) as caught:
        fleet.org_config(fleet.org("acme-bj"))
    assert [p.text() for p in caught.value.problems] == [
        f"{tmp_path / 'fleet.yaml'}:13: orgs[2].inline.sink: Extra inputs are not permitted"
    ]


def test_an_unknown_org_names_the_known_ones(tmp_path: Path) -> None:
    fleet = load_fleet(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match="no org named 'nope'; the fleet has acme-sh, acme-bj"):
        fleet.org("nope")


def test_the_commands_refuse_a_broken_fleet_file_before_starting_celery(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from crmqual.cli.main import main

    path = write(tmp_path, GOOD.replace("priority: 7", "priority: high"))
    for command in ("worker", "beat", "run", "status"):
        result = CliRunner().invoke(main, ["fleet", command, "-f", str(path), "--lang", "zh"])
        assert result.exit_code == 2, result.output
        assert f"{path}:7: orgs[1].priority: 应为整数" in result.stderr


@pytest.mark.parametrize(("lang", "words"), [("en", "needs the `fleet` extra"), ("zh", "需要")])
def test_without_the_fleet_extra_each_command_says_what_to_install_in_its_language(
    monkeypatch: pytest.MonkeyPatch, lang: str, words: str
) -> None:
    """The check runs in the command, after its --lang (not in the group, before it)."""
    from click.testing import CliRunner

    from crmqual.cli.main import main

    monkeypatch.setitem(sys.modules, "celery", None)  # import celery -> ImportError
    for command in (["status"], ["run"], ["worker"], ["enqueue", "a"], ["resume", "a"]):
        result = CliRunner().invoke(main, ["fleet", *command, "--lang", lang])
        assert result.exit_code == 2, (command, result.output)
        assert words in result.stderr and "pip install 'crmqual[fleet]'" in result.stderr
