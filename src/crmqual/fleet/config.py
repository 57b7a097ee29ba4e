"""``fleet.yaml``: many CRM orgs, each with its own crmqual.yaml (or one written inline), its
schedule, priority and concurrency class; the state store they all share; how each exit code
is retried. Loaded and validated like every other file (``crmqual.yaml``'s ``${NAME}``
references, every problem named with file, line and key, in English and Chinese).

An org's own configuration is NOT read here: a broken one must fail that org alone, when it
runs (exit 2, its schedule stopped), while the others go on. ``org_config`` reads it.
"""

from __future__ import annotations

import dataclasses
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from crmqual.config import LoadedConfig, config_from_data, load_config, resolve_env_refs
from crmqual.errors import ConfigError, Invalid, Problem
from crmqual.yamlfile import Lines, LocatedDict, locate, read_yaml, validate

#: Where `celery -A crmqual.fleet.app` and `crmqual fleet ...` find the fleet file.
FLEET_ENV = "CRMQUAL_FLEET"
DEFAULT_FLEET = "fleet.yaml"
DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672//"
BROKER_ENV = "CRMQUAL_BROKER_URL"
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class Schedule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Five-field cron expression, read in ``timezone`` (the org's night, not the server's).
    cron: str
    timezone: str = "UTC"

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        if not croniter.is_valid(value) or len(value.split()) != 5:
            raise Invalid(
                f"not a cron expression: {value!r}; five fields, e.g. '0 2 * * *' (02:00 daily)",
                f"不是 cron 表达式：{value!r}；应为五段，例如 '0 2 * * *'（每天 02:00）",
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(
                f"unknown time zone {value!r}; an IANA name such as Asia/Shanghai or UTC",
                f"未知的时区 {value!r}；应为 IANA 名称，例如 Asia/Shanghai 或 UTC",
            ) from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class Org(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The org's name in the fleet: `crmqual fleet resume NAME`, metrics labels, logs.
    name: str = Field(pattern=_NAME)
    #: The org's key in the state store (its crmqual.yaml's `target:`, else its `crm:`).
    target: str = Field(min_length=1, max_length=200)
    #: Its crmqual.yaml, relative to the fleet file's folder ...
    config: str | None = None
    #: ... or the same settings written here.
    inline: dict[str, Any] | None = None
    schedule: Schedule
    #: 0 (last) to 9 (first) when several orgs wait for a worker.
    priority: int = Field(default=5, ge=0, le=9)
    #: Orgs sharing one CRM account's quota: never two of a class at once.
    concurrency_class: str | None = Field(default=None, pattern=_NAME)

    @model_validator(mode="after")
    def _one_config(self) -> Org:
        if (self.config is None) == (self.inline is None):
            raise Invalid(
                "give the org's settings once: `config: PATH` (its crmqual.yaml) or `inline:`",
                "请给出该组织的配置一次：`config: 路径`（其 crmqual.yaml）或 `inline:`",
            )
        return self


class CrmRetry(BaseModel):
    """Exit 3 (CRM unreachable, credentials refused): retried with exponential backoff."""

    model_config = ConfigDict(extra="forbid")

    times: int = Field(default=5, ge=0)
    backoff_s: float = Field(default=60.0, gt=0)
    max_backoff_s: float = Field(default=3600.0, gt=0)


class LockedRetry(BaseModel):
    """Exit 4 (another run holds the org's lock, or its concurrency class is busy): retried
    after the lock's stale age (the org's ``sync.lock_stale_minutes``), when a lock left by a
    dead worker on another host may be taken over."""

    model_config = ConfigDict(extra="forbid")

    times: int = Field(default=12, ge=0)
    #: Wait this long instead of the stale age (a class busy with a short sync, say).
    delay_s: float | None = Field(default=None, gt=0)


class RetryPolicy(BaseModel):
    """Exit 1 is recorded and not retried, exit 5 waits for the org's next window, exits 2
    and 6 stop the org until `crmqual fleet resume`: fixed, since only these two wait."""

    model_config = ConfigDict(extra="forbid")

    crm_unavailable: CrmRetry = Field(default_factory=CrmRetry)
    locked: LockedRetry = Field(default_factory=LockedRetry)


class Fleet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The state store every worker shares (PostgreSQL for workers on several machines).
    state: str = Field(min_length=1)
    #: Celery's broker; $CRMQUAL_BROKER_URL wins; default RabbitMQ on this machine.
    broker: str | None = None
    #: The Celery queue the fleet's tasks go to.
    queue: str = Field(default="crmqual", pattern=_NAME)
    #: A Prometheus text file (node_exporter's textfile collector), rewritten after each run.
    metrics_file: str | None = None
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    orgs: list[Org] = Field(min_length=1)


def _duplicates(data: Mapping[str, Any]) -> list[tuple[str, str | Invalid]]:
    """Names and targets used twice: locks, watermarks and runs are keyed by the target."""
    orgs = data.get("orgs")
    if not isinstance(orgs, list):
        return []
    found: list[tuple[str, str | Invalid]] = []
    for key in ("name", "target"):
        values = [o.get(key) if isinstance(o, dict) else None for o in orgs]
        seen = Counter(v for v in values if isinstance(v, str))
        for i, value in enumerate(values):
            if isinstance(value, str) and seen[value] > 1:
                first = values.index(value) + 1
                found.append(
                    (
                        f"orgs.{i}.{key}",
                        Invalid(
                            f"{key} {value!r} is used by more than one org (first: org {first});"
                            " each org needs its own",
                            f"{key} {value!r} 被多个组织使用（第一个：第 {first} 个组织）；"
                            "每个组织须各不相同",
                        ),
                    )
                )
    return found


@dataclass(frozen=True)
class LoadedFleet:
    fleet: Fleet
    source: str
    folder: Path
    lines: Lines | None = None

    def org(self, name: str) -> Org:
        for org in self.fleet.orgs:
            if org.name == name:
                return org
        known = ", ".join(o.name for o in self.fleet.orgs)
        raise ConfigError(
            [
                Problem(
                    self.source,
                    "orgs",
                    f"no org named {name!r}; the fleet has {known}",
                    zh=f"没有名为 {name!r} 的组织；本机群有 {known}",
                )
            ]
        )

    def index(self, org: Org) -> int:
        return self.fleet.orgs.index(org)

    @property
    def broker(self) -> str:
        return os.environ.get(BROKER_ENV) or self.fleet.broker or DEFAULT_BROKER

    @property
    def metrics_path(self) -> Path | None:
        value = self.fleet.metrics_file
        if value is None:
            return None
        path = Path(value).expanduser()
        return path if path.is_absolute() else self.folder / path

    def org_config(self, org: Org) -> LoadedConfig:
        """The org's crmqual.yaml (or inline settings), checked against the fleet: the same
        target, and the fleet's state store (an org naming another store is refused)."""
        i = self.index(org)
        if org.config is not None:
            path = Path(org.config).expanduser()
            loaded = load_config(path if path.is_absolute() else self.folder / path)
            where, prefix = loaded.source, ""
        else:
            loaded = self._inline(org, i)
            where, prefix = self.source, f"orgs[{i + 1}].inline."
        problems = []
        if loaded.target != org.target:
            problems.append(
                Problem(
                    where,
                    f"{prefix}target",
                    f"the org's target is {loaded.target!r} but {self.source} says "
                    f"{org.target!r} (orgs[{i + 1}].target): make them the same",
                    zh=f"该组织的 target 为 {loaded.target!r}，但 {self.source} 写的是 "
                    f"{org.target!r}（orgs[{i + 1}].target）：请改为一致",
                )
            )
        state = loaded.config.state
        if state is not None and state != self.fleet.state:
            problems.append(
                Problem(
                    where,
                    f"{prefix}state",
                    f"names another state store than {self.source}'s `state:`; remove it "
                    "(the fleet's store is used) or make them the same",
                    zh=f"指向的状态库与 {self.source} 的 `state:` 不同；请删除此项"
                    "（使用机群的状态库）或改为一致",
                )
            )
        if problems:
            raise ConfigError(problems)
        config = loaded.config.model_copy(update={"state": self.state_url})
        return dataclasses.replace(loaded, config=config)

    @property
    def state_url(self) -> str:
        url = self.fleet.state
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            return f"sqlite:///{self.folder / url.removeprefix('sqlite:///')}"
        return url

    def _inline(self, org: Org, i: int) -> LoadedConfig:
        path = ("orgs", i, "inline")
        data = LocatedDict(org.inline or {})
        data.yaml_lines = {
            k[len(path) :]: line for k, line in (self.lines or {}).items() if k[:3] == path
        }
        try:
            return config_from_data(data, self.source, self.folder)
        except ConfigError as exc:
            prefix = f"orgs[{i + 1}].inline"
            raise ConfigError(
                [
                    dataclasses.replace(p, key=f"{prefix}.{p.key}" if p.key else prefix)
                    for p in exc.problems
                ]
            ) from None


def lock_stale(loaded: LoadedConfig) -> timedelta:
    return timedelta(minutes=loaded.config.sync.lock_stale_minutes)


def fleet_path(given: str | None = None) -> str:
    """The fleet file: the option's, else $CRMQUAL_FLEET, else ./fleet.yaml."""
    return given or os.environ.get(FLEET_ENV) or DEFAULT_FLEET


def load_fleet(path: str | Path) -> LoadedFleet:
    """Load and validate ``fleet.yaml``; every problem at once."""
    source = str(path)
    if not Path(path).exists():
        raise ConfigError(
            [
                Problem(
                    source,
                    "",
                    f'no such file: write a fleet file (README, "Many orgs") and name it with '
                    f"--fleet FILE or ${FLEET_ENV}",
                    zh="文件不存在：请编写机群文件（见 README「Many orgs」），"
                    f"并用 --fleet FILE 或 ${FLEET_ENV} 指明",
                )
            ]
        )
    data = read_yaml(path)
    lines = getattr(data, "yaml_lines", None)
    problems: list[Problem] = []
    if isinstance(data, dict) and "state" in data:
        # Only the store's URL may hold a secret; an org's inline settings resolve their own.
        state = resolve_env_refs(data["state"], "state", source, problems)
        if not problems:  # else the raw ${NAME} stays: its one problem is the variable's
            data = dict(data) | {"state": state}
    problems = locate(problems, source, lines)
    try:
        fleet = validate(Fleet, data, source, extra_checks=_duplicates, lines=lines)
    except ConfigError as exc:
        raise ConfigError(exc.problems + problems) from None
    if problems:
        raise ConfigError(problems)
    return LoadedFleet(fleet, source, Path(path).resolve().parent, lines)
