"""API calls of the Salesforce admin path on the sandbox, with the shipped mapping and policy:
`crmqual provision` on a fresh org, a second `provision` (reads only), `crmqual check`,
`provision --remove --delete-fields`; and a follow-up Task made, then asked for again.

Run by hand: ``python bench/salesforce_admin.py [--accounts N] [--profiles P ...]``. Runs the
adapter in process against a fresh, seeded Salesforce sandbox (client credentials on its My
Domain, as `crmqual demo --crm salesforce` does), prints one line per step and writes
``bench/results/salesforce_admin.json``. The calls are the HTTP client's own count (logins
excluded: the sandbox does not count them against the allowance either). Provisioning's
calls grow with the output fields (a create, two field permissions and a Metadata read per
field), not with the org's accounts; `check` makes a fixed dozen.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from crmqual.adapters.salesforce.adapter import SalesforceAdapter
from crmqual.adapters.salesforce.config import SalesforceConnection
from crmqual.compiled import compiled
from crmqual.contract import FollowUp
from crmqual.mapping import load_mapping, wanted_fields
from crmqual.policy import load_policy
from crmqual.sandbox.salesforce.backend import SalesforceCredentials, SalesforceSandbox
from crmqual.sandbox.salesforce.seed import seed_salesforce

HERE = Path(__file__).resolve().parent
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


def _adapter(creds: SalesforceCredentials, profiles: list[str]) -> SalesforceAdapter:
    connection = SalesforceConnection.model_validate(
        {
            "flow": "client_credentials",
            "login_url": creds.instance_url,
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "admin": {"access": {"integration_user": creds.username, "read_profiles": profiles}},
        }
    )
    return SalesforceAdapter(connection)


def _calls(adapter: SalesforceAdapter) -> int:
    """API calls, logins left out."""
    by_endpoint = adapter.calls.by_endpoint
    return sum(n for name, n in by_endpoint.items() if "oauth2/token" not in name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument("--profiles", nargs="*", default=["Standard User"])
    args = parser.parse_args()
    mapping, _ = load_mapping(None, "salesforce")
    wanted = wanted_fields(mapping, compiled(load_policy(None)).policy)
    inputs = [f for f in mapping.read_fields if f not in mapping.output_fields]
    steps: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as folder:
        box = SalesforceSandbox(Path(folder) / "sf.db")
        box.clock.freeze(START)
        seed_salesforce(box.store, args.accounts, seed=1, workers=0)
        with box.inprocess() as creds:

            def step(name: str, work: Any) -> None:
                adapter = _adapter(creds, args.profiles)
                began = time.perf_counter()
                what = work(adapter)
                seconds = time.perf_counter() - began
                steps.append(
                    {"step": name, "api_calls": _calls(adapter), "seconds": round(seconds, 2),
                     "result": what}
                )  # fmt: skip
                print(f"{name:<34} {_calls(adapter):4} API calls  {seconds:6.2f} s  {what}")

            step("provision (fresh org)", lambda a: f"{len(a.provision(wanted).steps)} steps")
            step("provision (again)", lambda a: f"{len(a.provision(wanted).steps)} steps")
            step("check", lambda a: f"exit {a.check(inputs, mapping.output_fields).exit_code}")
            item = FollowUp("0123456789abcdef01234567", box.account_ids()[0], "Downgrade", "")
            step("follow-up Task (new)", lambda a: a.create_followup(item))
            step("follow-up Task (again)", lambda a: a.create_followup(item))
            step(
                "provision --remove --delete-fields",
                lambda a: f"{len(a.unprovision(wanted, delete_fields=True))} removed",
            )
        box.close()
    result = {
        "accounts": args.accounts,
        "output_fields": len(wanted),
        "read_profiles": args.profiles,
        "steps": steps,
        "python": platform.python_version(),
        "date": datetime.now(UTC).date().isoformat(),
    }
    out = HERE / "results" / "salesforce_admin.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
