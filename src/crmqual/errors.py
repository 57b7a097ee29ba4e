"""One exception tree for crmqual; each error knows the exit code it maps to.

Exit codes follow who must act (the most severe wins when several apply):
2 configuration, mapping or input error; 3 CRM unreachable or authentication
failed; 4 another run holds the lock; 5 stopped early to respect an API quota;
1 some records failed; 0 all good.
"""

from __future__ import annotations

from dataclasses import dataclass


class ExitCode:
    OK = 0
    RECORDS_FAILED = 1
    CONFIG = 2
    CRM_UNAVAILABLE = 3
    LOCKED = 4
    QUOTA = 5


class CrmqualError(Exception):
    """Base of every error crmqual raises on purpose."""

    exit_code = ExitCode.CONFIG


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a configuration, mapping, policy or input file."""

    file: str
    key: str
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}" if self.key else self.file
        return f"{where}: {self.reason}"


class ConfigError(CrmqualError):
    """A configuration, policy or mapping is invalid; carries every problem found."""

    exit_code = ExitCode.CONFIG

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class InputError(CrmqualError):
    """An input file cannot be read at all (as opposed to one bad row)."""

    exit_code = ExitCode.CONFIG


class CrmUnavailableError(CrmqualError):
    """The CRM cannot be reached or refused our credentials."""

    exit_code = ExitCode.CRM_UNAVAILABLE


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

    exit_code = ExitCode.CRM_UNAVAILABLE

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

    exit_code = ExitCode.CONFIG


class LockHeldError(CrmqualError):
    """Another run holds the lock for this CRM and state store."""

    exit_code = ExitCode.LOCKED


class QuotaReachedError(CrmqualError):
    """The API quota reserve was reached; state is saved and the next run resumes."""

    exit_code = ExitCode.QUOTA


class StateStoreError(CrmqualError):
    """The state store cannot be opened or used (bad URL, server down, unsupported database)."""


class WriteNotAllowedError(CrmqualError):
    """A write carried a field the mapping does not declare as output: a bug, never sent."""
