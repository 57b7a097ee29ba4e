"""Which adapter serves which ``crm:``: the ``crmqual.adapters`` entry-point group.

Every adapter joins the same way, shipped or not: its distribution declares an entry point
naming an ``AdapterPlugin`` (``crmqual.contract``). Config validation, ``crmqual init``,
``crmqual check`` and the sync all ask this module, so a CRM that crmqual does not ship
(``pip install crmqual-acme``) works with no change to crmqual.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from pydantic import ValidationError

from crmqual.contract import Adapter, AdapterPlugin, BuildContext
from crmqual.errors import ConfigError, Problem
from crmqual.yamlfile import reason_zh

GROUP = "crmqual.adapters"


@cache
def _entry_points() -> dict[str, EntryPoint]:
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep)  # the first on the path wins, as for imports
    return found


def names() -> list[str]:
    """The CRMs installed, without importing any adapter."""
    return sorted(_entry_points())


def forget() -> None:
    """Look the entry points up again (after installing a distribution in this process)."""
    _entry_points.cache_clear()
    _plugin.cache_clear()


def plugin(crm: str, source: str = "crmqual.yaml") -> AdapterPlugin:
    """The plugin of ``crm``; a ConfigError naming ``source``'s ``crm`` key when none is."""
    if crm not in _entry_points():
        known = ", ".join(names()) or "none installed"
        raise ConfigError(
            [
                Problem(
                    source,
                    "crm",
                    f"unknown CRM {crm!r}; one of {known}",
                    zh=f"未知的 CRM {crm!r}；可选：{known}",
                )
            ]
        )
    return _plugin(crm)


@cache
def _plugin(crm: str) -> AdapterPlugin:
    ep = _entry_points()[crm]
    loaded = ep.load()
    if not isinstance(loaded, AdapterPlugin) or loaded.name != crm:
        raise ConfigError(
            [
                Problem(
                    GROUP,
                    crm,
                    f"{ep.value} is not the AdapterPlugin of {crm!r}",
                    zh=f"{ep.value} 不是 {crm!r} 的 AdapterPlugin",
                )
            ]
        )
    return loaded


def connection_problems(crm: str, connection: Any, source: str) -> list[Problem]:
    """Problems of the ``connection:`` section for ``crm``, keyed ``connection.*``."""
    try:
        plugin(crm, source).connection_model.model_validate(
            connection if connection is not None else {}
        )
    except ValidationError as exc:
        return [
            Problem(
                source,
                ".".join(["connection", *map(str, e["loc"])]),
                e["msg"].removeprefix("Value error, "),
                zh=reason_zh(e),
            )
            for e in exc.errors()
        ]
    return []


def make_adapter(
    crm: str, connection: dict[str, Any], source: str, context: BuildContext
) -> Adapter:
    """The adapter of ``crm`` built from its validated ``connection:`` section."""
    chosen = plugin(crm, source)
    problems = connection_problems(crm, connection, source)
    if problems:
        raise ConfigError(problems)
    return chosen.build(chosen.connection_model.model_validate(connection), context)
