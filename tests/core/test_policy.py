"""Policy loading: the default is valid, versions follow content, errors name key and file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from crmqual.errors import ConfigError
from crmqual.policy import default_policy_text, load_policy


def write(tmp_path: Path, data: Any, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def default_data() -> dict[str, Any]:
    data = yaml.safe_load(default_policy_text())
    assert isinstance(data, dict)
    return data


def problems(path: Path) -> list[tuple[str, str, str]]:
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    return [(p.file, p.key, p.reason) for p in info.value.problems]


def test_default_policy_is_valid_and_versioned() -> None:
    policy = load_policy()
    assert policy.name == "crmqual-default"
    assert policy.version.startswith("crmqual-default@")


def test_comments_do_not_change_the_version(tmp_path: Path) -> None:
    edited = tmp_path / "p.yaml"
    edited.write_text("# a new comment\n" + default_policy_text(), encoding="utf-8")
    assert load_policy(edited).version == load_policy().version


def test_content_changes_the_version(tmp_path: Path) -> None:
    data = default_data()
    data["grade_downgrade_hold_days"] += 1
    assert load_policy(write(tmp_path, data)).version != load_policy().version


def test_every_problem_is_reported_at_once_with_file_and_key(tmp_path: Path) -> None:
    data = default_data()
    data["scorecard"]["dimensions"][0]["indicators"][0]["indicator"] = "debt_ratoi"
    data["scorecard"]["dimensions"][1]["indicators"][0]["points"] = [100, 0, 0, 0, 0, 0, 0]
    data["grade_terms"]["C"] = "NET90"
    del data["credit_limit"]["rounding"]
    path = write(tmp_path, data)
    found = problems(path)
    assert all(file == str(path) for file, _, _ in found)
    keys = {key for _, key, _ in found}
    assert "scorecard.dimensions[1].indicators[1]" in keys
    assert "scorecard.dimensions[2].indicators[1]" in keys
    assert "credit_limit.rounding" in keys
    text = " ".join(reason for _, _, reason in found)
    assert "debt_ratoi" in text
    assert "'safer' indicator's points must not fall" in text
    assert "NET90" in text


def test_points_against_the_declared_direction_are_refused(tmp_path: Path) -> None:
    data = default_data()
    line = data["scorecard"]["dimensions"][0]["indicators"][0]
    line["points"] = list(reversed(line["points"]))  # riskier indicator whose points rise
    assert any("must not rise" in reason for _, _, reason in problems(write(tmp_path, data)))


def test_a_reason_text_needs_both_languages(tmp_path: Path) -> None:
    data = default_data()
    del data["admission"]["knockouts"][0]["text"]["zh"]
    keys = [key for _, key, _ in problems(write(tmp_path, data))]
    assert keys == ["admission.knockouts[1].text.zh"]


def test_placeholders_other_than_value_are_refused(tmp_path: Path) -> None:
    data = default_data()
    data["scorecard"]["dimensions"][0]["indicators"][0]["reason"]["en"] = "{__class__}"
    assert any("only the placeholder" in r for _, _, r in problems(write(tmp_path, data)))


def test_unknown_keys_are_refused(tmp_path: Path) -> None:
    data = default_data()
    data["credit_limit"]["roundnig"] = 10
    keys = [key for _, key, _ in problems(write(tmp_path, data))]
    assert keys == ["credit_limit.roundnig"]


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("name: x\nscorecard: [\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    [problem] = info.value.problems
    assert problem.file == str(path) and problem.key == ""
    assert str(problem).startswith(f"{path}:3: not valid YAML: ")
    assert "<unicode string>" not in str(problem)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    [(_, _, reason)] = problems(tmp_path / "absent.yaml")
    assert "cannot read" in reason


def test_a_problem_names_file_line_and_key_path_as_in_the_file(tmp_path: Path) -> None:
    """1-based lines from the YAML nodes; list items counted from 1, as an admin counts."""
    text = default_policy_text()
    lines = text.splitlines()
    weight = next(i for i, x in enumerate(lines) if "name: profitability" in x) + 3
    assert lines[weight - 1].strip() == "weight: 15"
    path = tmp_path / "p.yaml"
    path.write_text(text.replace("weight: 15", "weight: -15"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}:{weight}: scorecard.dimensions[2].weight: Input should be greater than 0"
    ]


def test_default_weights_add_up_to_100() -> None:
    policy = load_policy()
    assert policy.weight_total == 100
    assert sum(d.weight for d in policy.scorecard.dimensions) == 100


def test_a_policy_without_negative_variants_loads_and_keeps_its_version(tmp_path: Path) -> None:
    """``reason.negative`` is optional: an older policy loads, its version unchanged by it."""
    data = default_data()
    for dim in data["scorecard"]["dimensions"]:
        for ind in dim["indicators"]:
            ind["reason"].pop("negative", None)
    policy = load_policy(write(tmp_path, data))
    assert all(i.reason.negative is None for d in policy.scorecard.dimensions for i in d.indicators)
    dumped = policy.model_dump(mode="json", by_alias=True)
    for dim in dumped["scorecard"]["dimensions"]:
        for ind in dim["indicators"]:
            del ind["reason"]["negative"]
    import hashlib
    import json

    digest = hashlib.sha256(json.dumps(dumped, sort_keys=True).encode()).hexdigest()[:12]
    assert policy.version == f"{policy.name}@{digest}"
