"""One exception tree for crmqual; each error's class gives its kind, each kind its exit code.

Exit codes follow who must act, and are derived here only (``EXIT_CODES``): 2
configuration, mapping or input error; 3 CRM unreachable or authentication failed; 4
another run holds the lock; 5 stopped early to respect an API quota; 6 the state store
failed (full disk, database server down); 1 some records failed; 0 all good. When several
apply, the most severe wins (``SEVERITY``).
"""

from __future__ import annotations

import errno
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar


class ExitCode:
    OK = 0
    RECORDS_FAILED = 1
    CONFIG = 2
    CRM_UNAVAILABLE = 3
    LOCKED = 4
    QUOTA = 5
    STATE_STORE = 6


class ErrorKind(StrEnum):
    """Who must act on a failure; the data an exit code is derived from."""

    RECORDS = "records"  # some records failed: the data owner
    CONFIG = "config"  # configuration, policy, mapping or input: the admin
    CRM_UNAVAILABLE = "crm_unavailable"  # unreachable, credentials or scopes: admin / network
    LOCKED = "locked"  # another run holds the lock: wait
    QUOTA = "quota"  # stopped at the API quota: nobody, rerun later
    STATE_STORE = "state_store"  # the state store failed (disk full, server down): the admin


EXIT_CODES = {
    ErrorKind.RECORDS: ExitCode.RECORDS_FAILED,
    ErrorKind.CONFIG: ExitCode.CONFIG,
    ErrorKind.CRM_UNAVAILABLE: ExitCode.CRM_UNAVAILABLE,
    ErrorKind.LOCKED: ExitCode.LOCKED,
    ErrorKind.QUOTA: ExitCode.QUOTA,
    ErrorKind.STATE_STORE: ExitCode.STATE_STORE,
}

#: Most severe first: a broken configuration hides everything else, a failed record least.
#: A failed state store comes right after: until it works again nothing a run does can be
#: recorded, so whatever the CRM, the lock or the quota said cannot be acted on either.
SEVERITY = (
    ErrorKind.CONFIG,
    ErrorKind.STATE_STORE,
    ErrorKind.CRM_UNAVAILABLE,
    ErrorKind.LOCKED,
    ErrorKind.QUOTA,
    ErrorKind.RECORDS,
)


def exit_code_of_kind(kind: ErrorKind | None) -> int:
    return ExitCode.OK if kind is None else EXIT_CODES[kind]


def most_severe(kinds: Iterable[ErrorKind]) -> ErrorKind | None:
    present = set(kinds)
    return next((k for k in SEVERITY if k in present), None)


class CrmqualError(Exception):
    """Base of every error crmqual raises on purpose; ``zh`` is its message in Chinese where
    crmqual writes one (a CRM's own message stays as the CRM gave it)."""

    kind: ClassVar[ErrorKind] = ErrorKind.CONFIG
    zh: str = ""

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.kind]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration, mapping, policy or input file; ``zh`` is the
    reason in Chinese (empty where only English exists, e.g. a CRM's own message)."""

    file: str
    key: str
    reason: str
    zh: str = field(default="", kw_only=True)

    def where(self) -> str:
        return f"{self.file}: {self.key}" if self.key else self.file

    def reason_in(self, lang: str) -> str:
        return self.zh if lang == "zh" and self.zh else self.reason

    def text(self, lang: str = "en") -> str:
        """``where: reason`` in ``lang``."""
        return f"{self.where()}: {self.reason_in(lang)}"

    def __str__(self) -> str:
        return self.text()


class Invalid(ValueError):
    """A validator's refusal in both languages: pydantic keeps the exception in the error's
    context, so the Chinese reason reaches the problem list (``yamlfile.validation_problems``)."""

    def __init__(self, en: str, zh: str) -> None:
        super().__init__(en)
        self.zh = zh


class ConfigError(CrmqualError):
    """A configuration, policy or mapping is invalid; carries every problem found."""

    kind = ErrorKind.CONFIG

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class InputError(CrmqualError):
    """An input file cannot be read at all (as opposed to one bad row)."""

    kind = ErrorKind.CONFIG

    def __init__(self, message: str, *, zh: str = "") -> None:
        super().__init__(message)
        self.zh = zh


#: what the operating system's most common refusals mean, in Chinese
_OS_ZH = {
    errno.ENOENT: "文件不存在",
    errno.EACCES: "没有读取权限",
    errno.EPERM: "没有权限",
    errno.EISDIR: "这是一个目录，不是文件",
    errno.ENOSPC: "磁盘已满",
}


def cannot_read(exc: OSError) -> tuple[str, str]:
    """("cannot read: why", the same in Chinese) for a file the OS would not open."""
    why = exc.strerror or type(exc).__name__
    return f"cannot read: {why}", f"无法读取：{_OS_ZH.get(exc.errno or 0, why)}"


class CrmUnavailableError(CrmqualError):
    """The CRM cannot be reached or refused our credentials."""

    kind = ErrorKind.CRM_UNAVAILABLE


class AuthError(CrmUnavailableError):
    """Credentials were refused or lack a scope; ``code`` is the CRM's own error code."""

    def __init__(self, message: str, *, code: str = "") -> None:
        self.code = code
        super().__init__(message)


class TransientError(CrmUnavailableError):
    """A failure worth retrying (timeout, lost connection, 5xx); raised once retries are spent.

    ``retry_after`` is the server's own hint in seconds, when it gave one.
    """

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(message)


class RateLimitedError(TransientError):
    """The CRM asked us to slow down (e.g. HTTP 429 for concurrency); never a record failure."""


class ApiError(CrmUnavailableError):
    """The CRM answered with an error we cannot work around."""

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status: int | None = None,
        code: str = "",
        record_id: str = "",
    ) -> None:
        self.url = url
        self.status = status
        self.code = code
        self.record_id = record_id
        super().__init__(message)


class ReadTooLargeError(CrmqualError):
    """A read would pass what the CRM's paged API can reach; it needs the bulk path instead.

    Raised before anything is read, so nothing is written: the admin narrows the filter or
    uses the bulk path.
    """

    kind = ErrorKind.CONFIG


class LockHeldError(CrmqualError):
    """Another run holds the lock for this CRM and state store."""

    kind = ErrorKind.LOCKED


class QuotaReachedError(CrmqualError):
    """The API quota reserve was reached; state is saved and the next run resumes."""

    kind = ErrorKind.QUOTA


class StateStoreError(CrmqualError):
    """The state store cannot be opened or used: a full disk, an unwritable file, a database
    server that is down or refuses us. Nothing is lost: what a run recorded before stays, and
    the next run resumes its pending writes."""

    kind = ErrorKind.STATE_STORE


class StateStoreUrlError(StateStoreError):
    """The state store's URL names a database crmqual does not support: a configuration
    error, fixed in ``crmqual.yaml`` (or ``$CRMQUAL_STATE_URL``)."""

    kind = ErrorKind.CONFIG


class UnsupportedError(CrmqualError):
    """Asked of an adapter something its CRM's API cannot do (its capabilities say so)."""

    kind = ErrorKind.CONFIG


class WriteNotAllowedError(CrmqualError):
    """A write carried a field the mapping does not declare as output: a bug, never sent."""
