"""The CRM dialects the sandbox speaks: one package each beside the shared machinery.

A dialect package (``sandbox/zoho/``) holds its WSGI app, its handlers and schema,
``backend.<Crm>Sandbox`` (its Python API) and ``dialect.DIALECT``, the `SandboxDialect` that
`crmqual sandbox seed|serve|stats --crm NAME` drives. Adding a dialect (Salesforce, Fxiaoke)
adds its package and an entry to `DIALECTS`. The shared machinery (store, clock, faults, seed
data, server) never imports a dialect.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from crmqual.contract import ProvisionStep
from crmqual.sandbox.faults import FaultProfile
from crmqual.sandbox.observe import stats
from crmqual.sandbox.server import SandboxServer

#: ``--crm`` name -> the dialect's package
DIALECTS = {
    "zoho": "crmqual.sandbox.zoho",
    "salesforce": "crmqual.sandbox.salesforce",
    "fxiaoke": "crmqual.sandbox.fxiaoke",
}

#: `(done, total)` while seeding
SeedProgress = Callable[[int, int], None]


class SettingError(ValueError):
    """A dialect setting given to `serve` is unknown or invalid; `option` names the CLI
    option (``--edition``) so the message can point at it."""

    def __init__(self, option: str, reason: str) -> None:
        super().__init__(reason)
        self.option = option


@dataclass(frozen=True)
class Serving:
    """A dialect's sandbox bound to a listening server, before it serves."""

    server: SandboxServer
    #: what `serve --json` prints (URLs and credentials a client needs)
    credentials: dict[str, str]
    #: extra human-readable lines of `serve` (limits, faults ...)
    summary: list[str] = field(default_factory=list)
    #: environment variable -> value, for `serve --env-file`
    env: dict[str, str] = field(default_factory=dict)
    #: a crmqual.yaml for rehearsing against this sandbox, for `serve --write-config`
    config_yaml: str | None = None


class DemoSandbox(Protocol):
    """A dialect's sandbox as `crmqual demo` drives it: in process, with no port."""

    #: the record field that names the account (the demo lists the riskiest by name)
    name_field: str

    def seed(self, accounts: int, *, seed: int, bad_rate: float, on_progress: SeedProgress) -> None:
        """Seed `accounts` companies."""
        ...

    def connected(self) -> AbstractContextManager[dict[str, Any]]:
        """While open, `requests` calls to the CRM's hosts are answered by this sandbox; yields
        the `connection:` settings its adapter takes (as a crmqual.yaml would give them)."""
        ...

    def records(self) -> Iterator[dict[str, Any]]:
        """Every account as the CRM stores it (native field names)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class ConsoleFields(Protocol):
    """A demo sandbox of a CRM whose API cannot create fields (Fxiaoke): the demo asks it to
    do what the CRM's admin does in its console for provisioning's MANUAL steps."""

    def create_by_hand(self, steps: Sequence[ProvisionStep]) -> list[tuple[str, str]]:
        """Create the fields (and options) the steps list; (label, the CRM's name) of each."""
        ...


class SandboxDialect(Protocol):
    """What `crmqual sandbox` needs of a dialect. `settings` are the dialect's own `serve`
    options (``edition``, ``scopes`` ...), only those the user gave."""

    name: str

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
        """Seed `accounts` companies; return the one line `seed` prints."""
        ...

    def serve(
        self,
        db: Path,
        port: int,
        *,
        faults: FaultProfile,
        fault_seed: int,
        settings: Mapping[str, str],
    ) -> Serving:
        """Open the database and bind a server on 127.0.0.1:`port` (0: a free one); raise
        `SettingError` for a setting this dialect does not know or accept."""
        ...

    def stats(self, db: Path) -> dict[str, Any]:
        """What `sandbox stats --json` prints: at least `observe.stats(store)`'s keys."""
        ...

    def demo(self, db: Path) -> DemoSandbox:
        """The sandbox in `db` for `crmqual demo --crm NAME` (the demo itself refuses a CRM
        whose adapter is not installed, before calling this)."""
        ...


def refuse_unknown(settings: Mapping[str, str], known: Collection[str], crm: str) -> None:
    """A `SettingError` naming the first setting given that the dialect does not have."""
    unknown = sorted(set(settings) - set(known))
    if unknown:
        own = ", ".join(f"--{name}" for name in known) or "none"
        why = f"not a setting of the {crm} sandbox (its settings: {own})"
        raise SettingError(f"--{unknown[0]}", why)


def seeded_line(crm: str, added: int, db: Path, fields: int, total: int) -> str:
    """What `crmqual sandbox seed` prints."""
    return (
        f"seeded {added} {crm.lower()} accounts into {db} ({fields} custom input fields "
        f"declared; {total} accounts in total)"
    )


class FileDialect(ABC):
    """`seed` and `stats` as every dialect does them: open the sandbox file, seed it or count
    what it logged, close it. A dialect says how to open its file and seed its accounts."""

    name: str
    #: how many custom input fields the dialect's seed declares
    custom_fields: int
    #: the dialect's seed function: (store, accounts, seed, *, missing_rate, bad_rate,
    #: on_progress) -> how many were added
    seed_accounts: ClassVar[Callable[..., int]]

    @abstractmethod
    def open(self, db: Path) -> Any:
        """The dialect's sandbox (`Sandbox`) over the file `db`."""

    def usage(self, box: Any) -> dict[str, Any] | None:
        """The API usage `stats` reports (Zoho's credits ...); none by default."""
        return None

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
        with closing(self.open(db)) as box:
            # through the class: a plain function there, not bound to this dialect
            added = type(self).seed_accounts(
                box.store,
                accounts,
                seed,
                missing_rate=missing_rate,
                bad_rate=bad_rate,
                on_progress=on_progress,
            )
            return seeded_line(self.name, added, db, self.custom_fields, box.count())

    def stats(self, db: Path) -> dict[str, Any]:
        with closing(self.open(db)) as box:
            return stats(box.store, self.usage(box))


class BoxDemo:
    """A demo sandbox over a dialect's `Sandbox` object: its records as stored, closed with
    it. A dialect adds `name_field`, `seed` and `connected`."""

    def __init__(self, box: Any) -> None:
        self.box = box

    def records(self) -> Iterator[dict[str, Any]]:
        records: Iterator[dict[str, Any]] = self.box.records()
        return records

    def close(self) -> None:
        self.box.close()


def serving_summary(
    crm: str, base_url: str, db: Path, accounts: int, credentials: Mapping[str, str], width: int
) -> list[str]:
    """The first lines `serve` prints: where it serves what, then the credentials in a column
    `width` wide."""
    return [
        f"{crm} sandbox on {base_url} (database {db}, {accounts} accounts)",
        *(f"  {key:<{width}} {value}" for key, value in credentials.items()),
    ]


def env_of(credentials: Mapping[str, str], names: Mapping[str, str]) -> dict[str, str]:
    """`serve --env-file`'s variables: credentials key -> variable name in `names`."""
    return {name: credentials[key] for key, name in names.items()}


def load(name: str) -> SandboxDialect:
    """The dialect called `name` (one of `DIALECTS`)."""
    module = importlib.import_module(f"{DIALECTS[name]}.dialect")
    dialect: SandboxDialect = module.DIALECT
    return dialect
