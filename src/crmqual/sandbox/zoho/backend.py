"""The sandbox's Python API for tests, benchmarks and `crmqual demo`: `ZohoSandbox`.

It is the backend fixture of the sync contract suite for the Zoho adapter: load records, change
a field as a person would, read the write log, run the sandbox in-process or as a server, and
give the command line that serves it. Adapters never import this; they get base URLs and
credentials (`ZohoCredentials`) like any CRM's.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmqual.sandbox.box import HAND_EDIT_CLIENT, Credentials, Sandbox
from crmqual.sandbox.faults import FaultProfile
from crmqual.sandbox.inprocess import route
from crmqual.sandbox.server import SandboxServer
from crmqual.sandbox.store import Scan, StoredRecord, WriteEntry, iso
from crmqual.sandbox.zoho.app import ZohoApp
from crmqual.sandbox.zoho.auth import ZohoAuth
from crmqual.sandbox.zoho.call import ZohoLimits
from crmqual.sandbox.zoho.hosts import ZohoHosts
from crmqual.sandbox.zoho.layouts import install_layouts
from crmqual.sandbox.zoho.layouts import load as load_layouts
from crmqual.sandbox.zoho.quota import CreditLedger, Quota
from crmqual.sandbox.zoho.records import full_values, render, written
from crmqual.sandbox.zoho.schema import API_USER, ID_BASE, MODULE, OWNERS, PERSON, install
from crmqual.sandbox.zoho.scopes import ALL_SCOPES
from crmqual.sandbox.zoho.values import check


@dataclass(frozen=True)
class ZohoCredentials(Credentials):
    """What a Zoho client needs: `api_base` without any `/crm/vN` path, as Zoho's SDKs expect."""

    api_base: str
    token_url: str
    upload_url: str
    client_id: str
    client_secret: str
    refresh_token: str


