"""Loading a YAML file into a pydantic model, with every problem named by file and key.

Policies, mappings and ``crmqual.yaml`` all load through here, so an admin reads the
same kind of message whatever file is wrong: ``FILE: dotted.key: reason``, all at once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from crmqual.errors import ConfigError, Problem

M = TypeVar("M", bound=BaseModel)
ExtraCheck = Callable[[Mapping[str, Any]], list[tuple[str, str]]]


def read_yaml(path: str | Path) -> Any:
    """Parse a YAML file (safe loader); unreadable or invalid files are ConfigErrors."""
    source = str(path)
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise ConfigError([Problem(source, "", f"cannot read: {exc.strerror}")]) from None
    return parse_yaml_text(text, source)


def parse_yaml_text(text: str, source: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        raise ConfigError([Problem(source, where, f"not valid YAML: {exc}")]) from None


def validation_problems(exc: ValidationError, source: str) -> list[Problem]:
    """pydantic's errors as problems naming the file, the dotted key and the reason."""
    problems = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"])
        reason = err["msg"].removeprefix("Value error, ")
        problems.append(Problem(source, key, reason))
    return problems


def validate(model: type[M], data: Any, source: str, extra_checks: ExtraCheck | None = None) -> M:
    """Validate parsed YAML; raise ConfigError listing every problem with its key."""
    if not isinstance(data, Mapping):
        raise ConfigError([Problem(source, "", "expected a YAML mapping at the top level")])
    problems = []
    if extra_checks is not None:
        problems = [Problem(source, key, reason) for key, reason in extra_checks(data)]
    try:
        result = model.model_validate(data)
    except ValidationError as exc:
        problems = validation_problems(exc, source) + problems
    if problems:
        raise ConfigError(problems)
    return result
