"""``crmqual.yaml``: which CRM, how to reach it, which mapping, policy and state store.

Secrets never live in the file: any string value may be ``${NAME}``, resolved from the
environment when the file is loaded (one mechanical rule; a missing variable is a
configuration error naming the key). Relative paths are relative to the file's folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from crmqual import keystore, registry
from crmqual.contract import BuildContext
from crmqual.errors import ConfigError, Problem
from crmqual.yamlfile import locate, read_yaml, validate

_ENV_REF = re.compile(r"^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$")
DEFAULT_REVIEW_DAYS = {"A": 365, "B": 365, "C": 90, "D": 30, "E": 30}


class SyncSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Records per write call; default: the adapter's own batch size.
    batch_size: int | None = Field(default=None, ge=1)
    #: Days after which an account is re-assessed even if unchanged, by grade.
    review_every_days: dict[Literal["A", "B", "C", "D", "E"], int] = Field(
        default_factory=lambda: dict(DEFAULT_REVIEW_DAYS)  # type: ignore[arg-type]
    )
    #: Create a follow-up item (e.g. a task for the owner) for each warning event.
    followups: bool = False
    #: A lock not refreshed for this long, held from another host, may be taken over.
    lock_stale_minutes: int = Field(default=10, ge=1)
    #: Snapshot the portfolio at the end of each run and report its population stability.
    stability: bool = True
    #: Keep the account's personal data (legal representative, registered address, website,
    #: owner) with each assessment in the state store. Off: they are read, never stored
    #: (neither the scorecard nor the policy lab uses them).
    keep_personal_data: bool = False

    def review_intervals(self) -> dict[str, timedelta]:
        days = DEFAULT_REVIEW_DAYS | dict(self.review_every_days)
        return {grade: timedelta(days=n) for grade, n in days.items()}


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    crm: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    #: The CRM org's name in the state store; several orgs can share one store.
    target: str | None = None
    connection: dict[str, Any] = Field(default_factory=dict)
    mapping: str | None = None
    policy: str | None = None
    state: str | None = None
    sync: SyncSettings = Field(default_factory=SyncSettings)
    #: The language of crmqual's messages for this CRM when neither --lang nor $CRMQUAL_LANG
    #: says (``crmqual init --crm fxiaoke`` writes zh).
    lang: Literal["en", "zh"] | None = None


@dataclass(frozen=True)
class LoadedConfig:
    config: Config
    source: str
    folder: Path
    #: What is wrong with the connection (a secret not set, say), held back when it was
    #: loaded for a command that only reads the state store (``load_config``); building an
    #: adapter raises them.
    connection_problems: tuple[Problem, ...] = ()

    def path(self, value: str | None) -> Path | None:
        """A path from the file, relative to the file's folder."""
        if value is None:
            return None
        p = Path(value).expanduser()
        return p if p.is_absolute() else self.folder / p

    @property
    def target(self) -> str:
        return self.config.target or self.config.crm

    def build_context(self, id_field: str, modified_field: str) -> BuildContext:
        return BuildContext(self.folder, id_field, modified_field)


def resolve_env_refs(value: Any, key: str, source: str, problems: list[Problem]) -> Any:
    """``value`` with every ``${NAME}`` string resolved (env or keyring); a missing one is a
    problem naming ``key``."""
    if isinstance(value, dict):
        return {
            k: resolve_env_refs(v, f"{key}.{k}" if key else k, source, problems)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [resolve_env_refs(v, f"{key}.{i}", source, problems) for i, v in enumerate(value)]
    if isinstance(value, str):
        match = _ENV_REF.match(value.strip())
        if match:
            name = match.group(1)
            found = keystore.lookup(name)
            if found is None:
                en, zh = keystore.missing(name)
                problems.append(Problem(source, key, en, zh=zh))
            return found
    return value


def load_config(path: str | Path, *, connection: bool = True) -> LoadedConfig:
    """Load ``crmqual.yaml``; every problem (schema, connection, missing variable) at once.

    ``connection=False``: for a command that only reads the state store (runs, history,
    report, prune, the policy lab), problems of the CRM connection, its secrets not set
    included, are held back (``LoadedConfig.connection_problems``) instead of raised."""
    source = str(path)
    if not Path(path).exists():
        crms = ", ".join(registry.names())
        raise ConfigError(
            [
                Problem(
                    source,
                    "",
                    f"no such file: write one with `crmqual init --crm NAME` (NAME one of {crms}), "
                    "or name yours with -c FILE or $CRMQUAL_CONFIG",
                    zh=f"文件不存在：请用 `crmqual init --crm NAME`（NAME 为 {crms} 之一）生成，"
                    "或用 -c FILE 或 $CRMQUAL_CONFIG 指明你的文件",
                )
            ]
        )
    folder = Path(path).resolve().parent
    return config_from_data(read_yaml(path), source, folder, connection=connection)


def config_from_data(
    data: Any, source: str, folder: Path, *, connection: bool = True
) -> LoadedConfig:
    """A configuration parsed already (a file's, or one written inline in a fleet file);
    relative paths are relative to ``folder``. ``connection``: as ``load_config``'s."""
    problems: list[Problem] = []
    resolved = resolve_env_refs(data, "", source, problems) if isinstance(data, dict) else data
    if isinstance(resolved, dict):
        unset = {p.key for p in problems}  # already reported: a variable that is not set
        crm = resolved.get("crm")
        if isinstance(crm, str) and crm in registry.names():
            settings = resolved.get("connection")
            problems += [
                p for p in registry.connection_problems(crm, settings, source) if p.key not in unset
            ]
    lines = getattr(data, "yaml_lines", None)
    problems = locate(problems, source, lines)
    held: tuple[Problem, ...] = ()
    if not connection:
        held = tuple(p for p in problems if p.key.split(".")[0] == "connection")
        problems = [p for p in problems if p not in held]
    try:
        config = validate(Config, resolved, source, lines=lines)
    except ConfigError as exc:
        raise ConfigError(exc.problems + problems) from None
    if problems:
        raise ConfigError(problems)
    registry.plugin(config.crm, source)  # an unknown CRM fails here, naming the known ones
    return LoadedConfig(config, source, folder, held)
