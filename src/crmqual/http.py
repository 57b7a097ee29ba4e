"""The one place crmqual talks HTTP: sessions, timeouts, retries, error classes, redaction.

Nothing here knows a CRM. An adapter builds one ``HttpClient`` and gives it:

- a *classifier*: the CRM's answer -> a ``Verdict`` (an ``Action`` plus the CRM's own code
  and message), usually an ``ErrorTable`` lookup after the adapter has read the code out of
  the body;
- optionally a ``TokenAuth`` (headers for each attempt; refreshed once on ``REFRESH``),
  a ``before_call`` hook (e.g. a quota check that raises before a call is sent) and an
  ``observe`` hook (e.g. to read rate-limit headers or the ``Date`` header).

Every request has a (connect, read) timeout. Retries are built once, with tenacity, and this
is the only place crmqual retries: timeouts, lost connections, ``RETRY`` and ``RATE_LIMITED``
answers are retried with exponential backoff and full jitter, a server's ``Retry-After`` is
honoured, attempts and the total time spent waiting are bounded, and the last error is
re-raised as a crmqual error (each ``Action`` has one error class, ``ERROR_CLASSES``).
``HttpClient.retrying`` runs a larger logical operation under the same policy: a download
whose stream breaks, a create that must be looked up before it is sent again.
Secrets registered with ``SECRETS`` never appear in log lines, error messages or reprs.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base
from tenacity.wait import wait_exponential, wait_random_exponential

from crmqual.errors import (
    ApiError,
    AuthError,
    CrmqualError,
    QuotaReachedError,
    RateLimitedError,
    TransientError,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

MASK = "****"
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


# -- secret redaction ------------------------------------------------------------------------
class Redactor:
    """Secrets registered once; ``redact`` masks every one of them in a text."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def register(self, *secrets: str | None) -> None:
        """Mask these from now on (very short values are ignored: they would mask words)."""
        with self._lock:
            new = {s for s in secrets if s and len(s) >= 6} - self._secrets
            if not new:
                return
            self._secrets |= new
            longest_first = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(s) for s in longest_first))

    def redact(self, text: str) -> str:
        pattern = self._pattern
        return text if pattern is None else pattern.sub(MASK, text)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Headers safe to show: credentials masked whole, other values redacted."""
        return {
            k: MASK if k.lower() in _SECRET_HEADERS else self.redact(v) for k, v in headers.items()
        }

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"


class RedactingFilter(logging.Filter):
    """A logging filter that masks registered secrets in every record it sees."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self.redactor.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = self.redactor.redact(
                logging.Formatter().formatException(record.exc_info)
            )
            record.exc_info = None
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        return True


SECRETS = Redactor()
"""The process's secret registry: credentials are registered when a connection is built."""


def install_redaction(
    target: logging.Handler | logging.Logger, redactor: Redactor = SECRETS
) -> None:
    """Mask secrets in everything ``target`` emits (attach to the log handlers the CLI sets up)."""
    target.addFilter(RedactingFilter(redactor))


def safe_url(url: str, redactor: Redactor = SECRETS) -> str:
    """A URL fit for a message: no user info, secrets masked."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    return redactor.redact(urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")))


# -- classification --------------------------------------------------------------------------
class Action(StrEnum):
    """What to do with an answer."""

    OK = "ok"
    RETRY = "retry"  # transient: back off and try again
    RATE_LIMITED = "rate_limited"  # slow down: back off (Retry-After honoured) and try again
    REFRESH = "refresh_token_then_retry"  # the access token is stale: refresh once, retry
    QUOTA = "quota"  # an allowance is used up: stop early, resumably (exit 5)
    AUTH = "auth"  # credentials or scopes refused: the admin acts (exit 3)
    FAIL = "fail"  # an error we cannot work around (exit 3)
    RECORD = "record"  # record-level errors: the answer goes back to the caller to report


@dataclass(frozen=True)
class Rule:
    """One row of an error table: ``status`` and/or ``code`` (None = any) -> ``action``."""

    action: Action
    status: int | None = None
    code: str | None = None


@dataclass(frozen=True)
class Verdict:
    """A classified answer: the action, and the CRM's own error code and message."""

    action: Action
    code: str = ""
    message: str = ""


