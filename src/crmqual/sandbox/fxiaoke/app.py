"""The Fxiaoke open API as one WSGI application over a sandbox store.

Every call is a `POST` with a JSON body, answered HTTP 200 with the `errorCode` /
`errorMessage` / `traceId` envelope (non-200 only for transport faults and paths that do not
exist). Two ways to authenticate a data call (fxiaoke.md section 2):

- body mode: `corpAccessToken`, `corpId` and `currentOpenUserId` beside `data` in the body;
  no `thirdTraceId` needed;
- header mode: `authorization: Bearer <accessToken>`, `x-fs-ea`, `x-fs-userid`, and (by
  default) a UUID `thirdTraceId` query parameter.

Every call is logged under a stable endpoint name (`POST /cgi/crm/v2/data/query`); writes log
their `triggerWorkFlow` / `triggerApprovalFlow` flags as a query string on the logged path.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from werkzeug.wrappers import Request, Response

from crmqual.sandbox.answers import send
from crmqual.sandbox.clock import SandboxClock
from crmqual.sandbox.faults import Decision, FaultPlan
from crmqual.sandbox.fxiaoke import records
from crmqual.sandbox.fxiaoke.errors import FxError, envelope, error_envelope, json_response
from crmqual.sandbox.fxiaoke.fields import describe
from crmqual.sandbox.fxiaoke.guard import Guard, RateWindow
from crmqual.sandbox.fxiaoke.query import query
from crmqual.sandbox.fxiaoke.records import Ctx, RecordView
from crmqual.sandbox.fxiaoke.schema import OBJECTS, install
from crmqual.sandbox.fxiaoke.settings import FxiaokeSettings, load_settings
from crmqual.sandbox.fxiaoke.tenant import Employee, by_header, by_open_user_id, tenant
from crmqual.sandbox.fxiaoke.tokens import BODY, HEADER, Tokens
from crmqual.sandbox.store import SandboxStore, iso

log = logging.getLogger(__name__)

BODY_TOKEN = "/cgi/corpAccessToken/get/V2"
HEADER_TOKEN = "/oauth2.0/token"
DATA = "/cgi/crm/v2/data/"
OBJECT = "/cgi/crm/v2/object/"
ROUTES = (
    BODY_TOKEN,
    HEADER_TOKEN,
    DATA + "query",
    DATA + "get",
    DATA + "update",
    DATA + "create",
    OBJECT + "describe",
    OBJECT + "list",
)
WRITES = (DATA + "update", DATA + "create")


def client_name(request: Request) -> str:
    return request.headers.get("User-Agent") or "unknown"


class FxiaokeApp:
    """WSGI app of the Fxiaoke dialect. `settings` default to the file's."""

    def __init__(
        self,
        store: SandboxStore,
        *,
        settings: FxiaokeSettings | None = None,
        faults: FaultPlan | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.clock = SandboxClock(store)
        self.settings = settings or load_settings(store)
        self.faults = faults or FaultPlan()
        self.tenant = tenant(store)
        self.tokens = Tokens(store, self.tenant, self.settings.codes)
        self.guard = Guard(
            self.faults, RateWindow(self.settings.rate_per_second), self.settings.codes.rate, sleep
        )
        self.view = RecordView(store)
        install(store, iso(self.clock.now()))

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        now = self.clock.now()
        name = f"{request.method} {request.path}"
        logged = request.path

        def handle(decision: Decision) -> Response:
            return self._handle(request, now, decision)

        if request.method == "POST" and request.path in WRITES:
            logged = request.path + _flags(request)

        def answer() -> Response:
            if request.path not in ROUTES:
                return json_response(envelope(404, f"接口不存在:{request.path}"), 404)
            if request.method != "POST":
                return json_response(envelope(405, "请使用POST"), 405)
            return self.guard.answer(request, environ, now, handle)

        def log(status: int) -> None:
            self._log(request, now, name, logged, status)

        return send(environ, start_response, now, answer, log)

    def _log(self, request: Request, now: datetime, name: str, path: str, status: int) -> None:
        self.store.log_call(
            at=iso(now),
            method=request.method,
            path=path,
            endpoint=name,
            status=status,
            client=client_name(request),
        )

    def _handle(self, request: Request, now: datetime, decision: Decision) -> Response:
        try:
            body = _body(request, self.settings)
            return json_response(self._dispatch(request, body, now, decision))
        except FxError as exc:
            return json_response(error_envelope(exc))
        except Exception:
            log.exception("fxiaoke sandbox handler failed for %s", request.path)
            return Response("Internal Server Error", status=500, content_type="text/plain")

    def _dispatch(
        self, request: Request, body: dict[str, Any], now: datetime, decision: Decision
    ) -> dict[str, Any]:
        path = request.path
        if path == BODY_TOKEN:
            return self.tokens.body_mode(body, now)
        if path == HEADER_TOKEN:
            self._trace_id(request)
            return self.tokens.header_mode(body, now)
        employee = self._authenticate(request, body, now, decision)
        data = body.get("data")
        if not isinstance(data, dict):
            raise FxError(self.settings.codes.param, "data不能为空")
        ctx = Ctx(
            self.store,
            self.settings,
            now,
            employee,
            client_name(request),
            decision,
            self.faults.profile,
            self.view,
        )
        if path == DATA + "query":
            return envelope(data=query(ctx, data))
        if path == DATA + "get":
            return envelope(data=records.get(ctx, data))
        if path == DATA + "update":
            return envelope(errorDescription="success", dataId=records.update(ctx, data))
        if path == DATA + "create":
            return envelope(errorDescription="success", dataId=records.create(ctx, data))
        if path == OBJECT + "describe":
            obj = data.get("apiName")
            if not isinstance(obj, str) or obj not in OBJECTS:
                raise FxError(self.settings.codes.object, f"对象{obj!r}不存在")
            return envelope(data=describe(self.store, obj, self.settings))
        objects = [
            {"api_name": k, "display_name": v, "define_type": "package"} for k, v in OBJECTS.items()
        ]
        return envelope(data={"objects": objects})

    def _trace_id(self, request: Request) -> None:
        if not self.settings.require_trace_id:
            return
        try:
            uuid.UUID(request.args.get("thirdTraceId", ""))
        except ValueError:
            raise FxError(self.settings.codes.param, "thirdTraceId必须是UUID") from None

    def _authenticate(
        self, request: Request, body: dict[str, Any], now: datetime, decision: Decision
    ) -> Employee:
        codes = self.settings.codes
        header = request.headers.get("Authorization")
        if header is not None:
            self._trace_id(request)
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer":
                raise FxError(codes.token, "authorization应为Bearer accessToken")
            row = self.tokens.check(token.strip(), HEADER, now)
            ea, user = request.headers.get("x-fs-ea"), request.headers.get("x-fs-userid")
            employee = by_header(user) if user else None
            corp_ok = ea == self.tenant.ea
        else:
            row = self.tokens.check(body.get("corpAccessToken"), BODY, now)
            user = body.get("currentOpenUserId")
            employee = by_open_user_id(user) if isinstance(user, str) else None
            corp_ok = body.get("corpId") == self.tenant.corp_id
        if decision.fault == "token_expiry":
            self.tokens.expire(row.token, now)
            raise FxError(codes.token, "corpAccessToken或accessToken无效或已过期")
        if not corp_ok:
            raise FxError(codes.user, "企业标识(corpId / x-fs-ea)与令牌不符")
        if employee is None:
            raise FxError(codes.user, "操作人(currentOpenUserId / x-fs-userid)不存在")
        return employee


def _body(request: Request, settings: FxiaokeSettings) -> dict[str, Any]:
    try:
        body = json.loads(request.get_data(cache=True) or b"{}")
    except ValueError:
        raise FxError(settings.codes.param, "请求体不是合法的JSON") from None
    if not isinstance(body, dict):
        raise FxError(settings.codes.param, "请求体应为JSON对象")
    return body


def _flags(request: Request) -> str:
    """`?triggerWorkFlow=false&triggerApprovalFlow=false` as given (absent: true, the
    documented default), for the call log."""
    try:
        body = json.loads(request.get_data(cache=True) or b"{}")
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    shown = []
    for key in ("triggerWorkFlow", "triggerApprovalFlow"):
        value = body.get(key, True)
        shown.append(f"{key}={json.dumps(value)}")
    return "?" + "&".join(shown)
