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
from typing import Any

import requests
from simple_salesforce.api import Salesforce

from crmqual.adapters.salesforce.admin import SalesforceAdmin, admin_capabilities
from crmqual.adapters.salesforce.config import SalesforceConnection
from crmqual.adapters.salesforce.describe import field_specs
from crmqual.adapters.salesforce.login import OrgSession, SalesforceLogin
from crmqual.adapters.salesforce.session import OrgHttp
from crmqual.contract import (
    Capabilities,
    FieldSpec,
    Limits,
    ReadQuery,
    RecordResult,
)
from crmqual.errors import UnsupportedError
from crmqual.http import HttpSettings


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
        self.capabilities = Capabilities(provisioning=frozenset())
        # -- the admin path (sfadmin: provisioning, access, layouts, follow-ups) --
        self.capabilities = admin_capabilities(self.capabilities, connection)
        self._sf: Salesforce | None = None
        self._described: dict[str, dict[str, Any]] | None = None

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

    @property
    def calls_by_endpoint(self) -> dict[str, int]:
        return dict(self.org.http.counter.by_endpoint)

    def server_time(self) -> datetime:
        """The ``Date`` of a recent answer, else of a one-row query made for it."""
        seen = self.org.server_time()
        if seen is None:
            self.sf.query(f"SELECT Id FROM {self.object_name} LIMIT 1")
            seen = self.org.server_time(max_age=60.0)
        if seen is None:
            raise UnsupportedError("Salesforce answered without a Date header")
        return seen

    def describe(self) -> dict[str, FieldSpec]:
        raw = getattr(self.sf, self.object_name).describe()
        self._described = {f["name"]: f for f in raw.get("fields", [])}
        return field_specs(self._described.values())

    # -- reading and writing --------------------------------------------------------------------
    def read(self, query: ReadQuery) -> Iterator[list[dict[str, Any]]]:
        raise UnsupportedError("salesforce: reading is being built (sfcore step 2)")

    def _write(self, updates: Sequence[tuple[str, Mapping[str, Any]]]) -> list[RecordResult]:
        raise UnsupportedError("salesforce: writing is being built (sfcore step 3)")