class ErrorTable:
    """Failures classified in one table. The most specific rule wins: status and code, then
    code alone, then status alone; otherwise 1xx-3xx are OK, 5xx RETRY and the rest FAIL."""

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self.rules = tuple(rules)
        self._exact = {(r.status, r.code): r.action for r in self.rules if r.status and r.code}
        self._by_code = {r.code: r.action for r in self.rules if r.code and r.status is None}
        self._by_status = {r.status: r.action for r in self.rules if r.status and r.code is None}

    def extend(self, rules: Iterable[Rule]) -> ErrorTable:
        """A new table: these rules on top of this table's."""
        return ErrorTable((*self.rules, *rules))

    def classify(self, status: int, code: str | None = None) -> Action:
        if code:
            if (status, code) in self._exact:
                return self._exact[(status, code)]
            if code in self._by_code:
                return self._by_code[code]
        if status in self._by_status:
            return self._by_status[status]
        if status < 400:
            return Action.OK
        return Action.RETRY if status >= 500 else Action.FAIL


DEFAULT_TABLE = ErrorTable(
    [
        Rule(Action.RETRY, status=408),
        Rule(Action.RATE_LIMITED, status=429),
        Rule(Action.REFRESH, status=401),
        Rule(Action.AUTH, status=403),
        Rule(Action.FAIL, status=501),
        Rule(Action.FAIL, status=505),
    ]
)
"""What plain HTTP says; each CRM extends it with its own codes."""

#: The one crmqual error class of each failing action (so its ErrorKind, so its exit code):
#: everything that stops a request in this module is built from this table.
ERROR_CLASSES: dict[Action, type[CrmqualError]] = {
    Action.RETRY: TransientError,  # retries spent: the CRM is unavailable (exit 3)
    Action.RATE_LIMITED: RateLimitedError,  # retries spent (exit 3)
    Action.REFRESH: AuthError,  # refused again after one refresh (exit 3)
    Action.AUTH: AuthError,  # exit 3
    Action.QUOTA: QuotaReachedError,  # stopped at the quota, resumable (exit 5)
    Action.FAIL: ApiError,  # exit 3
}


# -- the client ------------------------------------------------------------------------------
class TokenAuth(Protocol):
    """Credentials an ``HttpClient`` sends with each attempt."""

    def headers(self) -> dict[str, str]:
        """The headers for the next attempt (minting a token first if needed)."""
        ...

    def refresh(self, stale: Mapping[str, str]) -> None:
        """The headers ``stale`` were refused: get fresh ones, unless another call already did."""
        ...


@dataclass(frozen=True)
class HttpSettings:
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    max_attempts: int = 5
    backoff_base: float = 0.5  # seconds; the first retry waits up to this, then doubling
    backoff_max: float = 30.0  # the longest single backoff wait
    max_total_wait: float = 120.0  # all waits of one request together
    jitter: bool = True  # full jitter on the backoff; False: the plain doubling (tests)
    concurrency: int = 10  # requests in flight at once through one client
    pool_size: int = 10


class CallCounter:
    """Requests sent (every attempt counts), in total and per endpoint name."""

    def __init__(self) -> None:
        self.by_endpoint: Counter[str] = Counter()
        self._lock = threading.Lock()

    def add(self, endpoint: str) -> None:
        with self._lock:
            self.by_endpoint[endpoint] += 1

    @property
    def total(self) -> int:
        return sum(self.by_endpoint.values())


def new_session(pool_size: int = 10) -> requests.Session:
    """A pooled session; retries are tenacity's job, so urllib3's own are off."""
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    session.headers["User-Agent"] = f"crmqual/{_version()}"
    return session


def _version() -> str:
    try:
        return version("crmqual")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "dev"


def retry_after(
    response: requests.Response, now: Callable[[], datetime] | None = None
) -> float | None:
    """A ``Retry-After`` header in seconds (delta-seconds or an HTTP date), if present."""
    raw = response.headers.get("Retry-After")
    if not raw:
        return None
    raw = raw.strip()
    if raw.isdigit():
        return float(raw)
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    current = (now or (lambda: datetime.now(UTC)))()
    return max(0.0, (when - current).total_seconds())


#: Retry waits longer than this (seconds) are logged as warnings, visible without -v.
LONG_WAIT = 5.0


def waiting_for(wait: float, error: BaseException | None, redactor: Redactor = SECRETS) -> str:
    """What a retry waits for, e.g. ``waiting 12 s before retrying GET /crm/v8/Accounts
    (HTTP 429, Retry-After)``."""
    text = redactor.redact(str(error)) if error is not None else ""
    where, _, why = text.partition(": ")
    method, _, url = where.partition(" ")
    path = urlsplit(url).path if url.startswith(("http://", "https://")) else url
    target = f"{method} {path}".strip() or "the request"
    status = getattr(error, "status", None)
    if status is not None:
        why = f"HTTP {status}"
        if getattr(error, "retry_after", None) is not None:
            why += ", Retry-After"
    return f"waiting {wait:.0f} s before retrying {target}" + (f" ({why})" if why else "")


