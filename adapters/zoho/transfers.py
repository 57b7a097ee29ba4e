"""Files to and from Zoho: the uploads and downloads of the bulk APIs, and their ZIP/CSV.

HTTP goes through ``crmqual.http`` like every other call: the transfers of files use a
second client that shares the API's token, credit hooks and call counter, and streams.
"""

from __future__ import annotations

import csv
import io
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping
from typing import IO, Any, cast

import requests
from urllib3.filepost import encode_multipart_formdata

from crmqual.adapters.zoho.api import ZohoApi
from crmqual.adapters.zoho.errors import error_of
from crmqual.errors import ApiError, TransientError
from crmqual.http import Action, HttpClient, Operation, Verdict, new_session, safe_url

UPLOAD_PATH = "/crm/v8/upload"
_CHUNK = 1 << 16
#: How a stream that breaks while it is read shows (ChunkedEncodingError: cut mid-body).
_BROKEN = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


class _StreamingSession(requests.Session):
    """A session whose answers are streamed (files are never read into memory whole)."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("stream", True)
        return super().request(method, url, *args, **kwargs)


class Transfers:
    """Uploads and downloads of files, through a client sharing the API's token, credit
    hooks and call counter, whose answers are streamed."""

    def __init__(self, api: ZohoApi, sleep: Callable[[float], None]) -> None:
        base = api.http
        session = _StreamingSession()
        for prefix, adapter in new_session(base.settings.pool_size).adapters.items():
            session.mount(prefix, adapter)
        session.headers.update(base.session.headers)
        self.api = api
        self.http = HttpClient(
            base.settings,
            classify=self._classify,
            auth=base.auth,
            before_call=base.before_call,
            observe=base.observe,
            session=session,
            redactor=base.redactor,
            sleep=sleep,
        )
        self.http.counter = base.counter

    def _classify(self, response: requests.Response) -> Verdict:
        kind = response.headers.get("Content-Type", "")
        if response.status_code < 400 and "json" not in kind:
            return Verdict(Action.OK)  # a file: never read here
        return self.api.http.classify(response)

    def url(self, where: str) -> str:
        return where if "://" in where else self.api.api_domain + where

    def download(self, where: str, endpoint: str, into: IO[bytes]) -> None:
        """Stream a file into ``into``. One logical request: a transfer cut short is fetched
        again from the start under the client's retry policy, so a download makes at most
        ``max_attempts`` GETs in all, whatever fails (the answer or its stream)."""
        url = self.url(where)

        def fetch(operation: Operation) -> None:
            response = self.http.request("GET", url, endpoint=endpoint, within=operation)
            try:
                into.seek(0)
                into.truncate()
                for chunk in response.iter_content(_CHUNK):
                    into.write(chunk)
                into.flush()
                into.seek(0)
            except _BROKEN as exc:
                raise TransientError(
                    f"GET {safe_url(url)}: the download broke off ({type(exc).__name__})"
                ) from None
            finally:
                response.close()

        self.http.retrying(fetch)

    def upload(self, url: str, name: str, content: bytes, headers: Mapping[str, str]) -> Any:
        """POST a file as the multipart part ``file``; the JSON answer."""
        body, content_type = encode_multipart_formdata({"file": (name, content, "application/zip")})
        response = self.http.request(
            "POST",
            url,
            # crmqual.http types form data as a mapping; requests sends bytes as they are.
            data=cast(Mapping[str, str], body),
            headers={**headers, "Content-Type": content_type},
            endpoint=f"POST {UPLOAD_PATH}",
        )
        try:
            answer = response.json()
        except ValueError:
            answer = None
        finally:
            response.close()
        if response.status_code >= 400 or not isinstance(answer, dict):
            raise ApiError(
                f"Zoho's upload host refused the file: HTTP {response.status_code} "
                f"{_upload_error(answer)}".strip(),
                url=safe_url(url),
                status=response.status_code,
            )
        return answer


def _upload_error(answer: Any) -> str:
    if not isinstance(answer, dict):
        return ""
    code, message = error_of(answer)
    if code:
        return f"{code} {message}".strip()
    parts = (answer.get(k) for k in ("x-error", "ERROR_MESSAGE", "info", "x-info"))
    return " ".join(str(p) for p in parts if p)


# -- files -------------------------------------------------------------------------------------
def csv_rows(spool: IO[bytes]) -> Iterator[tuple[list[str], list[str]]]:
    """(header, row) for each row of the one CSV of a ZIP; ``Id`` is named ``id``."""
    try:
        archive = zipfile.ZipFile(spool)
    except zipfile.BadZipFile:
        raise ApiError("Zoho's bulk file is not a ZIP") from None
    with archive:
        members = [n for n in archive.namelist() if n.lower().endswith(".csv")]
        if len(members) != 1:
            raise ApiError(f"Zoho's bulk ZIP holds {len(members)} CSV files, not one")
        with archive.open(members[0]) as raw:
            reader = csv.reader(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""))
            header = next(reader, [])
            header = ["id" if h.strip().lower() == "id" else h.strip() for h in header]
            for row in reader:
                if row:
                    yield header, row


def zip_csv(header: list[str], rows: Iterator[list[str]]) -> bytes:
    """One CSV in a ZIP, as Bulk Write takes it."""
    with tempfile.SpooledTemporaryFile(max_size=8 << 20) as spool:
        with (
            zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive,
            archive.open("crmqual.csv", "w") as raw,
        ):
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            writer = csv.writer(text)
            writer.writerow(header)
            writer.writerows(rows)
            text.flush()
            text.detach()
        spool.seek(0)
        return spool.read()
