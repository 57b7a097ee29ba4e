"""Salesforce's side of `crmqual sandbox seed|serve|stats`: `DIALECT`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crmqual.sandbox.dialects import (
    BoxDemo,
    DemoSandbox,
    FileDialect,
    SeedProgress,
    Serving,
    SettingError,
    env_of,
    refuse_unknown,
    serving_summary,
)
from crmqual.sandbox.faults import FaultProfile
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


class SalesforceDialect(FileDialect):
    name = "salesforce"
    custom_fields = len(CUSTOM_FIELDS)
    seed_accounts = seed_salesforce

    def open(self, db: Path) -> SalesforceSandbox:
        return SalesforceSandbox(db)

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
            *serving_summary(self.name, server.base_url, db, box.count(), credentials, 16),
            f"  {'edition':<16} {box.quota.edition}, {box.quota.allowance} API calls a day, "
            f"{box.quota.concurrency} concurrent long requests; faults {faults.name}",
        ]
        env = env_of(credentials, SECRET_NAMES)
        ca_file = str(Path(credentials["ca_file"]).resolve())
        config = rehearsal_config(server.base_url, db, ca_file)
        return Serving(server, credentials, summary, env, config)

    def usage(self, box: SalesforceSandbox) -> dict[str, Any]:
        return box.api_usage()

    def demo(self, db: Path) -> DemoSandbox:
        return SalesforceDemo(SalesforceSandbox(db))


class SalesforceDemo(BoxDemo):
    """The Salesforce sandbox as `crmqual demo --crm salesforce` drives it: in process on the
    org's My Domain, logged in with client credentials as the integration user, the output
    fields readable by the org's Standard Users once provisioned."""

    name_field = "Name"

    def seed(self, accounts: int, *, seed: int, bad_rate: float, on_progress: SeedProgress) -> None:
        seed_salesforce(self.box.store, accounts, seed, bad_rate=bad_rate, on_progress=on_progress)

    @contextmanager
    def connected(self) -> Iterator[dict[str, Any]]:
        with self.box.inprocess() as creds:
            yield {
                "flow": "client_credentials",
                "login_url": creds.instance_url,
                "client_id": creds.client_id,
                "client_secret": creds.client_secret,
                "admin": {
                    "access": {
                        "integration_user": creds.username,
                        "read_profiles": ["Standard User"],
                    }
                },
            }


def rehearsal_config(base_url: str, db: Path, ca_file: str) -> str:
    """A crmqual.yaml for rehearsing against this sandbox: the JWT bearer flow with logins at
    its origin, the credentials as environment references like a real org's, its CA file (new
    at every start), a state store beside the file."""
    return f"""# crmqual configuration for the local Salesforce sandbox at {base_url}
# (database {db}), written by `crmqual sandbox serve --write-config`. The credentials are
# the sandbox's own, read from the environment like a real org's: source the file
# `--env-file` wrote.
# Next: `crmqual check`, `crmqual provision`, `crmqual sync --dry-run`, `crmqual sync`.
crm: salesforce
target: salesforce-sandbox
connection:
  flow: jwt
  login_url: {base_url}
  client_id: ${{{SECRET_NAMES["client_id"]}}}
  username: ${{{SECRET_NAMES["username"]}}}
  private_key_file: ${{{SECRET_NAMES["private_key_file"]}}}
  ca_file: {ca_file}
state: sqlite:///crmqual-sandbox-state.sqlite
"""


def _allowance(text: str) -> int:
    if not text.strip().isdigit():
        raise SettingError("--credits", "a daily API allowance: a whole number of calls")
    return int(text)


DIALECT = SalesforceDialect()
