"""What the Zoho, Salesforce and Fxiaoke test backends share: a sandbox served by `crmqual
sandbox serve` as its own process, the contract backend's moves on a sandbox whose clock stands
still, `crmqual` as a command (in-process or as a subprocess), and the end-to-end `Org`.

Each CRM's backend module keeps what differs: its native names, credentials, crmqual.yaml.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Generic, Protocol, TypeVar

import yaml
from click.testing import CliRunner

from crmqual.cli.main import main
from crmqual.contract_suite import LoggedWrite
from crmqual.sandbox.store import WriteEntry


@contextmanager
def served(argv: Sequence[str], log: Path, startup_s: float = 60.0) -> Iterator[dict[str, Any]]:
    """Run `argv` (a `crmqual sandbox serve ... --json`), its stderr to `log`; yield the
    credentials it prints on its first line; killed on exit."""
    with log.open("w", encoding="utf-8") as errors:
        proc = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=errors, text=True)
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            ready = sel.select(timeout=startup_s)
        line = proc.stdout.readline() if ready else ""
        if not line:
            proc.kill()
            proc.wait(timeout=10)
            raise AssertionError(
                f"`crmqual sandbox serve` printed nothing (exit {proc.returncode}): "
                f"{log.read_text('utf-8')[-2000:]}"
            )
        yield json.loads(line)
    finally:
        proc.kill()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def secrets_of(creds: object, secret_env: Mapping[str, str]) -> dict[str, str]:
    """The values of the variables a crmqual.yaml names: credential attribute -> variable."""
    return {name: getattr(creds, key) for key, name in secret_env.items()}


def crmqual_argv(config: Path, *args: str) -> list[str]:
    """argv of `crmqual ARGS -c config` in a subprocess."""
    return [sys.executable, "-m", "crmqual", *args, "-c", str(config)]


def logged_write(entry: WriteEntry, record_id: str) -> LoggedWrite:
    """A sandbox write log entry as the contract sees it: crmqual's own clients as `crmqual`."""
    return LoggedWrite(
        record_id,
        {name: new for name, (_old, new) in entry.changes.items()},
        "crmqual" if entry.client.startswith("crmqual/") else entry.client,
    )


class SandboxBackend(ABC):
    """The contract's moves on a sandbox whose clock stands still: it moves one second before
    each load or hand edit, so every change has its own modified time."""

    box: Any

    @abstractmethod
    def native_name(self, model_field: str) -> str:
        """The sandbox's name of a common-model field."""

    def load(self, records: Sequence[Mapping[str, Any]]) -> list[str]:
        self.box.clock.advance(1)
        ids: list[str] = self.box.load_records(
            [{self.native_name(k): v for k, v in r.items()} for r in records]
        )
        return ids

    def hand_edit(self, record_id: str, changes: Mapping[str, Any]) -> None:
        self.box.clock.advance(1)
        self.box.hand_edit(record_id, dict(changes))


class CommandBackend(SandboxBackend):
    """A sandbox backend with a crmqual.yaml in `folder` whose secrets are `${ENV}`
    references (`secret_env`: credential attribute -> variable), their values in `env()`;
    `sync_command` runs `crmqual` against it in a subprocess (which needs a served sandbox)."""

    secret_env: ClassVar[Mapping[str, str]]
    creds: Any
    served: bool
    folder: Path | None
    config: Path | None

    @abstractmethod
    def write_config(self) -> Path:
        """Write `folder`/crmqual.yaml for this org; set and return `config`."""

    def save_config(self, config: Mapping[str, Any]) -> Path:
        """`config` as `folder`/crmqual.yaml, now this backend's `config`."""
        if self.folder is None:
            raise AssertionError(f"a {type(self).__name__} without a folder has no crmqual.yaml")
        self.config = self.folder / "crmqual.yaml"
        self.config.write_text(yaml.safe_dump(dict(config), sort_keys=False), encoding="utf-8")
        return self.config

    def secret_references(self) -> dict[str, str]:
        """The secrets as the config names them: credential attribute -> `${VARIABLE}`."""
        return {key: "${" + name + "}" for key, name in self.secret_env.items()}

    def secrets(self) -> dict[str, str]:
        """The values of the variables the config names."""
        return secrets_of(self.creds, self.secret_env)

    def env(self) -> dict[str, str]:
        """The environment of a `crmqual` subprocess: this one's, plus the secrets."""
        return {**os.environ, **self.secrets()}

    def sync_command(self, *args: str) -> list[str]:
        """argv of `crmqual ARGS -c crmqual.yaml`; run it with `env()`."""
        if not self.served:
            raise RuntimeError("an in-process sandbox cannot serve another process: serve it")
        if self.config is None:
            self.write_config()
        assert self.config is not None
        return crmqual_argv(self.config, *args)


BoxT = TypeVar("BoxT")
BackendT = TypeVar("BackendT", bound=CommandBackend)


@dataclass
class Org(Generic[BoxT, BackendT]):
    """A seeded sandbox org and a crmqual.yaml for it; `crmqual(...)` runs a command, in this
    process (`mode` "inprocess") or as a subprocess against the served sandbox ("served")."""

    mode: str
    box: BoxT
    backend: BackendT
    as_of: ClassVar[str]

    def crmqual(self, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
        if self.mode == "served":
            done = subprocess.run(
                self.backend.sync_command(*args),
                env={**self.backend.env(), **(env or {})},
                capture_output=True,
                text=True,
                timeout=300,
            )
            return done.returncode, done.stdout, done.stderr
        assert self.backend.config is not None
        result = CliRunner().invoke(
            main, [*args, "-c", str(self.backend.config)], env=self.backend.secrets() | (env or {})
        )
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return result.exit_code, result.stdout, result.stderr

    def sync(self, *args: str) -> tuple[int, dict[str, Any]]:
        code, out, err = self.crmqual("sync", "--json", "--as-of", self.as_of, *args)
        assert out.strip(), f"exit {code}: {err}"
        return code, json.loads(out.strip().splitlines()[-1])

    def spawn(self, *args: str) -> subprocess.Popen[str]:
        """`crmqual ARGS` in the background, its stderr to `spawned.log` in the folder."""
        assert self.backend.folder is not None
        with (self.backend.folder / "spawned.log").open("a", encoding="utf-8") as log:
            return subprocess.Popen(
                self.backend.sync_command(*args),
                env=self.backend.env(),
                stdout=subprocess.DEVNULL,
                stderr=log,
                text=True,
            )

    def spawned_log(self) -> str:
        assert self.backend.folder is not None
        return (self.backend.folder / "spawned.log").read_text("utf-8")[-3000:]


def no_sleep(seconds: float) -> None:
    """In-process faults' latency is not waited out (served, it is real)."""


def until_ok(step: Callable[[], int], attempts: int = 8) -> list[int]:
    """Run `step` until it exits 0; the exit codes seen."""
    codes = [step()]
    while codes[-1] != 0 and len(codes) < attempts:
        codes.append(step())
    return codes


class _Writes(Protocol):
    def ours(self) -> Sequence[Any]: ...


def wait_for_writes(org: _Writes, entries: int, proc: subprocess.Popen[str]) -> None:
    """Until crmqual's write log holds `entries` entries, or the process ended."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if len(org.ours()) >= entries or proc.poll() is not None:
            return
        time.sleep(0.005)
    raise AssertionError(f"the sync wrote fewer than {entries} records in 60 s")
