"""Loading a YAML file into a pydantic model, with every problem named by file, line and key.

Policies, mappings and ``crmqual.yaml`` all load through here, so an admin reads the
same kind of message whatever file is wrong: ``FILE:LINE: key.path: reason``, all at once.
Lines are 1-based; a list item is named by its position as an admin counts the items in
the file (``flags[1].code`` is the first flag's code). The lines come from PyYAML's node
marks: the document is composed once, each key path's line noted, then constructed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from crmqual.errors import ConfigError, Invalid, Problem, cannot_read

M = TypeVar("M", bound=BaseModel)
ExtraCheck = Callable[[Mapping[str, Any]], list[tuple[str, str | Invalid]]]
_NOT_MAPPING = "顶层应为 YAML 映射（键: 值）"
#: A key path: mapping keys (str) and 0-based list positions (int).
Path_ = tuple[str | int, ...]
Lines = dict[Path_, int]


@dataclass(frozen=True)
class LocatedProblem(Problem):
    """A problem at a line of the file (1-based): ``FILE:LINE: key.path: reason``."""

    line: int | None = None

    def where(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.key}" if self.key else where


class LocatedDict(dict[str, Any]):
    """The top-level mapping of a YAML file, carrying the line of each key path."""

    yaml_lines: Lines


def _note_lines(node: yaml.Node, path: Path_, lines: Lines) -> None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            lines.setdefault(child, key.start_mark.line + 1)
            _note_lines(value, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            child = (*path, index)
            lines.setdefault(child, value.start_mark.line + 1)
            _note_lines(value, child, lines)


def key_path(parts: Sequence[Any]) -> str:
    """``scorecard.dimensions[2].weight``: keys dotted, list positions 1-based."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _parts(key: str) -> list[str | int]:
    """A dotted key of the checks (``flags.0.code``) as path parts."""
    return [int(p) if p.isdigit() else p for p in key.split(".")] if key else []


def line_of(parts: Sequence[Any], lines: Lines | None) -> int | None:
    """The line of the deepest part of ``parts`` found in the file."""
    if not lines:
        return None
    path = tuple(p if isinstance(p, int) else str(p) for p in parts)
    while path:
        if path in lines:
            return lines[path]
        path = path[:-1]
    return None


def located(
    source: str, parts: Sequence[Any], reason: str | Invalid, lines: Lines | None, zh: str = ""
) -> Problem:
    """A problem at key path ``parts``; an ``Invalid`` reason brings its Chinese along."""
    zh = zh or getattr(reason, "zh", "")
    return LocatedProblem(source, key_path(parts), str(reason), line_of(parts, lines), zh=zh)


def locate(problems: list[Problem], source: str, lines: Lines | None) -> list[Problem]:
    """Problems of ``source`` with dotted keys, given their line and file-order key path."""
    return [
        located(p.file, _parts(p.key), p.reason, lines, p.zh)
        if p.file == source and not isinstance(p, LocatedProblem)
        else p
        for p in problems
    ]


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file (safe loader); unreadable or invalid files are ConfigErrors."""
    source = str(path)
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        en, zh = cannot_read(exc)
        raise ConfigError([Problem(source, "", en, zh=zh)]) from None
    return parse_yaml_text(text, source)


def parse_yaml_text(text: str, source: str) -> Any:
    """The parsed document; a top-level mapping comes as a LocatedDict (lines noted)."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ConfigError([_syntax_problem(exc, source)]) from None
    finally:
        loader.dispose()
    if isinstance(data, dict) and node is not None:
        lines: Lines = {}
        _note_lines(node, (), lines)
        data = LocatedDict(data)
        data.yaml_lines = lines
    return data


