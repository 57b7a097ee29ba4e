"""How crmqual reaches one Zoho CRM org: data centre, credentials, limits, timeouts, and
the ``bulk`` part: when crmqual uses Zoho's Bulk Read and Bulk Write APIs, and their
documented limits and costs (zoho.md sections 2, 7 and 9).

Secrets arrive as values (the config loader resolves ``${ENV}`` references) and are kept as
``SecretStr``: they are masked in every repr and dump and never written anywhere.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from crmqual.errors import Invalid
from crmqual.http import HttpSettings

_NOT_HTTPS = "must start with https:// (or http:// for a local test server)"
_NOT_HTTPS_ZH = "必须以 https:// 开头（本地测试服务器可用 http://）"


class DataCentre(StrEnum):
    US = "us"
    EU = "eu"
    IN = "in"
    CN = "cn"
    AU = "au"
    JP = "jp"
    CA = "ca"
    SA = "sa"


#: zoho.md section 2: (accounts server, API domain) of each data centre's production org.
DATA_CENTRES: dict[DataCentre, tuple[str, str]] = {
    DataCentre.US: ("https://accounts.zoho.com", "https://www.zohoapis.com"),
    DataCentre.EU: ("https://accounts.zoho.eu", "https://www.zohoapis.eu"),
    DataCentre.IN: ("https://accounts.zoho.in", "https://www.zohoapis.in"),
    DataCentre.CN: ("https://accounts.zoho.com.cn", "https://www.zohoapis.com.cn"),
    DataCentre.AU: ("https://accounts.zoho.com.au", "https://www.zohoapis.com.au"),
    DataCentre.JP: ("https://accounts.zoho.jp", "https://www.zohoapis.jp"),
    DataCentre.CA: ("https://accounts.zohocloud.ca", "https://www.zohoapis.ca"),
    DataCentre.SA: ("https://accounts.zoho.sa", "https://www.zohoapis.sa"),
}


#: zoho.md section 2: the file-upload host of each data centre (Bulk Write's upload call).
UPLOAD_HOSTS: dict[str, str] = {
    "us": "https://content.zohoapis.com",
    "eu": "https://content.zohoapis.eu",
    "in": "https://content.zohoapis.in",
    "cn": "https://content.zohoapis.com.cn",
    "au": "https://content.zohoapis.com.au",
    "jp": "https://content.zohoapis.jp",
    "ca": "https://upload.zohocloud.ca",
    "sa": "https://files.zoho.sa",
}


#: The web interface of each data centre (a record opens at ``/crm/tab/MODULE/ID``).
WEB_HOSTS: dict[str, str] = {
    "us": "https://crm.zoho.com",
    "eu": "https://crm.zoho.eu",
    "in": "https://crm.zoho.in",
    "cn": "https://crm.zoho.com.cn",
    "au": "https://crm.zoho.com.au",
    "jp": "https://crm.zoho.jp",
    "ca": "https://crm.zohocloud.ca",
    "sa": "https://crm.zoho.sa",
}


class ZohoBulkSettings(BaseModel):
    """When to go bulk, how to wait for a job, and the documented limits and costs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: False: never Bulk Read (e.g. a token without the bulk scope); a read past the
    #: page_token ceiling is then refused before it starts.
    read: bool = True
    #: A full or incremental read of at least this many records goes through Bulk Read
    #: (None: only reads past the page_token ceiling, which paging cannot finish).
    read_threshold: int | None = Field(20_000, ge=1)
    #: Writes of at least this many records go through Bulk Write when that costs fewer
    #: credits than PUTs (None: never).
    write_threshold: int | None = Field(5_000, ge=1)
    #: The upload host (scheme and host); default: the data centre's (``UPLOAD_HOSTS``).
    upload_url: str | None = None
    #: The org's id for the upload's ``X-CRM-ORG`` header; default: read from ``/org``.
    org_id: str | None = None
    poll_interval: float = Field(5.0, gt=0)  # the first wait between status polls (seconds)
    poll_max_interval: float = Field(60.0, gt=0)  # the waits double up to this
    deadline: float = Field(3600.0, gt=0)  # seconds of waiting per job before giving up
    read_records: int = Field(200_000, ge=1)  # records per Bulk Read job (zoho.md 9)
    write_rows: int = Field(25_000, ge=1, le=25_000)  # rows per Bulk Write file (zoho.md 9)
    write_credits: int = Field(500, ge=0)  # initialising a Bulk Write job (zoho.md 7)
    read_credits: int = Field(50, ge=0)  # creating a Bulk Read job (not in the reference)
    put_records_per_credit: int = Field(10, ge=1)  # a PUT of n records: ceil(n / 10) credits

    @field_validator("upload_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("https://", "http://")):
            raise Invalid(_NOT_HTTPS, _NOT_HTTPS_ZH)
        return value.rstrip("/")


class ZohoApiLimits(BaseModel):
    """The documented limits of Zoho's REST API v8 (zoho.md sections 4, 6, 8); configurable
    because several are not confirmed, and so tests can scale them down."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    page_size: int = Field(200, ge=1, le=200)  # per_page
    page_records: int = Field(2_000, ge=1)  # reachable with `page`; beyond it `page_token`
    page_token_records: int = Field(100_000, ge=1)  # reachable with `page_token` at all
    fields_per_call: int = Field(50, ge=2)
    ids_per_call: int = Field(100, ge=1)
    write_batch: int = Field(100, ge=1, le=100)
    fields_per_create: int = Field(5, ge=1)
    #: field entries in one layout update (zoho.md 14: 5, not confirmed)
    layout_fields_per_request: int = Field(5, ge=1)


class ZohoLayoutSettings(BaseModel):
    """Where ``crmqual provision`` puts the output fields: one section of the layouts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: False: leave the layouts to the admin (no layouts scope needed).
    place: bool = True
    #: The layouts to place the fields on, by name (default: every layout of the module).
    names: list[str] = []
    #: The section's label; Zoho takes 1-50 letters, digits and spaces.
    section: str = Field("Credit and qualification", min_length=1, max_length=50)
    #: Tried first when ``chinese_labels: label``, if Zoho accepts it (else ``section``).
    section_zh: str = Field("信用与资质", min_length=1, max_length=50)


class ZohoConnection(BaseModel):
    """The ``zoho`` section of ``crmqual.yaml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_centre: DataCentre = DataCentre.US
    #: Overrides of the data centre's hosts (scheme and host, no path), e.g. a Zoho sandbox
    #: org (``https://sandbox.zohoapis.com``) or a proxy.
    accounts_url: str | None = None
    api_domain: str | None = None
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    refresh_token: SecretStr
    module: str = "Accounts"
    #: Stop (exit 5, resumable) before a call once Zoho reports this many credits or fewer left.
    credit_reserve: int = Field(0, ge=0)
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(60.0, gt=0)
    max_attempts: int = Field(5, ge=1)
    max_retry_wait: float = Field(120.0, ge=0)  # seconds of waiting per request, all retries
    concurrency: int = Field(5, ge=1, le=25)  # the edition's limit: Free 5 ... Ultimate 25
    #: Where provisioned fields carry their Chinese label: a tooltip (default), appended to
    #: the English label, or nowhere.
    chinese_labels: Literal["tooltip", "label", "none"] = "tooltip"
    #: How reads and writes reach Zoho: crmqual's own REST client (API v8, default), or
    #: Zoho's official SDK zcrmsdk (API v2; no page_token, no bulk): see adapters/zoho/sdk.py.
    transport: Literal["rest", "sdk"] = "rest"
    limits: ZohoApiLimits = ZohoApiLimits()
    #: Bulk Read and Bulk Write: thresholds, polling, upload host (``ZohoBulkSettings``).
    bulk: ZohoBulkSettings = ZohoBulkSettings()
    #: The section of the layouts the output fields go in (``ZohoLayoutSettings``).
    layouts: ZohoLayoutSettings = ZohoLayoutSettings()

    @field_validator("accounts_url", "api_domain")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("https://", "http://")):
            raise Invalid(_NOT_HTTPS, _NOT_HTTPS_ZH)
        return value.rstrip("/")

    @property
    def token_url(self) -> str:
        accounts = self.accounts_url or DATA_CENTRES[self.data_centre][0]
        return f"{accounts}/oauth/v2/token"

    @property
    def default_api_domain(self) -> str:
        """The configured API domain, else the data centre's (a token answer may name another)."""
        return self.api_domain or DATA_CENTRES[self.data_centre][1]

    @property
    def web_url(self) -> str | None:
        """Where people open the org in a browser: the data centre's web host, or ``None``
        when ``api_domain`` points somewhere else (a sandbox org, a proxy, a test server)."""
        if self.api_domain is not None and self.api_domain != DATA_CENTRES[self.data_centre][1]:
            return None
        return WEB_HOSTS[self.data_centre.value]

    def http_settings(self) -> HttpSettings:
        return HttpSettings(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            max_attempts=self.max_attempts,
            max_total_wait=self.max_retry_wait,
            concurrency=self.concurrency,
            pool_size=max(self.concurrency, 2),
        )
