"""Zoho's side of `crmqual sandbox seed|serve|stats`: `DIALECT`."""

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
from crmqual.sandbox.server import SandboxServer
from crmqual.sandbox.zoho.backend import ZohoSandbox
from crmqual.sandbox.zoho.hosts import ZohoHosts
from crmqual.sandbox.zoho.quota import EDITIONS, Quota, parse_credits
from crmqual.sandbox.zoho.scopes import ALL_SCOPES, is_valid
from crmqual.sandbox.zoho.seed import CUSTOM_FIELDS, seed_zoho

#: What crmqual.yaml names the sandbox's credentials (the same names as for a real org).
SECRET_NAMES = {
    "client_id": "ZOHO_CLIENT_ID",
    "client_secret": "ZOHO_CLIENT_SECRET",
    "refresh_token": "ZOHO_REFRESH_TOKEN",
}
SETTINGS = ("scopes", "edition", "credits")


class ZohoDialect(FileDialect):
    name = "zoho"
    custom_fields = len(CUSTOM_FIELDS)
    seed_accounts = seed_zoho

    def open(self, db: Path) -> ZohoSandbox:
        return ZohoSandbox(db)

    def serve(
        self,
        db: Path,
        port: int,
        *,
        faults: FaultProfile,
        fault_seed: int,
        settings: Mapping[str, str],
    ) -> Serving:
        refuse_unknown(settings, SETTINGS, "Zoho")
        granted = _scopes(settings.get("scopes"))
        box = ZohoSandbox(db, faults=faults, fault_seed=fault_seed)
        if "edition" in settings or "credits" in settings:
            edition = settings.get("edition", box.quota.edition)
            if edition not in EDITIONS:
                raise SettingError("--edition", f"one of {', '.join(EDITIONS)}")
            credits = box.quota.credits
            if "credits" in settings:
                credits = _credits(settings["credits"])
            box = ZohoSandbox(
                db, quota=Quota(edition, credits), faults=faults, fault_seed=fault_seed
            )
        app = box.app(None)
        server = SandboxServer(app, port)
        app.api_domain = server.base_url
        credentials = box.credentials(ZohoHosts.single(server.base_url), granted).as_dict()
        allowance = box.quota.allowance
        summary = [
            *serving_summary(self.name, server.base_url, db, box.count(), credentials, 14),
            f"  {'scopes':<14} {','.join(granted)}",
            f"  {'edition':<14} {box.quota.edition}, "
            f"{'unlimited' if allowance is None else allowance} credits a day, "
            f"{box.quota.concurrency} concurrent calls; faults {faults.name}",
        ]
        env = env_of(credentials, SECRET_NAMES)
        return Serving(server, credentials, summary, env, rehearsal_config(server.base_url, db))

    def usage(self, box: ZohoSandbox) -> dict[str, Any]:
        return box.credits()

    def demo(self, db: Path) -> DemoSandbox:
        return ZohoDemo(ZohoSandbox(db))


class ZohoDemo(BoxDemo):
    """The Zoho sandbox as `crmqual demo` drives it."""

    name_field = "Account_Name"

    def seed(self, accounts: int, *, seed: int, bad_rate: float, on_progress: SeedProgress) -> None:
        seed_zoho(self.box.store, accounts, seed, bad_rate=bad_rate, on_progress=on_progress)

    @contextmanager
    def connected(self) -> Iterator[dict[str, Any]]:
        with self.box.inprocess() as creds:
            yield {
                "client_id": creds.client_id,
                "client_secret": creds.client_secret,
                "refresh_token": creds.refresh_token,
            }


def rehearsal_config(base_url: str, db: Path) -> str:
    """A crmqual.yaml for rehearsing against this sandbox: its hosts, the credentials as
    environment references like a real org's, a state store beside the file."""
    secrets = "\n".join(f"  {key}: ${{{name}}}" for key, name in SECRET_NAMES.items())
    return f"""# crmqual configuration for the local Zoho sandbox at {base_url} (database {db}),
# written by `crmqual sandbox serve --write-config`. The credentials are the sandbox's own,
# read from the environment like a real org's: source the file `--env-file` wrote.
# Next: `crmqual check`, `crmqual provision`, `crmqual sync --dry-run`, `crmqual sync`.
crm: zoho
target: zoho-sandbox
connection:
  accounts_url: {base_url}
  api_domain: {base_url}
{secrets}
  bulk:
    upload_url: {base_url}
state: sqlite:///crmqual-sandbox-state.sqlite
"""


def _scopes(text: str | None) -> tuple[str, ...]:
    if not text:
        return ALL_SCOPES
    granted = tuple(s.strip() for s in text.split(",") if s.strip())
    bad = [s for s in granted if not is_valid(s)]
    if bad:
        raise SettingError("--scopes", f"not Zoho scopes: {', '.join(bad)}")
    return granted


def _credits(text: str) -> int | None:
    try:
        return parse_credits(text)
    except ValueError:
        raise SettingError("--credits", "a number or 'unlimited'") from None


DIALECT = ZohoDialect()