def _syntax_problem(exc: yaml.YAMLError, source: str) -> Problem:
    """``FILE:LINE: not valid YAML: what (column N)``, never ``in "<unicode string>"``."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
    what = ", ".join(str(p) for p in parts if p) or type(exc).__name__
    if mark is None:
        return LocatedProblem(source, "", f"not valid YAML: {what}", zh=f"不是有效的 YAML：{what}")
    reason = f"not valid YAML: {what} (column {mark.column + 1})"
    zh = f"不是有效的 YAML：{what}（第 {mark.column + 1} 列）"
    return LocatedProblem(source, "", reason, mark.line + 1, zh=zh)


def validation_problems(
    exc: ValidationError, source: str, lines: Lines | None = None
) -> list[Problem]:
    """pydantic's errors as problems naming the file, the line, the key path and the reason."""
    problems = []
    for err in exc.errors():
        reason = err["msg"].removeprefix("Value error, ")
        problems.append(located(source, err["loc"], reason, lines, reason_zh(err)))
    return problems


#: pydantic's error types in Chinese; ``{...}`` are filled from the error's context.
_PYDANTIC_ZH = {
    "missing": "缺少此项（必填）",
    "extra_forbidden": "不认识的键：请检查拼写，或删除此项",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数，不能有小数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "finite_number": "应为有限的数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "string_type": "应为文本",
    "dict_type": "应为映射（键: 值）",
    "list_type": "应为列表",
    "model_type": "应为映射（键: 值）",
    "model_attributes_type": "应为映射（键: 值）",
    "literal_error": "应为以下之一：{expected}",
    "enum": "应为以下之一：{expected}",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应大于或等于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应小于或等于 {le}",
    "too_short": "至少需要 {min_length} 项",
    "too_long": "至多 {max_length} 项",
    "string_too_short": "至少需要 {min_length} 个字符",
    "string_too_long": "至多 {max_length} 个字符",
    "string_pattern_mismatch": "格式不符：应匹配 {pattern}",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_type": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "datetime_parsing": "应为日期时间（ISO 8601）",
    "datetime_type": "应为日期时间（ISO 8601）",
    "url_parsing": "应为网址",
    "url_scheme": "网址协议应为 {expected_schemes}",
    "union_tag_invalid": "应为以下之一：{expected_tags}",
}


def reason_zh(err: Any) -> str:
    """The Chinese reason of one pydantic error: an ``Invalid``'s own, else by error type;
    empty when crmqual has none (the English one is shown)."""
    ctx = err.get("ctx") or {}
    error = ctx.get("error")
    if isinstance(error, Invalid):
        return error.zh
    template = _PYDANTIC_ZH.get(err["type"], "")
    listed = {k: _choices_zh(v) if isinstance(v, str) else v for k, v in ctx.items()}
    try:
        return template.format(**listed) if template else ""
    except (KeyError, IndexError):
        return ""


#: pydantic's list of choices: "'a', 'b' or 'c'".
_CHOICES = re.compile(r"'[^']*'(?:(?:, | or )'[^']*')+")


def _choices_zh(text: str) -> str:
    """pydantic's list of choices joined the Chinese way ("'a'、'b'、'c'"); other text as it
    is."""
    return re.sub(r"'(?:, | or )'", "'、'", text) if _CHOICES.fullmatch(text) else text


def validate(
    model: type[M],
    data: Any,
    source: str,
    extra_checks: ExtraCheck | None = None,
    lines: Lines | None = None,
) -> M:
    """Validate parsed YAML; raise ConfigError listing every problem with its line and key.

    ``lines``: the key paths' lines, when ``data`` is no longer the LocatedDict parsed."""
    if not isinstance(data, Mapping):
        raise ConfigError(
            [Problem(source, "", "expected a YAML mapping at the top level", zh=_NOT_MAPPING)]
        )
    lines = lines if lines is not None else getattr(data, "yaml_lines", None)
    problems = []
    if extra_checks is not None:
        problems = [located(source, _parts(k), why, lines) for k, why in extra_checks(data)]
    try:
        result = model.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc, source, lines) + problems
    if problems:
        raise ConfigError(problems)
    return result
