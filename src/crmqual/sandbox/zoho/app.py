"""The Zoho CRM dialect as one WSGI application over a sandbox store.

Routing is by path only, so one app serves the accounts host (`/oauth/v2/...`), the API host
(`/crm/...`) and, later, the upload host, whether they are three host names (in-process) or one
loopback port (a served sandbox). Every answer carries a `Date` header from the sandbox clock,
and every call is counted in the store under its endpoint's name, e.g. `GET /crm/v8/{module}`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from crmqual.sandbox.answers import send
from crmqual.sandbox.clock import SandboxClock
from crmqual.sandbox.faults import Decision, FaultPlan
from crmqual.sandbox.store import SandboxStore, iso
from crmqual.sandbox.zoho.auth import ZohoAuth
from crmqual.sandbox.zoho.bulk_routes import BULK_ROUTES
from crmqual.sandbox.zoho.call import Call, ZohoLimits, client_name, json_response
from crmqual.sandbox.zoho.coql import coql
from crmqual.sandbox.zoho.errors import (
    INTERNAL_MESSAGE,
    METHOD_MESSAGE,
    URL_MESSAGE,
    ZohoError,
    error_body,
)
from crmqual.sandbox.zoho.fields import create_fields, get_fields, update_fields
from crmqual.sandbox.zoho.guard import Guard
from crmqual.sandbox.zoho.layouts import get_layouts, install_layouts, update_layout
from crmqual.sandbox.zoho.org import modules, org, users
from crmqual.sandbox.zoho.quota import ConcurrencyGate, CreditLedger, Quota
from crmqual.sandbox.zoho.records import (
    get_record,
    list_records,
    search_records,
    update_records,
)
from crmqual.sandbox.zoho.schema import MODULE, install
from crmqual.sandbox.zoho.tasks import insert_records, install_tasks

log = logging.getLogger(__name__)

Handler = Callable[..., Response]

_V = "<any(v2, v8):version>"
_ROUTES: tuple[tuple[str, str, Handler], ...] = (
    (f"/crm/{_V}/settings/fields", "GET", get_fields),
    (f"/crm/{_V}/settings/fields", "POST", create_fields),
    (f"/crm/{_V}/settings/fields", "PATCH", update_fields),
    (f"/crm/{_V}/settings/fields/<field_id>", "GET", get_fields),
    (f"/crm/{_V}/settings/fields/<field_id>", "PATCH", update_fields),
    (f"/crm/{_V}/settings/layouts", "GET", get_layouts),
    (f"/crm/{_V}/settings/layouts/<layout_id>", "GET", get_layouts),
    (f"/crm/{_V}/settings/layouts/<layout_id>", "PATCH", update_layout),
    (f"/crm/{_V}/settings/modules", "GET", modules),
    (f"/crm/{_V}/users", "GET", users),
    (f"/crm/{_V}/org", "GET", org),
    (f"/crm/{_V}/coql", "POST", coql),
    (f"/crm/{_V}/<module>/search", "GET", search_records),
    (f"/crm/{_V}/<module>/<int:record_id>", "GET", get_record),
    (f"/crm/{_V}/<module>/<int:record_id>", "PUT", update_records),
    (f"/crm/{_V}/<module>", "GET", list_records),
    (f"/crm/{_V}/<module>", "PUT", update_records),
    (f"/crm/{_V}/<module>", "POST", insert_records),
    *BULK_ROUTES,
)


def _url_map() -> Map:
    rules = [Rule("/oauth/v2/token", methods=["POST"], endpoint="token")]
    rules.append(Rule("/oauth/v2/token/revoke", methods=["POST"], endpoint="revoke"))
    rules += [Rule(path, methods=[m], endpoint=(m, path)) for path, m, _ in _ROUTES]
    return Map(rules, strict_slashes=False, merge_slashes=False)


_HANDLERS: dict[tuple[str, str], Handler] = {(m, path): h for path, m, h in _ROUTES}


def endpoint_name(method: str, rule: str, version: str | None) -> str:
    """`PUT /crm/v8/{module}` for the rule `/crm/<any(v2, v8):version>/<module>`."""
    text = rule.replace(_V, version or "{version}")
    text = text.replace("<int:record_id>", "{id}").replace("<field_id>", "{id}")
    text = text.replace("<job_id>", "{job_id}")
    return f"{method} {text.replace('<module>', '{module}')}"


class ZohoApp:
    """WSGI app of the Zoho dialect. `api_domain` is what token answers report (the sandbox's
    own API base URL, never a real Zoho host unless the in-process mode serves that host).
    `quota` (default: what the store records, else enterprise) sets credits and concurrency;
    `faults` the fault plan (default: none); `sleep` how latency is spent (tests record it)."""

    def __init__(
        self,
        store: SandboxStore,
        *,
        api_domain: str | None = None,
        limits: ZohoLimits | None = None,
        quota: Quota | None = None,
        faults: FaultPlan | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.clock = SandboxClock(store)
        self.faults = faults or FaultPlan()
        self.auth = ZohoAuth(store, self.clock, throttle=self.faults.profile.token_throttle)
        self.limits = limits or ZohoLimits()
        self.quota = quota or Quota.load(store)
        self.guard = Guard(
            CreditLedger(store, self.quota), ConcurrencyGate(self.quota.concurrency), self.faults,
            sleep,
        )  # fmt: skip
        self.api_domain = api_domain
        self.url_map = _url_map()
        install(store, iso(self.clock.now()))
        install_layouts(store, MODULE, iso(self.clock.now()))
        install_tasks(store, iso(self.clock.now()))

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        now = self.clock.now()
        name = self._endpoint(request, environ)

        def handle(decision: Decision) -> Response:
            return self._handle(request, environ, now, decision, name)

        def answer() -> Response:
            return self.guard.answer(request, environ, now, handle)

        def log(status: int) -> None:
            self._log(request, now, name, status)

        return send(environ, start_response, now, answer, log)

    def _endpoint(self, request: Request, environ: dict[str, Any]) -> str:
        """The stable name of the route a request is for, e.g. `GET /crm/v8/{module}`."""
        try:
            rule, matched = self.url_map.bind_to_environ(environ).match(return_rule=True)
        except HTTPException:
            return f"{request.method} {request.path}"
        return endpoint_name(request.method, rule.rule, matched.get("version"))

    def _log(self, request: Request, now: Any, endpoint: str, status: int) -> None:
        self.store.log_call(
            at=iso(now),
            method=request.method,
            path=request.path,
            endpoint=endpoint,
            status=status,
            client=client_name(request),
        )

    def _handle(
        self,
        request: Request,
        environ: dict[str, Any],
        now: Any,
        decision: Decision,
        name: str,
    ) -> Response:
        try:
            rule, matched = self.url_map.bind_to_environ(environ).match(return_rule=True)
            args = dict(matched)
            version = args.pop("version", None)
            response = self._dispatch(request, rule.endpoint, version, args, now, decision)
        except NotFound:
            response = json_response(error_body("INVALID_URL_PATTERN", URL_MESSAGE), 404)
        except MethodNotAllowed:
            response = json_response(error_body("INVALID_REQUEST_METHOD", METHOD_MESSAGE), 405)
        except ZohoError as exc:
            response = json_response(exc.body, exc.status)
        except HTTPException as exc:  # pragma: no cover - werkzeug's own, e.g. a bad body
            response = json_response(error_body("INVALID_DATA", str(exc.description)), 400)
        except Exception:
            log.exception("sandbox handler failed for %s", name)
            response = json_response(error_body("INTERNAL_ERROR", INTERNAL_MESSAGE), 500)
        return response

    def _dispatch(
        self,
        request: Request,
        endpoint: Any,
        version: str | None,
        args: dict[str, Any],
        now: Any,
        decision: Decision,
    ) -> Response:
        if endpoint == "token":
            params = {**request.args.to_dict(), **request.form.to_dict()}
            return json_response(self.auth.token_endpoint(params, self.api_domain))
        if endpoint == "revoke":
            token = request.args.get("token") or request.form.get("token")
            self.auth.revoke(token)
            return json_response({})
        call = Call(request, version or "v8", now, self.store, self.auth, self.limits, None)
        call.decision, call.profile = decision, self.faults.profile
        return _HANDLERS[endpoint](call, **args)