class _StopAtTotalWait(stop_base):
    """Stop when the waits of one request, the next one included, would pass ``limit``."""

    def __init__(self, limit: float) -> None:
        self.limit = limit

    def __call__(self, retry_state: RetryCallState) -> bool:
        return retry_state.idle_for + (retry_state.upcoming_sleep or 0.0) > self.limit


class _Wait:
    """The server's ``Retry-After`` when given, else exponential backoff with full jitter."""

    def __init__(self, settings: HttpSettings) -> None:
        kind = wait_random_exponential if settings.jitter else wait_exponential
        self.backoff = kind(multiplier=settings.backoff_base, max=settings.backoff_max)

    def __call__(self, retry_state: RetryCallState) -> float:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, TransientError) and error.retry_after is not None:
            return error.retry_after
        return float(self.backoff(retry_state))


Classifier = Callable[[requests.Response], Verdict]


def plain_classifier(response: requests.Response) -> Verdict:
    return Verdict(DEFAULT_TABLE.classify(response.status_code))


class _MaybeDone(Exception):
    """A failure of a ``resend=False`` request after which the server may have acted: not
    retried (it is no ``TransientError``) unless the operation's ``reconcile`` found that
    nothing was done; re-raised as ``error`` to the caller."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class Operation:
    """One logical operation under ``HttpClient.retrying``: its attempts so far, and whether
    its token was already refreshed (once per operation). A request given ``within=`` an
    operation is one attempt of it."""

    def __init__(self) -> None:
        self.attempts = 0
        self.refreshed = False

    def __repr__(self) -> str:
        return f"Operation(attempts={self.attempts}, refreshed={self.refreshed})"


class HttpClient:
    """Sends requests with timeouts and retries, and turns failures into crmqual errors.

    ``request`` returns the answer for ``OK`` and ``RECORD`` verdicts; every other verdict
    raises (after retries for ``RETRY``/``RATE_LIMITED``, after one token refresh for
    ``REFRESH``): ``QuotaReachedError``, ``AuthError``, ``ApiError``, ``TransientError``.
    """

    def __init__(
        self,
        settings: HttpSettings | None = None,
        *,
        classify: Classifier = plain_classifier,
        auth: TokenAuth | None = None,
        before_call: Callable[[], None] | None = None,
        observe: Callable[[requests.Response], None] | None = None,
        session: requests.Session | None = None,
        redactor: Redactor = SECRETS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings or HttpSettings()
        self.classify = classify
        self.auth = auth
        self.before_call = before_call
        self.observe = observe
        self.session = session or new_session(self.settings.pool_size)
        self.redactor = redactor
        self.counter = CallCounter()
        self._slots = threading.BoundedSemaphore(self.settings.concurrency)
        self._retrying = Retrying(
            retry=retry_if_exception_type(TransientError),
            wait=_Wait(self.settings),
            stop=stop_after_attempt(self.settings.max_attempts)
            | _StopAtTotalWait(self.settings.max_total_wait),
            sleep=sleep,
            reraise=True,
            before_sleep=self._log_retry,
        )

    def __repr__(self) -> str:
        return f"HttpClient(calls={self.counter.total})"

    def retrying(
        self,
        operation: Callable[[Operation], T],
        *,
        reconcile: Callable[[], T | None] | None = None,
    ) -> T:
        """Run one logical operation under the client's single retry policy; its result.

        ``operation`` is called once per attempt with the ``Operation``; the requests it sends
        with ``within=`` that operation are single attempts of it, and whatever it raises as a
        ``TransientError`` (a lost connection, a timeout, a 5xx or 429, a stream that broke
        while the operation read it) is retried: at most ``max_attempts`` attempts in all,
        with the backoff, ``Retry-After`` and total-wait bounds of a single request.

        ``reconcile`` is for an operation that must not be sent twice (a create, sent with
        ``resend=False``): after each failure after which the server may have acted, and
        before anything else, ``reconcile()`` looks for the result; when it finds one (not
        None), that is the operation's result; when it finds none the operation is attempted
        again (within the budget); when the lookup itself fails, that error is raised and
        nothing is sent again. Without ``reconcile`` such a failure is raised at once.

        A partial result is the operation's and its reconcile's to share: a write of many
        records (a PUT) may find some of them applied; ``reconcile`` keeps those as done and
        narrows what the next attempt sends to the rest, returning None while some remain
        and the whole result once none do.
        """
        state = Operation()

        def attempt() -> T:
            state.attempts += 1
            try:
                return operation(state)
            except _MaybeDone as maybe:
                if reconcile is None:
                    raise
                try:
                    found = reconcile()
                except TransientError as exc:  # unknown whether it was done: never re-send
                    raise _MaybeDone(exc) from None
                if found is not None:
                    return found
                raise maybe.error from None  # known not done: retried like any failure

        # A copy per operation: the policy is built once, the state of an operation is its
        # own (a token mint inside an attempt is itself a request, with its own budget).
        try:
            result: T = self._retrying.copy()(attempt)
        except _MaybeDone as maybe:
            raise maybe.error from None
        return result

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
        endpoint: str | None = None,
        resend: bool = True,
        within: Operation | None = None,
    ) -> requests.Response:
        """One logical request, retried as the settings allow; see the class docstring.

        ``resend=False`` is for a request that must not be sent twice once the server may have
        acted on it (a create): a lost connection, a timeout or a 5xx answer is not retried
        blindly (see ``retrying``'s ``reconcile``; without it, it is raised as a
        ``TransientError`` at once, for the caller to find out what happened); answers that
        say nothing was done (429, a refused token) are still retried.

        ``within`` an ``Operation`` of ``retrying``, the request is one attempt of it: what
        would be retried is raised for the operation's policy to retry.
        """
        if within is None:
            return self.retrying(
                lambda operation: self.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    headers=headers,
                    authenticated=authenticated,
                    endpoint=endpoint,
                    resend=resend,
                    within=operation,
                )
            )
        name = endpoint or f"{method} {urlsplit(url).path}"
        if self.before_call is not None and authenticated:
            self.before_call()
        sent = dict(headers or {})
        if authenticated and self.auth is not None:
            sent.update(self.auth.headers())
        try:
            response = self._send(method, url, name, params, json, data, sent)
        except TransientError as exc:
            if resend:
                raise
            raise _MaybeDone(exc) from None
        verdict = self.classify(response)
        if verdict.action in (Action.OK, Action.RECORD):
            return response
        if verdict.action == Action.RETRY and not resend:
            raise _MaybeDone(self._error(method, url, response, verdict))
        if verdict.action == Action.REFRESH and self.auth is not None and not within.refreshed:
            self.auth.refresh(sent)  # a transient failure here is retried like any other
            within.refreshed = True
            raise TransientError(self._describe(method, url, response, verdict), retry_after=0)
        raise self._error(method, url, response, verdict)

    def _send(
        self,
        method: str,
        url: str,
        name: str,
        params: Mapping[str, Any] | None,
        json: Any,
        data: Mapping[str, str] | None,
        headers: dict[str, str],
    ) -> requests.Response:
        timeout = (self.settings.connect_timeout, self.settings.read_timeout)
        try:
            with self._slots:
                self.counter.add(name)
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    data=data,
                    headers=headers,
                    timeout=timeout,
                    allow_redirects=False,
                )
        except requests.Timeout:
            raise TransientError(f"{method} {safe_url(url, self.redactor)}: timed out") from None
        except requests.ConnectionError as exc:
            reason = self.redactor.redact(type(exc).__name__)
            raise TransientError(
                f"{method} {safe_url(url, self.redactor)}: cannot connect ({reason})"
            ) from None
        log.debug(
            "%s %s -> %s",
            method,
            safe_url(response.url or url, self.redactor),
            response.status_code,
        )
        if self.observe is not None:
            self.observe(response)
        return response

    def _describe(
        self, method: str, url: str, response: requests.Response, verdict: Verdict
    ) -> str:
        where = f"{method} {safe_url(url, self.redactor)}"
        detail = " ".join(p for p in (verdict.code, verdict.message) if p)
        text = f"{where}: HTTP {response.status_code}" + (f" {detail}" if detail else "")
        return self.redactor.redact(text)

    def _error(
        self, method: str, url: str, response: requests.Response, verdict: Verdict
    ) -> CrmqualError:
        """The verdict's error: its class from ``ERROR_CLASSES``, with what that class keeps."""
        message = self._describe(method, url, response, verdict)
        status = response.status_code
        kind = ERROR_CLASSES.get(verdict.action, ApiError)
        if issubclass(kind, TransientError):
            return kind(message, status=status, retry_after=retry_after(response))
        if issubclass(kind, QuotaReachedError):
            return kind(f"{message}: the API allowance is used up")
        if issubclass(kind, AuthError):
            return kind(message, code=verdict.code)
        if issubclass(kind, ApiError):
            url = safe_url(url, self.redactor)
            return kind(message, url=url, status=status, code=verdict.code)
        return kind(message)

    def _log_retry(self, retry_state: RetryCallState) -> None:
        outcome = retry_state.outcome
        error = outcome.exception() if outcome is not None else None
        wait = retry_state.upcoming_sleep or 0.0
        if wait > LONG_WAIT:  # long enough to look stuck: say what it waits for, by default
            log.warning("%s", waiting_for(wait, error, self.redactor))
            return
        log.info(
            "retrying in %.1fs (attempt %d): %s",
            retry_state.upcoming_sleep,
            retry_state.attempt_number,
            self.redactor.redact(str(error)),
        )
