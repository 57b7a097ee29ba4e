"""The Salesforce adapter: read Accounts, write crmqual's outputs back, through
simple-salesforce on crmqual's HTTP client.

Configured only by a ``SalesforceConnection`` (see ``config``). ``login`` obtains and renews
sessions, ``session`` is the org's HTTP (the error table in ``errors``, the daily API
allowance); ``self.sf`` is a ``simple_salesforce.Salesforce`` whose every request goes
through that HTTP client.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import requests
from simple_salesforce.api import Salesforce
from simple_salesforce.exceptions import SalesforceError

from crmqual.adapters.salesforce.admin import SalesforceAdmin, admin_capabilities
from crmqual.adapters.salesforce.bulk import BulkJobs
from crmqual.adapters.salesforce.collections import Collections
from crmqual.adapters.salesforce.config import SalesforceConnection
from crmqual.adapters.salesforce.describe import field_specs
from crmqual.adapters.salesforce.errors import api_error, not_json
from crmqual.adapters.salesforce.login import OrgSession, SalesforceLogin
from crmqual.adapters.salesforce.query import RestQuery, select_fields, soql
from crmqual.adapters.salesforce.session import OrgHttp
from crmqual.contract import (
    Capabilities,
    FieldSpec,
    Limits,
    ReadQuery,
    RecordResult,
)
from crmqual.http import HttpSettings

T = TypeVar("T")


class SalesforceAdapter(SalesforceAdmin):
    name = "salesforce"
    id_field = "Id"
    modified_field = "SystemModstamp"

    def __init__(
        self,
        connection: SalesforceConnection,
        *,
        ca_file: Path | None = None,
        key_file: Path | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        settings: HttpSettings | None = None,
    ) -> None:
        """``ca_file`` and ``key_file``: the connection's ``ca_file`` and
        ``private_key_file`` resolved against the config's folder; ``session``: the
        ``requests`` session under crmqual's HTTP client (tests); ``sleep`` spends every wait
        (retry backoff, bulk job polls); ``settings`` replace the connection's HTTP settings."""
        self.connection = connection
        self.object_name = connection.object
        self.sleep = sleep
        self.org = OrgHttp(
            connection, ca_file=ca_file, session=session, sleep=sleep, settings=settings
        )
        super().__init__(self.org.http.counter)
        self.login = SalesforceLogin(self.org.http, connection, key_file=key_file)
        self.org.http.auth = self.login
        self.capabilities = Capabilities(
            bulk_read=connection.bulk.read_threshold is not None,
            bulk_write=connection.bulk.write_threshold is not None,
            provisioning=frozenset(),
        )
        # -- the admin path (sfadmin: provisioning, access, layouts, follow-ups) --
        self.capabilities = admin_capabilities(self.capabilities, connection)
        self._sf: Salesforce | None = None
        self._described: dict[str, dict[str, Any]] | None = None
        self._expected: tuple[ReadQuery, int] | None = None
        self.rest = RestQuery(lambda: self.sf, connection)
        self.bulk = BulkJobs(
            lambda: self.sf, self.org.client_session, connection.object, connection.bulk, sleep
        )
        self.collections = Collections(
            lambda: self.sf,
            self.org.client_session,
            self.rest.by_ids,
            connection.object,
            connection.limits.collection_size,
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.connection.login_url!r}, {self.object_name!r})"

    # -- the client -----------------------------------------------------------------------------
    @property
    def sf(self) -> Salesforce:
        """simple-salesforce on crmqual's HTTP client (logging in on first use)."""
        if self._sf is None:
            org = self.login.session()
            self._sf = Salesforce(
                session_id=org.token,
                instance_url=org.instance_url,
                version=self.connection.api_version,
                session=self.org.client_session,
            )
            self.login.on_renew(self._renewed)
        return self._sf

    def _renewed(self, org: OrgSession) -> None:
        """Keep simple-salesforce's own copy of the session id current (its headers; its
        Metadata client bakes the id in, so it is rebuilt on next use)."""
        if self._sf is not None:
            self._sf.session_id = org.token
            self._sf._generate_headers()
            self._sf._mdapi = None

    # -- what the CRM is ------------------------------------------------------------------------
    def limits(self) -> Limits:
        lim = self.connection.limits
        return Limits(write_batch=lim.collection_size, ids_per_read=lim.ids_per_query)

    @property
    def api_remaining(self) -> int | None:
        """Daily API requests left, from the last answer's ``Sforce-Limit-Info``."""
        return self.org.remaining

    def quota_left(self) -> int | None:
        return self.org.remaining

    @property
    def calls_by_endpoint(self) -> dict[str, int]:
        return dict(self.org.http.counter.by_endpoint)

    def server_time(self) -> datetime:
        """The ``Date`` of a recent answer, else of a one-row query made for it."""
        seen = self.org.server_time()
        if seen is None:
            _translated(lambda: self.sf.query(f"SELECT Id FROM {self.object_name} LIMIT 1"))
            seen = self.org.server_time(max_age=60.0)
        if seen is None:
            raise api_error(
                "Salesforce answered without a Date header, so its time is unknown: check "
                "for a proxy in between that drops it",
                "Salesforce 的应答没有 Date 头，无法得知其时间：请检查中间是否有代理去掉了它",
            )
        return seen

    def describe(self) -> dict[str, FieldSpec]:
        raw = _translated(lambda: getattr(self.sf, self.object_name).describe())
        self._described = {f["name"]: f for f in raw.get("fields", [])}
        return field_specs(self._described.values())

    # -- reading and writing --------------------------------------------------------------------
    def read(self, query: ReadQuery) -> Iterator[list[dict[str, Any]]]:
        """Pages of Accounts (``query``: REST or Bulk 2.0 by size); the filter applied here."""
        fields = select_fields(query, lambda name: name in self._raw_fields())
        pages: Iterator[list[dict[str, Any]]]
        if query.ids is not None:
            pages = self.rest.by_ids(fields, query.ids)
        else:
            count = _translated(lambda: self.rest.count(query.since))
            self._expected = (query, count)
            threshold = self.connection.bulk.read_threshold
            if threshold is not None and count >= threshold:
                text = soql(fields, self.object_name, query.since)
                pages = self.bulk.query(text, self._types(), self.connection.limits.query_batch)
            else:
                pages = self.rest.pages(fields, query.since)
        for page in _translated_pages(pages):
            kept = [r for r in page if all(rule.matches(r) for rule in query.filters)]
            if kept:
                yield kept

    def expected(self, query: ReadQuery) -> int | None:
        """The count taken as the read of ``query`` began (before its filter)."""
        if self._expected is not None and self._expected[0] == query:
            return self._expected[1]
        return len(set(query.ids)) if query.ids is not None else None

    def write_batch_for(self, queued: int) -> int:
        """A Bulk 2.0 job's size from ``bulk.write_threshold`` queued records on, else 200."""
        if self._wants_bulk_write(queued):
            return self.connection.bulk.job_records
        return self.connection.limits.collection_size

    def _write(self, updates: Sequence[tuple[str, Mapping[str, Any]]]) -> list[RecordResult]:
        if self._wants_bulk_write(len(updates)):
            return self.bulk.update(updates)
        return self.collections.update(updates)

    def _wants_bulk_write(self, records: int) -> bool:
        threshold = self.connection.bulk.write_threshold
        return threshold is not None and records >= threshold

    # -- the object's fields --------------------------------------------------------------------
    def _raw_fields(self) -> dict[str, dict[str, Any]]:
        if self._described is None:
            self.describe()
        assert self._described is not None
        return self._described

    def _types(self) -> dict[str, str]:
        return {name: str(f.get("type", "")) for name, f in self._raw_fields().items()}


def _translated(call: Callable[[], T]) -> T:
    """simple-salesforce's own failures (a body that is not JSON, its exceptions) as crmqual
    errors; crmqual's HTTP client raised every other failure already."""
    try:
        return call()
    except SalesforceError as exc:
        raise api_error(f"Salesforce: {exc}", f"Salesforce：{exc}") from None
    except ValueError:
        raise not_json("a request", "请求") from None


def _translated_pages(pages: Iterator[list[dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
    while True:
        page = _translated(lambda: next(pages, None))
        if page is None:
            return
        yield page
