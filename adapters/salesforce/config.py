"""How crmqual reaches one Salesforce org: the login flow and host, the API version, the
CA to trust, limits, timeouts, and the ``bulk`` part: when reads and writes go through Bulk
API 2.0 (salesforce.md sections 2, 4, 5, 6 and 7).

Secrets arrive as values (the config loader resolves ``${ENV}`` references from the
environment or the OS keyring) and are kept as ``SecretStr``: masked in every repr and dump,
never written anywhere.
"""

from __future__ import annotations

import re
from enum import StrEnum
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from crmqual.adapters.salesforce.admin_config import SalesforceAdminSettings
from crmqual.errors import Invalid
from crmqual.http import HttpSettings

#: SOAP ``login()`` is unavailable from this API version on (salesforce.md 2).
SOAP_LOGIN_UNAVAILABLE_FROM = 65.0

PRODUCTION_LOGIN = "https://login.salesforce.com"
SANDBOX_LOGIN = "https://test.salesforce.com"

_VERSION = re.compile(r"^\d{2,3}\.0$")


class Flow(StrEnum):
    """How crmqual logs in (salesforce.md 2)."""

    #: OAuth 2.0 JWT bearer: a certificate on the external client app, no stored password.
    JWT = "jwt"
    #: OAuth 2.0 client credentials: the app's key and secret, run as its execution user.
    CLIENT_CREDENTIALS = "client_credentials"
    #: SOAP login() with username, password and security token: older orgs only.
    PASSWORD = "password"


class SalesforceBulkSettings(BaseModel):
    """When reads and writes go through Bulk API 2.0, and how crmqual waits for a job."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: A full or incremental read of at least this many records is a Bulk 2.0 query job
    #: (Salesforce suggests Bulk 2.0 above about 2,000 records; None: never).
    read_threshold: int | None = Field(10_000, ge=1)
    #: Writes of at least this many records go as one Bulk 2.0 update job (None: never).
    write_threshold: int | None = Field(2_000, ge=1)
    #: Records per ingest job (the engine hands ``write`` this many at once above the
    #: threshold); one job's CSV stays far below the 100 MB upload cap.
    job_records: int = Field(10_000, ge=1)
    #: Rows per page of query results (``maxRecords``); memory holds one page at a time.
    page_records: int = Field(10_000, ge=1)
    poll_interval: float = Field(2.0, gt=0)  # the first wait between job polls (seconds)
    poll_max_interval: float = Field(30.0, gt=0)  # the waits double up to this
    deadline: float = Field(3600.0, gt=0)  # seconds of waiting per job before giving up


class SalesforceApiLimits(BaseModel):
    """The documented sizes crmqual works in (salesforce.md 4, 5); configurable so tests
    can scale them down."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: records per sObject Collections call (the documented maximum is 200)
    collection_size: int = Field(200, ge=1, le=200)
    #: ``Sforce-Query-Options: batchSize`` of a REST query (200 to 2,000)
    query_batch: int = Field(2_000, ge=200, le=2_000)
    #: ids per ``Id IN (...)`` query; 18-character ids keep 300 far below the SOQL length
    #: limit (100,000 characters by default, not in the reference: an assumption)
    ids_per_query: int = Field(300, ge=1)


