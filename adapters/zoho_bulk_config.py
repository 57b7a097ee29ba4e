"""The ``bulk`` part of the ``zoho`` section: when crmqual uses Zoho's Bulk Read and Bulk
Write APIs, and their documented limits and costs (zoho.md sections 2, 7 and 9)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

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
            raise ValueError("must start with https:// (or http:// for a local test server)")
        return value.rstrip("/")
