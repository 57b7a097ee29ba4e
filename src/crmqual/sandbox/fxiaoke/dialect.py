"""Fxiaoke's side of `crmqual sandbox seed|serve|stats|fields`: `DIALECT`."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from crmqual.contract import FieldType, ProvisionStep
from crmqual.errors import ConfigError
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
from crmqual.sandbox.fxiaoke.backend import FxiaokeSandbox
from crmqual.sandbox.fxiaoke.fields import KINDS, ensure_fields, fields_file
from crmqual.sandbox.fxiaoke.seed import CUSTOM_FIELDS, seed_fxiaoke
from crmqual.sandbox.fxiaoke.settings import FxiaokeSettings, settings_file
from crmqual.sandbox.server import SandboxServer
from crmqual.sandbox.store import iso

SETTINGS = ("rate", "settings", "fields")
ENV_NAMES = {
    "base_url": "FXIAOKE_BASE_URL",
    "app_id": "FXIAOKE_APP_ID",
    "app_secret": "FXIAOKE_APP_SECRET",
    "permanent_code": "FXIAOKE_PERMANENT_CODE",
    "open_user_id": "FXIAOKE_OPEN_USER_ID",
    "employee_id": "FXIAOKE_EMPLOYEE_ID",
    "corp_id": "FXIAOKE_CORP_ID",
}


class FxiaokeDialect(FileDialect):
    name = "fxiaoke"
    custom_fields = len(CUSTOM_FIELDS)
    seed_accounts = seed_fxiaoke

    def open(self, db: Path) -> FxiaokeSandbox:
        return FxiaokeSandbox(db)

    def serve(
        self,
        db: Path,
        port: int,
        *,
        faults: FaultProfile,
        fault_seed: int,
        settings: Mapping[str, str],
    ) -> Serving:
        refuse_unknown(settings, SETTINGS, "Fxiaoke")
        box = FxiaokeSandbox(db)
        current = box.settings
        try:
            if "settings" in settings:
                current = settings_file(settings["settings"], current)
            if "rate" in settings:
                rate = int(settings["rate"])
                if rate < 0:
                    raise ValueError
                current = current.model_copy(update={"rate_per_second": rate})
        except ConfigError as exc:
            raise SettingError("--settings", str(exc)) from None
        except ValueError:
            raise SettingError(
                "--rate", "a whole number of calls per second (0: no limit)"
            ) from None
        added = []
        if "fields" in settings:
            try:
                new = fields_file(settings["fields"])
                added = ensure_fields(box.store, new, iso(box.clock.now()))
            except (ConfigError, ValueError, OSError) as exc:
                raise SettingError("--fields", str(exc)) from None
        box = FxiaokeSandbox(db, settings=current, faults=faults, fault_seed=fault_seed)
        server = SandboxServer(box.app(), port)
        credentials = box.credentials(server.base_url).as_dict()
        s = box.settings
        summary = [
            *serving_summary(self.name, server.base_url, db, box.count(), credentials, 15),
            f"  {'rate':<15} "
            f"{s.rate_per_second or 'unlimited'} calls a second; query limit <= {s.max_limit}; "
            f"faults {faults.name}",
            *(f"  field added    {f.label} -> {f.api_name}" for f in added),
        ]
        env = env_of(credentials, ENV_NAMES)
        config = rehearsal_config(server.base_url, db, s.rate_per_second)
        return Serving(server, credentials, summary, env, config)

    def demo(self, db: Path) -> DemoSandbox:
        return FxiaokeDemo(FxiaokeSandbox(db, settings=FxiaokeSettings(rate_per_second=0)))

    # -- the console's field screen (`crmqual sandbox fields --crm fxiaoke`) ------------------
    def add_field(
        self,
        db: Path,
        label: str,
        kind: str,
        options: Sequence[str],
        decimals: int | None,
        unit: str | None,
    ) -> str:
        if kind not in KINDS:
            raise ValueError(f"--type must be one of {', '.join(KINDS)}")
        box = FxiaokeSandbox(db)
        try:
            made = box.add_field(label, kind, options, decimals=decimals, unit=unit)
            return f"{made.api_name}\t{made.label}\t{made.data_type}"
        finally:
            box.close()

    def list_fields(self, db: Path) -> list[dict[str, Any]]:
        box = FxiaokeSandbox(db)
        try:
            return [
                {
                    "api_name": f.api_name,
                    "label": f.label,
                    "type": f.data_type,
                    "custom": f.custom,
                    "options": [p.display_value for p in f.picklist],
                    "unit": box.units().get(f.api_name),
                }
                for f in box.fields()
            ]
        finally:
            box.close()


class FxiaokeDemo(BoxDemo):
    """The Fxiaoke sandbox as `crmqual demo` drives it: no rate limit on either side (the
    benchmark uses a realistic one), and the admin's console for the output fields."""

    name_field = "name"

    def seed(self, accounts: int, *, seed: int, bad_rate: float, on_progress: SeedProgress) -> None:
        seed_fxiaoke(self.box.store, accounts, seed, bad_rate=bad_rate, on_progress=on_progress)

    @contextmanager
    def connected(self) -> Iterator[dict[str, Any]]:
        with self.box.inprocess() as creds:
            yield {
                "base_url": creds.base_url,
                "app_id": creds.app_id,
                "app_secret": creds.app_secret,
                "permanent_code": creds.permanent_code,
                "user": creds.employee_id,
                "limits": {"rate_per_second": 100_000},
            }

    def create_by_hand(self, steps: Sequence[ProvisionStep]) -> list[tuple[str, str]]:
        """Each field as the admin creates it in the console, under its Chinese label."""
        made = []
        for step in steps:
            spec = step.field
            label = spec.label_zh or spec.label
            decimals = 0 if spec.type == FieldType.INTEGER else None
            options = step.values or spec.picklist
            made.append(
                (
                    label,
                    self.box.add_field(label, step.crm_type, options, decimals=decimals).api_name,
                )
            )
        return made

    def records(self) -> Iterator[dict[str, Any]]:
        """Every customer with its select fields' options as the CRM shows them (labels)."""
        labels = {
            f.api_name: {p.actual_value: p.display_value for p in f.picklist}
            for f in self.box.fields()
            if f.picklist and f.custom
        }
        for record in self.box.records():
            for name, table in labels.items():
                value = record.get(name)
                if isinstance(value, list):
                    record[name] = [table.get(v, v) for v in value]
                elif value is not None:
                    record[name] = table.get(value, value)
            yield record


