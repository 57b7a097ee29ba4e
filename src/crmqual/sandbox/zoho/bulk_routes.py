"""The routes of the bulk APIs, the upload host and the record count, for the Zoho app
(`zoho.py` appends them to its own)."""

from __future__ import annotations

from collections.abc import Callable

from werkzeug.wrappers import Response

from crmqual.sandbox.zoho.bulk import count_records, create_read, read_result, read_status
from crmqual.sandbox.zoho.bulk_write import (
    create_write,
    upload,
    write_result,
    write_status,
)

_V = "<any(v2, v8):version>"

BULK_ROUTES: tuple[tuple[str, str, Callable[..., Response]], ...] = (
    ("/crm/bulk/v8/read", "POST", create_read),
    ("/crm/bulk/v8/read/<job_id>", "GET", read_status),
    ("/crm/bulk/v8/read/<job_id>/result", "GET", read_result),
    ("/crm/bulk/v8/write", "POST", create_write),
    ("/crm/bulk/v8/write/<job_id>", "GET", write_status),
    ("/crm/bulk/v8/write/<job_id>/result", "GET", write_result),
    ("/crm/v8/upload", "POST", upload),  # the upload host's one call
    (f"/crm/{_V}/<module>/actions/count", "GET", count_records),
)
