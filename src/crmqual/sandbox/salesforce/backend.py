"""The Salesforce sandbox's Python API for tests and benchmarks: `SalesforceSandbox`.

Load records, edit one as a person would, read the write and call logs, run the sandbox
in-process (on Salesforce's own host names) or served over HTTPS on loopback, and give the
command line that serves it in its own process.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmqual.sandbox.box import HAND_EDIT_CLIENT, Credentials, Sandbox
from crmqual.sandbox.faults import FaultProfile
from crmqual.sandbox.inprocess import route
from crmqual.sandbox.salesforce import bulk2
from crmqual.sandbox.salesforce.app import SalesforceApp
from crmqual.sandbox.salesforce.call import SalesforceLimits
from crmqual.sandbox.salesforce.ids import PREFIXES, sf_id
from crmqual.sandbox.salesforce.objects import record_number
from crmqual.sandbox.salesforce.quota import Ledger, Quota
from crmqual.sandbox.salesforce.saves import write
from crmqual.sandbox.salesforce.schema import (
    ACCOUNT,
    API_USER_ID,
    HAND_USER_ID,
    OrgSecrets,
    install,
)
from crmqual.sandbox.salesforce.tls import material_dir, server_tls, write_private_key
from crmqual.sandbox.salesforce.tooling import add_layout, install_layout
from crmqual.sandbox.salesforce.values import full_row
from crmqual.sandbox.server import SandboxServer
from crmqual.sandbox.store import StoredRecord, WriteEntry, iso

#: the host names the in-process mode answers (login, sandbox login, the org's My Domain)
LOGIN_HOST = "https://login.salesforce.com"
TEST_HOST = "https://test.salesforce.com"
INSTANCE = "https://crmqual-sandbox.my.salesforce.com"
MY_DOMAIN = "crmqual-sandbox.my"


@dataclass(frozen=True)
class SalesforceCredentials(Credentials):
    """What a client needs; `login_url` is where logins go (served: the loopback origin)."""

    login_url: str
    instance_url: str
    username: str
    password: str
    security_token: str
    client_id: str
    client_secret: str
    private_key_file: str
    ca_file: str
    domain: str


class SalesforceSandbox(Sandbox):
    """A Salesforce org kept in one SQLite file (several objects and processes may share it)."""

    crm = "salesforce"

    def __init__(
        self,
        db: str | Path,
        *,
        limits: SalesforceLimits | None = None,
        quota: Quota | None = None,
        faults: FaultProfile | None = None,
        fault_seed: int = 0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(db, faults=faults, fault_seed=fault_seed, sleep=sleep)
        self.limits = limits or SalesforceLimits()
        if quota is not None:
            quota.save(self.store)
        self.quota = Quota.load(self.store)
        now = iso(self.clock.now())
        self.org: OrgSecrets = install(self.store, now)
        install_layout(self.store, now)

    # -- running it ---------------------------------------------------------------------------
    def app(self, instance_url: str | None) -> SalesforceApp:
        return SalesforceApp(
            self.store,
            instance_url=instance_url,
            limits=self.limits,
            quota=self.quota,
            faults=self.fault_plan(),
            sleep=self.sleep,
        )

    def credentials(
        self, login_url: str, instance_url: str, ca_file: str = ""
    ) -> SalesforceCredentials:
        key = write_private_key(self.store, material_dir(self.db))
        return SalesforceCredentials(
            login_url=login_url,
            instance_url=instance_url,
            ca_file=ca_file,
            private_key_file=str(key),
            domain=MY_DOMAIN,
            **self.org.as_dict(),
        )

    @contextmanager
    def inprocess(self) -> Iterator[SalesforceCredentials]:
        """Answer `requests` traffic to login.salesforce.com, test.salesforce.com and the
        org's My Domain from this sandbox while the context is open."""
        with route(self.app(INSTANCE), [LOGIN_HOST, TEST_HOST, INSTANCE]):
            yield self.credentials(LOGIN_HOST, INSTANCE)

    def server(self, port: int = 0) -> tuple[SandboxServer, SalesforceCredentials]:
        """A server over HTTPS on 127.0.0.1 (not started), with a fresh CA, and credentials."""
        context, ca_file = server_tls(material_dir(self.db))
        app = self.app(None)
        server = SandboxServer(app, port, ssl_context=context)
        app.instance_url = server.base_url
        return server, self.credentials(server.base_url, server.base_url, str(ca_file))

    @contextmanager
    def served(self, port: int = 0) -> Iterator[tuple[SandboxServer, SalesforceCredentials]]:
        server, creds = self.server(port)
        with server:
            yield server, creds

    # -- records ------------------------------------------------------------------------------
    def load_records(self, records: Iterable[dict[str, Any]]) -> list[str]:
        """Create Accounts from field values as they are; returns their 18-character ids."""
        rows = list(records)
        numbers = self.store.next_ids(len(rows), 1_000)
        now = iso(self.clock.now())
        stored = [
            StoredRecord(ACCOUNT, n, now, now, {
                "CreatedById": API_USER_ID, "LastModifiedById": API_USER_ID,
                "LastModifiedDate": now, "OwnerId": API_USER_ID, **row})
            for n, row in zip(numbers, rows, strict=True)
        ]  # fmt: skip
        self.store.insert_records(ACCOUNT, stored)
        return [sf_id(PREFIXES[ACCOUNT], n) for n in numbers]

    def record(self, record_id: str) -> dict[str, Any] | None:
        """An Account's fields as stored (datetimes in the store's form), or None."""
        number = record_number(ACCOUNT, record_id)
        if number is None:
            return None
        found = self.store.get_records(ACCOUNT, [number]).get(number)
        return None if found is None else full_row(found, sf_id(PREFIXES[ACCOUNT], number))

    def records(self) -> Iterator[dict[str, Any]]:
        """Every Account's fields as stored, by id (for the demo's summary)."""
        from crmqual.sandbox.store import Scan

        for found in self.store.scan(Scan(ACCOUNT)):
            yield full_row(found, sf_id(PREFIXES[ACCOUNT], found.id))

    def account_ids(self) -> list[str]:
        from crmqual.sandbox.store import Scan

        return [sf_id(PREFIXES[ACCOUNT], r.id) for r in self.store.scan(Scan(ACCOUNT))]

    def hand_edit(self, record_id: str, values: dict[str, Any]) -> None:
        """A person's edit in the UI: source `hand`, LastModifiedById = Li Wei."""
        number = record_number(ACCOUNT, record_id)
        with self.store.transaction():  # read and save as one, like an API save
            found = self.store.get_records(ACCOUNT, [number]) if number is not None else {}
            if number is None or number not in found:
                raise KeyError(record_id)
            now = iso(self.clock.now())
            write(self.store, found[number], values, now, HAND_USER_ID, HAND_EDIT_CLIENT, "hand")

    def count(self) -> int:
        return self.store.count(ACCOUNT)

    def add_layout(self, name: str) -> str:
        """A second (third ...) Account page layout, a copy of the first; its id."""
        return add_layout(self.store, name, iso(self.clock.now()))

    def layouts(self) -> dict[str, dict[str, Any]]:
        """Each Account layout's Metadata by its Name, as stored."""
        from crmqual.sandbox.store import Scan

        return {str(r.data["Name"]): r.data["Metadata"] for r in self.store.scan(Scan("Layout"))}

    def writes(self, after_seq: int = 0) -> list[WriteEntry]:
        return self.store.writes(after_seq)

    def api_usage(self) -> dict[str, Any]:
        ledger = Ledger(self.store, self.quota)
        used = ledger.used(self.clock.now())
        return {
            "edition": self.quota.edition,
            "allowance": self.quota.allowance,
            "spent": used,
            "in_window": used,
            "remaining": max(0, self.quota.allowance - used),
            "concurrency": self.quota.concurrency,
        }

    def bulk2_fail_next(self, kind: str, after_rows: int = 0) -> None:
        bulk2.fail_next(self.store, kind, after_rows)

    def bulk2_jobs(self, kind: str | None = None) -> list[dict[str, Any]]:
        return bulk2.jobs(self.store, kind)