class ZohoSandbox(Sandbox):
    """A Zoho org kept in one SQLite file. Several `ZohoSandbox` objects, in one process or
    several, may open the same file at once.

    `quota` (edition and credits) is recorded in the file, so `crmqual sandbox stats` and
    other processes see it; without one, the file's (default: enterprise). `faults` and
    `fault_seed` make every app this object runs (in-process or served) fail on schedule;
    `sleep` is how those apps spend latency (tests pass a recorder instead of waiting)."""

    crm = "zoho"

    def __init__(
        self,
        db: str | Path,
        *,
        limits: ZohoLimits | None = None,
        quota: Quota | None = None,
        faults: FaultProfile | None = None,
        fault_seed: int = 0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(db, faults=faults, fault_seed=fault_seed, sleep=sleep)
        self.auth = ZohoAuth(self.store, self.clock)
        self.limits = limits or ZohoLimits()
        if quota is not None:
            quota.save(self.store)
        self.quota = Quota.load(self.store)
        install(self.store, iso(self.clock.now()))
        install_layouts(self.store, MODULE, iso(self.clock.now()))

    # -- running it ---------------------------------------------------------------------------
    def app(self, api_domain: str | None) -> ZohoApp:
        """A WSGI app with a fresh fault plan (its calls counted from 1); token answers report
        `api_domain` as the API's base URL."""
        return ZohoApp(
            self.store,
            api_domain=api_domain,
            limits=self.limits,
            quota=self.quota,
            faults=self.fault_plan(),
            sleep=self.sleep,
        )

    def credentials(self, hosts: ZohoHosts, scopes: Iterable[str] = ALL_SCOPES) -> ZohoCredentials:
        """Fresh credentials: the org's client and a new refresh token for `scopes`."""
        client = self.auth.client()
        return ZohoCredentials(
            api_base=hosts.api,
            token_url=hosts.token_url,
            upload_url=hosts.upload,
            client_id=client.client_id,
            client_secret=client.client_secret,
            refresh_token=self.auth.mint_refresh_token(tuple(scopes)),
        )

    @contextmanager
    def inprocess(
        self, hosts: ZohoHosts | None = None, scopes: Iterable[str] = ALL_SCOPES
    ) -> Iterator[ZohoCredentials]:
        """Answer every `requests` call to `hosts` (default: Zoho's US data centre) from this
        sandbox while the context is open; yields the credentials to use."""
        hosts = hosts or ZohoHosts.for_dc("us")
        with route(self.app(hosts.api), hosts.urls()):
            yield self.credentials(hosts, scopes)

    @contextmanager
    def served(
        self, port: int = 0, scopes: Iterable[str] = ALL_SCOPES
    ) -> Iterator[tuple[SandboxServer, ZohoCredentials]]:
        """Serve on a loopback port in a background thread while the context is open."""
        app = self.app(None)
        server = SandboxServer(app, port)
        app.api_domain = server.base_url
        with server:
            yield server, self.credentials(ZohoHosts.single(server.base_url), scopes)

    # -- records ------------------------------------------------------------------------------
    def load_records(self, records: Iterable[dict[str, Any]], module: str = MODULE) -> list[str]:
        """Create records from native field values, as they are (no validation: a real CRM
        can hold odd values too). Returns their ids as digit strings."""
        rows = list(records)
        ids = self.store.next_ids(len(rows), ID_BASE + 1_000_000)
        now = iso(self.clock.now())
        creator = dict(API_USER)
        stored = [
            StoredRecord(
                module,
                record_id,
                now,
                now,
                {
                    "Owner": dict(OWNERS[n % len(OWNERS)]),
                    **values,
                    "Created_By": creator,
                    "Modified_By": creator,
                },
            )
            for n, (record_id, values) in enumerate(zip(ids, rows, strict=True))
        ]
        self.store.insert_records(module, stored)
        return [str(i) for i in ids]

    def record(self, record_id: str | int, module: str = MODULE) -> dict[str, Any]:
        """Every value of one record, as the API would show them."""
        found = self.store.get_records(module, [int(record_id)]).get(int(record_id))
        if found is None:
            raise KeyError(record_id)
        return render(found, None)

    def records(self, module: str = MODULE) -> Iterator[dict[str, Any]]:
        for stored in self.store.scan(Scan(module)):
            yield full_values(stored)

    def count(self, module: str = MODULE) -> int:
        return self.store.count(module)

    def hand_edit(
        self, record_id: str | int, changes: dict[str, Any], module: str = MODULE
    ) -> None:
        """Change fields as a salesperson would in the CRM's UI: values are checked like an API
        write, `Modified_Time` moves, `Modified_By` is the person, and the write log records
        source `hand` with client `sandbox:hand-edit`."""
        fields = {f.api_name: f for f in self.store.fields(module)}
        for name, value in changes.items():
            f = fields.get(name)
            if f is None or f.read_only:
                raise ValueError(f"{name} is not an editable field of {module}")
            problem = check(f, value)
            if problem is not None:
                raise ValueError(f"{name}={value!r}: {problem[0]} {problem[1]}")
        with self.store.transaction():
            current = self.store.get_records(module, [int(record_id)]).get(int(record_id))
            if current is None:
                raise KeyError(record_id)
            stored, diff = written(current, changes, self.clock.now(), dict(PERSON))
            self.store.update_record(
                stored, source="hand", client=HAND_EDIT_CLIENT, user_id=PERSON["id"], changes=diff
            )

    def layouts(self, module: str = MODULE) -> list[dict[str, Any]]:
        """The module's layouts as the sandbox keeps them: sections with field ids in order."""
        return load_layouts(self.store, module)

    def layout_fields(self, layout_name: str, module: str = MODULE) -> dict[str, list[str]]:
        """{section label: [field api_name, ...]} of one layout, in order."""
        names = {f.id: f.api_name for f in self.store.fields(module)}
        layout = next(lay for lay in self.layouts(module) if lay["name"] == layout_name)
        return {
            s["display_label"]: [names[e["id"]] for e in s["fields"] if e["id"] in names]
            for s in layout["sections"]
        }

    def add_custom_view(self, name: str, criteria: str, module: str = MODULE) -> str:
        """A custom view filtering by Zoho search criteria; returns its `cvid`."""
        (view_id,) = self.store.next_ids(1, ID_BASE + 100)
        self.store.put_custom_view(str(view_id), module, name, criteria)
        return str(view_id)

    # -- observation --------------------------------------------------------------------------
    def write_log(self, after_seq: int = 0, record_id: str | int | None = None) -> list[WriteEntry]:
        rid = int(record_id) if record_id is not None else None
        return self.store.writes(after_seq, rid)

    def credits(self) -> dict[str, Any]:
        """API credits: `spent` in all, `in_window` (the last 24 hours), `allowance` and
        `remaining` (None when unlimited), and the edition."""
        window = CreditLedger(self.store, self.quota).window(self.clock.now())
        return {
            "edition": self.quota.edition,
            "allowance": window.allowance,
            "spent": self.store.credits_since(-1),
            "in_window": window.spent_in_window,
            "remaining": window.remaining,
            "concurrency": self.quota.concurrency,
        }


def credentials_json(credentials: ZohoCredentials) -> str:
    return json.dumps(credentials.as_dict())
