"""What the Fxiaoke sandbox assumes where `shared/reference/fxiaoke.md` is silent ("not
confirmed"), as settings a test or `serve --settings FILE` can change.

They live in the sandbox file (meta key `fxiaoke:settings`), so a served sandbox, the Python
API and `stats` agree. Every default is recorded in the sandbox README ("Decisions and
assumptions (Fxiaoke dialect)").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crmqual.sandbox.store import SandboxStore
from crmqual.yamlfile import read_yaml, validate

_KEY = "fxiaoke:settings"


class Codes(BaseModel):
    """Non-zero `errorCode`s. Only 20016 is documented; the others are ours."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token: int = 20016
    """corpAccessToken / accessToken missing, unknown or expired (documented)."""
    app: int = 20001
    """appId, appSecret or permanentCode wrong, or an unsupported grantType."""
    user: int = 20002
    """The acting user (`currentOpenUserId` / `x-fs-userid`) missing or unknown, or `corpId`
    / `x-fs-ea` not the tenant's."""
    param: int = 20003
    """A malformed request: no `data`, `limit` out of range, `offset` not a multiple of
    `limit`, an unknown operator, a missing `thirdTraceId` in header mode."""
    object: int = 20004
    """An unknown `dataObjectApiName` / `apiName`."""
    not_found: int = 20005
    """No record with that `_id`."""
    field: int = 20006
    """An unknown field, a read-only field written, a value of the wrong type or not among
    a select field's options."""
    validation: int = 20007
    """A record refused by a validation rule (the `record_error` fault)."""
    rate: int = 20008
    """More calls in a second than the tenant's rate allows."""


class FxiaokeSettings(BaseModel):
    """The sandbox's answers to the reference's open questions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rate_per_second: int = Field(50, ge=0)
    """Calls a tenant may make per second of sandbox time (token endpoints excepted);
    0 = no limit. No number is documented."""
    max_limit: int = Field(100, ge=1)
    """The largest `limit` of `data/query` (current docs 100; older text 1000)."""
    default_limit: int = Field(20, ge=1)
    """`limit` when a query gives none (older SDK text: default 20)."""
    require_trace_id: bool = True
    """Header-mode calls must carry a `thirdTraceId` query parameter (a UUID); body-mode
    calls never need one."""
    unchanged_update_moves: bool = True
    """An update that changes no value still moves `last_modified_time` and `version`."""
    strict_projection: bool = True
    """An unknown field in `fieldProjection`, `filters` or `orders` is refused (`field`)."""
    multi_select_type: str = "select_many"
    """The describe `type` of multi-select fields (not confirmed)."""
    currency_type: str = "currency"
    """The describe `type` of currency fields (not confirmed)."""
    custom_define_type: str = "custom"
    """The describe `define_type` of custom fields (`package` marks system fields)."""
    codes: Codes = Codes()


def load_settings(store: SandboxStore) -> FxiaokeSettings:
    raw = store.get_meta(_KEY)
    return FxiaokeSettings() if raw is None else FxiaokeSettings.model_validate_json(raw)


def save_settings(store: SandboxStore, settings: FxiaokeSettings) -> None:
    store.set_meta(_KEY, settings.model_dump_json())


def settings_file(path: str | Path, base: FxiaokeSettings | None = None) -> FxiaokeSettings:
    """A YAML file of `FxiaokeSettings` keys over `base` (default: the defaults)."""
    raw: Any = read_yaml(Path(path))
    merged = {**(base or FxiaokeSettings()).model_dump(), **(raw or {})}
    if isinstance(raw, dict) and isinstance(raw.get("codes"), dict):
        merged["codes"] = {**(base or FxiaokeSettings()).codes.model_dump(), **raw["codes"]}
    return validate(FxiaokeSettings, merged, str(path))
