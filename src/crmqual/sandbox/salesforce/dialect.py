"""Salesforce's side of `crmqual sandbox seed|serve|stats`: `DIALECT`."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crmqual.sandbox.dialects import (
    DemoSandbox,
    SeedProgress,
    Serving,
    SettingError,
    refuse_unknown,
    seeded_line,
)
from crmqual.sandbox.faults import FaultProfile
from crmqual.sandbox.observe import stats
from crmqual.sandbox.salesforce.backend import SalesforceSandbox
from crmqual.sandbox.salesforce.quota import EDITIONS, Quota
from crmqual.sandbox.salesforce.seed import CUSTOM_FIELDS, seed_salesforce

#: credentials key -> environment variable (`serve --env-file`)
SECRET_NAMES = {
    "login_url": "SALESFORCE_LOGIN_URL",
    "instance_url": "SALESFORCE_INSTANCE_URL",
    "username": "SALESFORCE_USERNAME",
    "password": "SALESFORCE_PASSWORD",
    "security_token": "SALESFORCE_SECURITY_TOKEN",
    "client_id": "SALESFORCE_CLIENT_ID",
    "client_secret": "SALESFORCE_CLIENT_SECRET",
    "private_key_file": "SALESFORCE_PRIVATE_KEY_FILE",
    "ca_file": "SALESFORCE_CA_FILE",
}
SETTINGS = ("edition", "credits")


class SalesforceDialect:
    name = "salesforce"

    def seed(
        self,
        db: Path,
        accounts: int,
        *,
        seed: int,
        missing_rate: float,
        bad_rate: float,
        on_progress: SeedProgress,
    ) -> str:
        box = SalesforceSandbox(db)
        try:
            added = seed_salesforce(
                box.store, accounts, seed, missing_rate=missing_rate, bad_rate=bad_rate,
                on_progress=on_progress,
            )  # fmt: skip
            return seeded_line("salesforce", added, db, len(CUSTOM_FIELDS), box.count())
        finally:
            box.close()

    def serve(
        self,
        db: Path,
        port: int,
        *,
        faults: FaultProfile,
        fault_seed: int,
        settings: Mapping[str, str],
    ) -> Serving:
        refuse_unknown(settings, SETTINGS, "Salesforce")
        box = SalesforceSandbox(db, faults=faults, fault_seed=fault_seed)
        if settings:
            edition = settings.get("edition", box.quota.edition)
            if edition not in EDITIONS:
                raise SettingError("--edition", f"one of {', '.join(EDITIONS)}")
            override = box.quota.allowance_override
            if "credits" in settings:
                override = _allowance(settings["credits"])
            box = SalesforceSandbox(
                db, quota=Quota(edition, override), faults=faults, fault_seed=fault_seed
            )
        server, creds = box.server(port)
        credentials = creds.as_dict()
        summary = [
            f"{self.name} sandbox on {server.base_url} (database {db}, {box.count()} accounts)",
            *(f"  {key:<16} {value}" for key, value in credentials.items()),
            f"  {'edition':<16} {box.quota.edition}, {box.quota.allowance} API calls a day, "
            f"{box.quota.concurrency} concurrent long requests; faults {faults.name}",
        ]
        env = {name: credentials[key] for key, name in SECRET_NAMES.items()}
        return Serving(server, credentials, summary, env, None)

    def stats(self, db: Path) -> dict[str, Any]:
        box = SalesforceSandbox(db)
        try:
            return stats(box.store, box.api_usage())
        finally:
            box.close()

    def demo(self, db: Path) -> DemoSandbox:
        raise NotImplementedError("crmqual has no Salesforce adapter yet")


def _allowance(text: str) -> int:
    if not text.strip().isdigit():
        raise SettingError("--credits", "a daily API allowance: a whole number of calls")
    return int(text)


DIALECT = SalesforceDialect()
