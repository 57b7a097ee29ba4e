"""How crmqual reaches one Fxiaoke (纷享销客) tenant: its cloud host, the token mode, the app's
credentials, the acting employee, the documented and assumed limits (fxiaoke.md sections 1-6).

Secrets arrive as values (the config loader resolves ``${ENV}`` references, or ``keyring:``)
and are kept as ``SecretStr``: masked in every repr and dump, never written anywhere.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from crmqual.errors import Invalid
from crmqual.http import HttpSettings

_NOT_HTTPS = "must start with https:// (or http:// for a local test server)"
_NOT_HTTPS_ZH = "必须以 https:// 开头（本地测试服务器可用 http://）"


class FxiaokeLimits(BaseModel):
    """The sizes crmqual works in; configurable because Fxiaoke documents few of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: ``limit`` of ``data/query``: at most 100 in the current docs (fxiaoke.md 3).
    page_size: int = Field(100, ge=1, le=100)
    #: Calls a second crmqual allows itself (token calls excepted). Fxiaoke documents no
    #: number (fxiaoke.md 6); a third-party client waits 200 ms before each call (5 a second).
    rate_per_second: float = Field(5.0, gt=0)
    #: How far before the watermark an incremental read starts (seconds), so that records
    #: saved in the same second as the previous run's start are read again, not lost.
    overlap_seconds: float = Field(1.0, ge=0)


class FxiaokeCodes(BaseModel):
    """Which ``errorCode``s mean what. Only 20016 is documented (fxiaoke.md 6); the others are
    assumptions a tenant's admin can correct here without a new release."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    token_expired: list[int] = [20016]
    #: Throttling: slow down and retry (no code is documented; the sandbox uses 20008).
    throttled: list[int] = [20008]
    #: Transient server-side failures worth retrying.
    transient: list[int] = []
    #: A record refused (not found, a value or validation rule refused): reported for that
    #: record, never retried.
    record: list[int] = [20005, 20006, 20007]
    #: App credentials or the acting employee refused.
    credentials: list[int] = [20001, 20002]


class FxiaokeFollowups(BaseModel):
    """Where a follow-up for the account's owner goes: a 销售记录 (``ActiveRecordObj``) linked
    to the customer, the object the sandbox dialect offers (the reference names none)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    object: str = "ActiveRecordObj"
    account_field: str = "account_id"
    subject_field: str = "name"
    content_field: str = "active_record_content"
    #: The select field and option label that mark crmqual's follow-ups (信用复核).
    type_field: str | None = "active_record_type"
    type_label: str | None = "信用复核"


class FxiaokeConnection(BaseModel):
    """The ``connection`` section of ``crmqual.yaml`` for ``crm: fxiaoke``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The tenant's cloud domain (scheme and host): ``https://open.fxiaoke.com`` for the
    #: legacy API, ``https://www.fxiaoke.com`` or the tenant's own cloud for the current one.
    base_url: str = "https://open.fxiaoke.com"
    #: ``header``: the current OAuth token (``/oauth2.0/token``) sent as headers;
    #: ``body``: the legacy ``corpAccessToken`` sent in every body (fxiaoke.md 2).
    token_mode: Literal["header", "body"] = "header"
    app_id: str = Field(min_length=1)
    app_secret: SecretStr
    permanent_code: SecretStr
    #: The integration employee every call acts as: its open user id (``FSUID_...``) in body
    #: mode; in header mode the employee id ``x-fs-userid`` carries (an open user id works
    #: where the tenant accepts one).
    user: str = Field(min_length=1)
    object: str = "AccountObj"
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(60.0, gt=0)
    max_attempts: int = Field(5, ge=1)
    max_retry_wait: float = Field(120.0, ge=0)
    limits: FxiaokeLimits = FxiaokeLimits()
    codes: FxiaokeCodes = FxiaokeCodes()
    followups: FxiaokeFollowups = FxiaokeFollowups()

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise Invalid(_NOT_HTTPS, _NOT_HTTPS_ZH)
        return value.rstrip("/")

    def http_settings(self) -> HttpSettings:
        return HttpSettings(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            max_attempts=self.max_attempts,
            max_total_wait=self.max_retry_wait,
            concurrency=1,  # one record per call, one after another under the rate limit
            pool_size=2,
        )
