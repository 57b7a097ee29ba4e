"""zcrmsdk 3.1.0 (Zoho's official Python SDK, API v2), confined: crmqual's only door to it.

The SDK keeps its state globally and talks HTTP through module-level ``requests`` calls with
no timeout and no retry (../shared/reference/zoho-sdks.md). ``SdkRuntime`` keeps all of that
inside ``SdkRuntime.call``:

- **Import.** Its token-store package imports ``mysql.connector`` unconditionally, a package
  it does not declare. If the real one is absent, a stub is registered for the import and
  removed from ``sys.modules`` right after, so nothing else in the process sees it.
- **Initializer.** No ``Initializer.initialize`` (it sets a process-wide default and adds a
  file handler to the ``SDKLogger`` logger). Each runtime builds its own ``Initializer`` and
  installs it as the SDK's thread-local one only for the duration of a call, restoring what
  was there before.
- **HTTP.** For the duration of a call the SDK's own connector module
  (``...util.api_http_connector``, and nothing else) sees a ``requests`` stand-in that sends
  through a crmqual ``HttpClient``: (connect, read) timeouts, tenacity retries of 429, 5xx and
  lost connections with ``Retry-After`` honoured, a token refresh and retry on
  ``INVALID_TOKEN`` (the SDK never does either), call counting, credit tracking and secret
  redaction. The SDK's request is sent as built: its URL, query, body and headers, among
  them ``X-ZOHO-SDK``.
- **Tokens.** crmqual mints access tokens itself, in memory (``ZohoTokens``), and hands them to
  the SDK through a ``Token`` of its own: the SDK's ``OAuthToken`` (no timeout, no refresh on
  401, tokens written in clear to its store) is never used. Its ``FileStore`` is still
  configured, as the SDK requires one, in a private directory (mode 0700) that also holds its
  field-metadata cache; nothing crmqual gives the SDK puts a secret there, and the directory
  is removed by ``close()`` (or when the runtime is collected, or at exit).
- **Errors.** The SDK wraps whatever happens in ``SDKException``; ``call`` re-raises the crmqual
  error underneath (transient, quota, auth, API), or an ``ApiError`` with the SDK's own code.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import shutil
import stat
import sys
import tempfile
import threading
import types
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests

from crmqual.errors import ApiError, ConfigError, CrmqualError, Problem
from crmqual.http import SECRETS, HttpClient, RedactingFilter, TokenAuth

T = TypeVar("T")

SDK = "zcrmsdk.src.com.zoho"
CONNECTOR_MODULE = f"{SDK}.crm.api.util.api_http_connector"
SDK_LOGGER = "SDKLogger"
#: The SDK requires a user e-mail; it is never sent to Zoho (zoho-sdks.md), only part of the
#: field-cache file name.
SDK_USER = "crmqual-sync@example.com"
MISSING_SDK = (
    "`transport: sdk` needs Zoho's SDK, which is not installed: pip install 'crmqual[sdk]' "
    "(or set `transport: rest`)"
)
MISSING_SDK_ZH = (
    "`transport: sdk` 需要 Zoho 的 SDK，但它没有安装：pip install 'crmqual[sdk]'"
    "（或设置 `transport: rest`）"
)

#: One SDK call at a time in this process: the connector patch is process-wide while it lasts.
_LOCK = threading.RLock()


@contextmanager
def _without_mysql_import() -> Iterator[None]:
    """While zcrmsdk is imported: a ``mysql.connector`` stub if the real one is absent."""
    try:
        importlib.import_module("mysql.connector")
    except ImportError:
        pass
    else:
        yield
        return
    mysql = types.ModuleType("mysql")
    connector = types.ModuleType("mysql.connector")

    def refuse(*_args: Any, **_kwargs: Any) -> Any:
        raise ApiError("zcrmsdk's MySQL token store is not available through crmqual")

    connector.Error = Exception  # type: ignore[attr-defined]
    connector.connect = refuse  # type: ignore[attr-defined]
    mysql.connector = connector  # type: ignore[attr-defined]
    stubs = {"mysql": mysql, "mysql.connector": connector}
    absent = [name for name in stubs if name not in sys.modules]
    for name in absent:
        sys.modules[name] = stubs[name]
    try:
        yield
    finally:
        for name in absent:
            if sys.modules.get(name) is stubs[name]:
                del sys.modules[name]


def load_sdk() -> types.SimpleNamespace:
    """The zcrmsdk names crmqual uses (imported once; ``Any`` beyond this module)."""
    global _SDK
    if _SDK is not None:
        return _SDK
    if importlib.util.find_spec("zcrmsdk") is None:
        raise ConfigError(
            [Problem("crmqual.yaml", "connection.transport", MISSING_SDK, zh=MISSING_SDK_ZH)]
        )
    with _LOCK, _without_mysql_import():
        names = {
            "APIException": (f"{SDK}.crm.api.record", "APIException"),
            "ActionWrapper": (f"{SDK}.crm.api.record", "ActionWrapper"),
            "BodyWrapper": (f"{SDK}.crm.api.record", "BodyWrapper"),
            "Choice": (f"{SDK}.crm.api.util", "Choice"),
            "Constants": (f"{SDK}.crm.api.util.constants", "Constants"),
            "DataCenter": (f"{SDK}.crm.api.dc.data_center", "DataCenter"),
            "FieldsOperations": (f"{SDK}.crm.api.fields", "FieldsOperations"),
            "FieldsResponseWrapper": (f"{SDK}.crm.api.fields", "ResponseWrapper"),
            "FileStore": (f"{SDK}.api.authenticator.store", "FileStore"),
            "GetFieldsParam": (f"{SDK}.crm.api.fields", "GetFieldsParam"),
            "GetRecordsHeader": (f"{SDK}.crm.api.record", "GetRecordsHeader"),
            "GetRecordsParam": (f"{SDK}.crm.api.record", "GetRecordsParam"),
            "HeaderMap": (f"{SDK}.crm.api", "HeaderMap"),
            "Initializer": (f"{SDK}.crm.api.initializer", "Initializer"),
            "ParameterMap": (f"{SDK}.crm.api", "ParameterMap"),
            "Record": (f"{SDK}.crm.api.record", "Record"),
            "RecordOperations": (f"{SDK}.crm.api.record", "RecordOperations"),
            "ResponseWrapper": (f"{SDK}.crm.api.record", "ResponseWrapper"),
            "SDKConfig": (f"{SDK}.crm.api.sdk_config", "SDKConfig"),
            "SDKException": (f"{SDK}.crm.api.exception", "SDKException"),
            "SuccessResponse": (f"{SDK}.crm.api.record", "SuccessResponse"),
            "Token": (f"{SDK}.api.authenticator.token", "Token"),
            "UserSignature": (f"{SDK}.crm.api.user_signature", "UserSignature"),
        }
        loaded = {
            key: getattr(importlib.import_module(mod), attr) for key, (mod, attr) in names.items()
        }
        loaded["connector"] = importlib.import_module(CONNECTOR_MODULE)
    _SDK = types.SimpleNamespace(**loaded)
    return _SDK


_SDK: types.SimpleNamespace | None = None


class _Requests:
    """What the SDK's connector module sees as ``requests`` during a call: the same verbs,
    sent through crmqual's ``HttpClient`` (the SDK's ``proxies`` are never set by crmqual)."""

    def __init__(self, http: HttpClient) -> None:
        self._http = http

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        if kwargs.get("files"):
            raise ApiError("crmqual's SDK transport sends no files")
        data: Any = kwargs.get("data") or None
        return self._http.request(
            method,
            url,
            params=kwargs.get("params") or None,
            data=data,  # the SDK's JSON text, sent as is (zoho-sdks.md: no Content-Type)
            headers=kwargs.get("headers") or None,
            endpoint=f"{method} {urlsplit(url).path}",
        )

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self._send("GET", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> requests.Response:
        return self._send("PUT", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> requests.Response:
        return self._send("POST", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> requests.Response:
        return self._send("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> requests.Response:
        return self._send("DELETE", url, **kwargs)


def _token_class(sdk: types.SimpleNamespace) -> type[Any]:
    class CrmqualToken(sdk.Token):  # type: ignore[misc,name-defined]
        """The SDK's ``Token`` slot filled with crmqual's in-memory tokens."""

        def __init__(self, auth: TokenAuth) -> None:
            self._auth = auth

        def authenticate(self, url_connection: Any) -> None:
            for name, value in self._auth.headers().items():
                url_connection.add_header(name, value)

        def remove(self) -> bool:
            return True

    return CrmqualToken


class SdkRuntime:
    """One org's zcrmsdk, usable only through ``call``; see the module docstring."""

    def __init__(
        self,
        http: HttpClient,
        auth: TokenAuth,
        api_base: Callable[[], str],
        token_url: str,
    ) -> None:
        self.sdk = load_sdk()
        self._http = http
        self._auth = auth
        self._api_base = api_base
        self._token_url = token_url
        self._requests = _Requests(http)
        self._filter = RedactingFilter(SECRETS)
        self.folder = Path(tempfile.mkdtemp(prefix="crmqual-zcrmsdk-"))
        os.chmod(self.folder, stat.S_IRWXU)  # mkdtemp's 0700, made explicit
        self._cleanup = weakref.finalize(self, shutil.rmtree, self.folder, ignore_errors=True)
        self._initializer: Any = None

    def __repr__(self) -> str:
        return f"SdkRuntime({self._token_url!r})"

    # -- lifetime -----------------------------------------------------------------------------
    def close(self) -> None:
        """Remove the private directory (token store and field cache)."""
        self._cleanup()

    @property
    def closed(self) -> bool:
        return not self._cleanup.alive

    def forget_fields(self) -> None:
        """Drop the SDK's field-metadata cache (after fields were created or changed), so its
        client-side typing follows the org again."""
        shutil.rmtree(self.folder / "resources", ignore_errors=True)

    # -- calls --------------------------------------------------------------------------------
    def call(self, operation: Callable[[], T]) -> T:
        """Run ``operation`` (SDK calls) with this org's SDK installed; crmqual errors out."""
        if self.closed:
            raise CrmqualError("the Zoho SDK transport was closed")
        with self._installed():
            try:
                return operation()
            except self.sdk.SDKException as exc:
                raise _crmqual_error(exc) from None

    @contextmanager
    def _installed(self) -> Iterator[None]:
        sdk = self.sdk
        with _LOCK:
            initializer = self._initializer or self._build()
            local = sdk.Initializer.LOCAL
            previous = getattr(local, "init", None)
            original = sdk.connector.requests
            logger = logging.getLogger(SDK_LOGGER)
            local.init = initializer
            sdk.connector.requests = self._requests
            logger.addFilter(self._filter)
            try:
                yield
            finally:
                logger.removeFilter(self._filter)
                sdk.connector.requests = original
                local.init = previous

    def _build(self) -> Any:
        """This org's ``Initializer``, built as ``Initializer.initialize`` would but never made
        the process-wide default."""
        sdk = self.sdk
        initializer_class = sdk.Initializer
        if initializer_class.json_details is None:  # the SDK's own static class metadata
            module = sys.modules[initializer_class.__module__]
            details = Path(module.__file__ or "").parents[4] / sdk.Constants.JSON_DETAILS_FILE_PATH
            initializer_class.json_details = initializer_class.get_json(str(details))
        base = self._api_base()
        initializer = initializer_class()
        # A custom environment whatever the data centre: zcrmsdk knows only five of Zoho's
        # eight, and file uploads (the third URL) are never made.
        initializer.environment = sdk.DataCenter.Environment(base, self._token_url, base)
        initializer.user = sdk.UserSignature(SDK_USER)
        initializer.token = _token_class(sdk)(self._auth)
        initializer.store = sdk.FileStore(file_path=str(self.folder / "sdk_tokens.csv"))
        initializer.sdk_config = sdk.SDKConfig(
            auto_refresh_fields=False, pick_list_validation=False
        )
        initializer.resource_path = str(self.folder)
        initializer.request_proxy = None
        self._initializer = initializer
        return initializer


def _crmqual_error(exc: BaseException) -> CrmqualError:
    """The crmqual error an ``SDKException`` wraps, else an ``ApiError`` with its code."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, CrmqualError):
            return current
        current = getattr(current, "cause", None) or current.__cause__ or current.__context__
    code = str(getattr(exc, "code", "") or "SDK_ERROR")
    return ApiError(SECRETS.redact(f"zcrmsdk: {exc}"), code=code)