def rehearsal_config(base_url: str, db: Path, rate: int) -> str:
    """A crmqual.yaml for rehearsing against this sandbox: its host, header-mode tokens, the
    credentials as environment references like a real tenant's (source the `--env-file`),
    crmqual's own rate just under the sandbox's, a state store beside the file."""
    own = max(rate - 1, 1) if rate else 1000
    return f"""# crmqual configuration for the local Fxiaoke sandbox at {base_url} (database {db}),
# written by `crmqual sandbox serve --write-config`. The credentials are the sandbox's own,
# read from the environment like a real tenant's: source the file `--env-file` wrote.
# Next: `crmqual provision` (the fields to create: `crmqual sandbox fields add --crm fxiaoke`
# is the console), `crmqual check`, `crmqual sync --dry-run`, `crmqual sync`.
crm: fxiaoke
target: fxiaoke-sandbox
lang: zh
connection:
  base_url: {base_url}
  token_mode: header
  app_id: ${{FXIAOKE_APP_ID}}
  app_secret: ${{FXIAOKE_APP_SECRET}}
  permanent_code: ${{FXIAOKE_PERMANENT_CODE}}
  user: ${{FXIAOKE_EMPLOYEE_ID}}
  limits:
    rate_per_second: {own}
state: sqlite:///crmqual-sandbox-state.sqlite
"""


DIALECT = FxiaokeDialect()
