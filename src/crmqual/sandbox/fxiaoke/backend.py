"""`FxiaokeSandbox`: the Python API of the Fxiaoke dialect for tests, benchmarks and, later,
the adapter's contract suite. Adapters never import this; they get a base URL and credentials
(`FxiaokeCredentials`) like a real tenant's."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmqual.sandbox.box import HAND_EDIT_CLIENT, Credentials, Sandbox
from crmqual.sandbox.faults import FaultProfile
from crmqual.sandbox.fielddef import FieldDef
from crmqual.sandbox.fxiaoke.app import FxiaokeApp
from crmqual.sandbox.fxiaoke.fields import NewField, add_field, by_label, units_of
from crmqual.sandbox.fxiaoke.records import new_record, render, store_write, touched
from crmqual.sandbox.fxiaoke.schema import ACCOUNT, ID_BASE, install, record_id, store_id
from crmqual.sandbox.fxiaoke.settings import FxiaokeSettings, load_settings, save_settings
from crmqual.sandbox.fxiaoke.tenant import INTEGRATION_USER, OWNERS, PERSON, Tenant, tenant
from crmqual.sandbox.fxiaoke.values import checked
from crmqual.sandbox.inprocess import route
from crmqual.sandbox.server import SandboxServer
from crmqual.sandbox.store import Scan, StoredRecord, WriteEntry, iso

DEFAULT_HOST = "https://open.fxiaoke.com"


@dataclass(frozen=True)
class FxiaokeCredentials(Credentials):
    """What a Fxiaoke client needs (`serve --json` prints these)."""

    base_url: str
    app_id: str
    app_secret: str
    permanent_code: str
    open_user_id: str
    employee_id: str
    corp_id: str
    ea: str


class FxiaokeSandbox(Sandbox):
    """A Fxiaoke tenant kept in one SQLite file. `settings` (the README's assumptions) are
    saved in the file when given; `faults` / `fault_seed` make its apps fail on schedule."""

    crm = "fxiaoke"

    def __init__(
        self,
        db: str | Path,
        *,
        settings: FxiaokeSettings | None = None,
        faults: FaultProfile | None = None,
        fault_seed: int = 0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(db, faults=faults, fault_seed=fault_seed, sleep=sleep)
        if settings is not None:
            save_settings(self.store, settings)
        self.tenant: Tenant = tenant(self.store)
        install(self.store, iso(self.clock.now()))

    @property
    def settings(self) -> FxiaokeSettings:
        return load_settings(self.store)

    # -- running it ---------------------------------------------------------------------------
    def app(self) -> FxiaokeApp:
        return FxiaokeApp(self.store, faults=self.fault_plan(), sleep=self.sleep)

    def credentials(self, base_url: str) -> FxiaokeCredentials:
        t = self.tenant
        return FxiaokeCredentials(
            base_url=base_url,
            app_id=t.app_id,
            app_secret=t.app_secret,
            permanent_code=t.permanent_code,
            open_user_id=INTEGRATION_USER.open_user_id,
            employee_id=INTEGRATION_USER.employee_id,
            corp_id=t.corp_id,
            ea=t.ea,
        )

    @contextmanager
    def inprocess(self, base_url: str = DEFAULT_HOST) -> Iterator[FxiaokeCredentials]:
        """Answer `requests` traffic to `base_url` (default the legacy host) from this sandbox."""
        with route(self.app(), [base_url]):
            yield self.credentials(base_url)

    @contextmanager
    def served(self, port: int = 0) -> Iterator[tuple[SandboxServer, FxiaokeCredentials]]:
        server = SandboxServer(self.app(), port)
        with server:
            yield server, self.credentials(server.base_url)

    # -- fields -------------------------------------------------------------------------------
    def add_field(
        self,
        label: str,
        kind: str,
        options: Iterable[str] = (),
        *,
        decimals: int | None = None,
        unit: str | None = None,
    ) -> FieldDef:
        """Add a custom field as an administrator does in the console (generated name)."""
        new = NewField(label, kind, tuple(options), decimals, unit)
        return add_field(self.store, new, iso(self.clock.now()))

    def fields(self) -> list[FieldDef]:
        return self.store.fields(ACCOUNT)

    def field(self, label: str) -> FieldDef:
        return by_label(self.store)[label]

    def units(self) -> dict[str, str]:
        return units_of(self.store)

    # -- records ------------------------------------------------------------------------------
    def load_records(self, rows: Iterable[dict[str, Any]], obj: str = ACCOUNT) -> list[str]:
        """Create records from native values as they are; returns their `_id`s."""
        given = list(rows)
        ids = self.store.next_ids(len(given), ID_BASE)
        now = self.clock.now()
        stored = []
        for n, (number, values) in enumerate(zip(ids, given, strict=True)):
            record = new_record(obj, values, now, INTEGRATION_USER)
            if "owner" not in values:
                record["owner"] = [OWNERS[n % len(OWNERS)].employee_id]
            stored.append(StoredRecord(obj, number, iso(now), iso(now), record))
        self.store.insert_records(obj, stored)
        touched(self.store, obj)
        return [record_id(i) for i in ids]

    def _stored(self, given: str, obj: str) -> StoredRecord:
        number = store_id(given)
        found = None if number is None else self.store.get_records(obj, [number]).get(number)
        if found is None:
            raise KeyError(given)
        return found

    def record(self, given: str, obj: str = ACCOUNT) -> dict[str, Any]:
        return render(self._stored(given, obj))

    def records(self, obj: str = ACCOUNT) -> Iterator[dict[str, Any]]:
        for stored in self.store.scan(Scan(obj)):
            yield render(stored)

    def count(self, obj: str = ACCOUNT) -> int:
        return self.store.count(obj)

    def hand_edit(self, given: str, changes: dict[str, Any], obj: str = ACCOUNT) -> None:
        """A salesperson's edit in the UI (王芳): checked like an API write; the write log
        records source `hand`."""
        fields = {f.api_name: f for f in self.store.fields(obj)}
        values = {}
        for name, value in changes.items():
            f = fields.get(name)
            if f is None or f.read_only:
                raise ValueError(f"{name} is not an editable field of {obj}")
            values[name] = checked(f, value)
        with self.store.transaction():
            current = self._stored(given, obj)
            diff = {
                k: (current.data.get(k), v) for k, v in values.items() if current.data.get(k) != v
            }
            store_write(
                self.store,
                current,
                values,
                diff,
                self.clock.now(),
                PERSON,
                "hand",
                HAND_EDIT_CLIENT,
            )

    # -- observation --------------------------------------------------------------------------
    def write_log(self, after_seq: int = 0) -> list[WriteEntry]:
        return self.store.writes(after_seq)