class SalesforceConnection(BaseModel):
    """The ``connection`` section of ``crmqual.yaml`` for ``crm: salesforce``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    flow: Flow = Flow.JWT
    #: Where logins go: https://login.salesforce.com (production), https://test.salesforce.com
    #: (sandbox orgs) or the org's My Domain, e.g. https://acme.my.salesforce.com (required
    #: by client credentials).
    login_url: str = Field(PRODUCTION_LOGIN, validate_default=True)
    #: The REST API version, e.g. "62.0" (no leading v).
    api_version: str = Field("62.0", validate_default=True)
    #: The external client app's consumer key (jwt, client_credentials).
    client_id: str | None = None
    client_secret: SecretStr | None = None  # client_credentials
    username: str | None = None  # jwt (the integration user), password
    #: The JWT signing key: the PEM text (from the environment or keyring), or a file.
    private_key: SecretStr | None = None
    private_key_file: str | None = None
    #: The JWT ``aud``; default https://test.salesforce.com when logging in to a sandbox org's
    #: test host, else https://login.salesforce.com.
    jwt_audience: str | None = None
    password: SecretStr | None = None  # password
    security_token: SecretStr | None = None  # password
    #: A PEM file of CA certificates to trust instead of the system's (a TLS-inspecting
    #: proxy, a test server); relative to crmqual.yaml's folder.
    ca_file: str | None = None
    object: str = Field("Account", pattern=r"^[A-Za-z][A-Za-z0-9_]*$")
    #: Stop (exit 5, resumable) before a call once the org's daily API allowance has this
    #: many calls or fewer left (``Sforce-Limit-Info``), leaving them to other integrations.
    api_reserve: int = Field(0, ge=0)
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(120.0, gt=0)
    max_attempts: int = Field(5, ge=1)
    max_retry_wait: float = Field(120.0, ge=0)  # seconds of waiting per request, all retries
    concurrency: int = Field(4, ge=1, le=25)  # 25 long-running requests per org (5: Developer)
    limits: SalesforceApiLimits = SalesforceApiLimits()
    bulk: SalesforceBulkSettings = SalesforceBulkSettings()
    #: Access to the output fields and their place on the layouts (``admin_config``).
    admin: SalesforceAdminSettings = SalesforceAdminSettings()

    @field_validator("login_url")
    @classmethod
    def _base_url(cls, value: str, info: ValidationInfo) -> str:
        host = urlsplit(value).hostname
        if not value.startswith(("https://", "http://")) or not host:
            raise Invalid(
                "must be a URL such as https://login.salesforce.com",
                "应为网址，例如 https://login.salesforce.com",
            )
        if info.data.get("flow") == Flow.CLIENT_CREDENTIALS and host in _SHARED_HOSTS:
            raise Invalid(
                "flow client_credentials needs the org's My Domain as login_url (e.g. "
                f"https://acme.my.salesforce.com); Salesforce refuses it on {host}",
                "flow client_credentials 需要把组织的 My Domain 设为 login_url（例如 "
                f"https://acme.my.salesforce.com）；Salesforce 在 {host} 上拒绝此方式",
            )
        return value.rstrip("/")

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str, info: ValidationInfo) -> str:
        if not _VERSION.match(value):
            raise Invalid(
                f"{value!r} is not an API version: write it like 62.0 (no leading v)",
                f"{value!r} 不是 API 版本：请写成 62.0 这样（前面不加 v）",
            )
        if info.data.get("flow") == Flow.PASSWORD and float(value) >= SOAP_LOGIN_UNAVAILABLE_FROM:
            raise Invalid(
                f"flow password uses SOAP login(), which Salesforce does not offer from API "
                f"version {SOAP_LOGIN_UNAVAILABLE_FROM} on (and retires in Summer '27): use "
                "flow jwt or client_credentials with an external client app, or set "
                "api_version to 64.0 or lower",
                f"flow password 使用 SOAP login()，Salesforce 从 API 版本 "
                f"{SOAP_LOGIN_UNAVAILABLE_FROM} 起不再提供（并将在 2027 年夏季版停用）：请改用 "
                "外部客户端应用的 flow jwt 或 client_credentials，或把 api_version 设为 64.0 "
                "或更低",
            )
        return value

    @model_validator(mode="after")
    def _flow_needs(self) -> SalesforceConnection:
        missing = [key for key in _NEEDS[self.flow] if getattr(self, key) is None]
        if self.flow == Flow.JWT and self.private_key is None and self.private_key_file is None:
            missing.append("private_key or private_key_file")
        if missing:
            names = ", ".join(missing)
            raise Invalid(
                f"flow {self.flow.value} needs {names}: set them (secrets as ${{ENV}} "
                "references), or choose another flow",
                f"flow {self.flow.value} 需要 {names}：请设置它们（密钥写成 ${{ENV}} 引用），"
                "或选择其他 flow",
            )
        return self

    @property
    def audience(self) -> str:
        if self.jwt_audience:
            return self.jwt_audience
        host = urlsplit(self.login_url).hostname or ""
        return SANDBOX_LOGIN if host == "test.salesforce.com" else PRODUCTION_LOGIN

    def http_settings(self) -> HttpSettings:
        return HttpSettings(
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            max_attempts=self.max_attempts,
            max_total_wait=self.max_retry_wait,
            concurrency=self.concurrency,
            pool_size=max(self.concurrency, 2),
        )


_NEEDS: dict[Flow, tuple[str, ...]] = {
    Flow.JWT: ("client_id", "username"),
    Flow.CLIENT_CREDENTIALS: ("client_id", "client_secret"),
    Flow.PASSWORD: ("username", "password", "security_token"),
}
_SHARED_HOSTS = ("login.salesforce.com", "test.salesforce.com")
