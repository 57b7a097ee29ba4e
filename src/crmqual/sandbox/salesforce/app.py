"""The Salesforce dialect as one WSGI application over a sandbox store.

Routing is by path only, so one app answers the login hosts (`/services/Soap/u/...`,
`/services/oauth2/token`) and the instance (`/services/data/v{version}/...`), whether they are
several host names (in-process) or one loopback origin (served). REST calls go through the
`Guard` (concurrency, session, allowance, faults, `Sforce-Limit-Info`); every call is counted
in the store under a stable endpoint name such as `GET /services/data/v{version}/query`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from crmqual.sandbox.answers import send
from crmqual.sandbox.clock import SandboxClock
from crmqual.sandbox.faults import Decision, FaultPlan
from crmqual.sandbox.salesforce import bulk2, query, sobjects, tooling
from crmqual.sandbox.salesforce.call import Call, SalesforceLimits, client_name
from crmqual.sandbox.salesforce.errors import SalesforceError, error_response
from crmqual.sandbox.salesforce.guard import Guard
from crmqual.sandbox.salesforce.login import Sessions, soap_login, token_endpoint
from crmqual.sandbox.salesforce.quota import Gate, Ledger, Quota
from crmqual.sandbox.salesforce.schema import install
from crmqual.sandbox.salesforce.tooling import install_layout
from crmqual.sandbox.store import SandboxStore, iso

log = logging.getLogger(__name__)

Handler = Callable[..., Response]
_D = "/services/data/v<version>"
_ROUTES: tuple[tuple[str, str, str], ...] = (
    (f"{_D}/query", "GET", "query"),
    (f"{_D}/queryAll", "GET", "query_all"),
    (f"{_D}/query/<locator>", "GET", "query_more"),
    (f"{_D}/queryAll/<locator>", "GET", "query_all_more"),
    (f"{_D}/sobjects", "GET", "describe_global"),
    (f"{_D}/sobjects/<sobject>/describe", "GET", "describe"),
    (f"{_D}/sobjects/<sobject>", "POST", "create"),
    (f"{_D}/sobjects/<sobject>/<record>", "GET", "get_record"),
    (f"{_D}/sobjects/<sobject>/<record>", "PATCH", "patch_record"),
    (f"{_D}/sobjects/<sobject>/<record>", "DELETE", "delete_record"),
    (f"{_D}/composite/sobjects", "PATCH", "collections"),
    (f"{_D}/limits", "GET", "limits"),
    (f"{_D}/jobs/query", "POST", "create_query"),
    (f"{_D}/jobs/query", "GET", "list_query"),
    (f"{_D}/jobs/query/<job_id>", "GET", "get_query"),
    (f"{_D}/jobs/query/<job_id>", "PATCH", "patch_query"),
    (f"{_D}/jobs/query/<job_id>", "DELETE", "delete_query"),
    (f"{_D}/jobs/query/<job_id>/results", "GET", "query_results"),
    (f"{_D}/jobs/ingest", "POST", "create_ingest"),
    (f"{_D}/jobs/ingest", "GET", "list_ingest"),
    (f"{_D}/jobs/ingest/<job_id>", "GET", "get_ingest"),
    (f"{_D}/jobs/ingest/<job_id>", "PATCH", "patch_ingest"),
    (f"{_D}/jobs/ingest/<job_id>", "DELETE", "delete_ingest"),
    (f"{_D}/jobs/ingest/<job_id>/batches", "PUT", "upload"),
    (f"{_D}/jobs/ingest/<job_id>/<which>", "GET", "ingest_results"),
    (f"{_D}/tooling/query", "GET", "tooling_query"),
    (f"{_D}/tooling/query/<locator>", "GET", "tooling_query_more"),
    (f"{_D}/tooling/sobjects/CustomField", "POST", "create_field"),
    (f"{_D}/tooling/sobjects/<sobject>/<record>", "GET", "get_tooling"),
    (f"{_D}/tooling/sobjects/Layout/<record>", "PATCH", "patch_layout"),
    (f"{_D}/tooling/sobjects/CustomField/<record>", "PATCH", "patch_field"),
    (f"{_D}/tooling/sobjects/CustomField/<record>", "DELETE", "delete_field"),
    ("/services/Soap/u/<version>", "POST", "soap_login"),
    ("/services/Soap/m/<version>", "POST", "metadata_soap"),
    ("/services/Soap/m/<version>/<org>", "POST", "metadata_soap"),
    ("/services/oauth2/token", "POST", "token"),
)
_UNGUARDED = {"soap_login", "token", "metadata_soap"}


def _url_map() -> Map:
    rules = [Rule(path, methods=[m], endpoint=name) for path, m, name in _ROUTES]
    return Map(rules, strict_slashes=False, merge_slashes=False)


def endpoint_name(method: str, rule: str) -> str:
    """`GET /services/data/v{version}/sobjects/{sobject}/describe` for its rule."""
    text = rule.replace("<version>", "{version}")
    for arg in ("locator", "sobject", "record", "job_id", "which", "org"):
        text = text.replace(f"<{arg}>", "{" + arg + "}")
    return f"{method} {text}"


def _version_ok(version: str) -> bool:
    try:
        number = float(version)
    except ValueError:
        return False
    return 20.0 <= number <= 66.0 and version == f"{number:.1f}"


class SalesforceApp:
    """WSGI app of the Salesforce dialect. `instance_url` is what logins report as the
    instance (default: the origin the request came to)."""

    def __init__(
        self,
        store: SandboxStore,
        *,
        instance_url: str | None = None,
        limits: SalesforceLimits | None = None,
        quota: Quota | None = None,
        faults: FaultPlan | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store = store
        self.clock = SandboxClock(store)
        self.limits = limits or SalesforceLimits()
        self.quota = quota or Quota.load(store)
        self.faults = faults or FaultPlan()
        now = iso(self.clock.now())
        self.org = install(store, now)
        install_layout(store, now)
        self.sessions = Sessions(store, self.limits)
        self.ledger = Ledger(store, self.quota)
        self.guard = Guard(
            self.ledger, Gate(self.quota.concurrency), self.faults, self.sessions, sleep
        )
        self.instance_url = instance_url
        self.url_map = _url_map()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request = Request(environ)
        now = self.clock.now()
        try:
            rule, matched = self.url_map.bind_to_environ(environ).match(return_rule=True)
            args: dict[str, Any] = dict(matched)
            name = endpoint_name(request.method, rule.rule)
            endpoint = str(rule.endpoint)
        except HTTPException as exc:
            name = f"{request.method} {request.path}"
            endpoint, args = "", {"error": exc}

        def handle(decision: Decision, user: int) -> Response:
            return self._handle(request, endpoint, args, now, decision, user)

        def answer() -> Response:
            rest = request.path.startswith("/services/data/")
            if (endpoint and endpoint not in _UNGUARDED) or (not endpoint and rest):
                return self.guard.answer(request, environ, now, handle)
            return handle(Decision(0), 0)

        def log(status: int) -> None:
            self._log(request, now, name, status)

        return send(environ, start_response, now, answer, log)

    def _log(self, request: Request, now: datetime, endpoint: str, status: int) -> None:
        self.store.log_call(
            at=iso(now),
            method=request.method,
            path=request.path,
            endpoint=endpoint,
            status=status,
            client=client_name(request),
        )

    def _instance(self, request: Request) -> str:
        return self.instance_url or request.host_url.rstrip("/")

    def _handle(
        self,
        request: Request,
        endpoint: str,
        args: dict[str, Any],
        now: datetime,
        decision: Decision,
        user: int,
    ) -> Response:
        try:
            if not endpoint:
                raise args["error"]
            args = dict(args)
            version = args.pop("version", "")
            if endpoint != "token" and not _version_ok(version):
                raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
            if endpoint == "soap_login":
                return soap_login(
                    request, version, self.org, self.sessions, now, self._instance(request)
                )
            if endpoint == "token":
                return token_endpoint(
                    request, self.org, self.store, self.sessions, now, self._instance(request)
                )
            if endpoint == "metadata_soap":
                return _metadata_unsupported()
            call = Call(
                request, self.store, now, version, user, self.limits, self._instance(request),
                decision, self.faults.profile,
            )  # fmt: skip
            return self._dispatch(call, endpoint, args)
        except NotFound:
            return error_response(
                SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
            )
        except MethodNotAllowed as exc:
            allowed = ",".join(exc.valid_methods or [])
            return error_response(
                SalesforceError(
                    405,
                    "METHOD_NOT_ALLOWED",
                    f"HTTP Method '{request.method}' not allowed. Allowed are {allowed}",
                )
            )
        except SalesforceError as exc:
            return error_response(exc)
        except HTTPException as exc:  # pragma: no cover - werkzeug's own
            return error_response(SalesforceError(400, "JSON_PARSER_ERROR", str(exc.description)))
        except Exception:
            log.exception("sandbox handler failed for %s", endpoint)
            return error_response(
                SalesforceError(500, "UNKNOWN_EXCEPTION", "An unexpected error occurred.")
            )

    def _dispatch(self, call: Call, endpoint: str, args: dict[str, Any]) -> Response:
        if endpoint == "query":
            return query.query(call)
        if endpoint == "query_all":
            return query.query(call, include_deleted=True)
        if endpoint in ("query_more", "query_all_more", "tooling_query_more"):
            return query.query_more(call, args["locator"])
        if endpoint == "tooling_query":
            return query.query(call, tooling=True)
        if endpoint == "describe_global":
            return sobjects.describe_global(call)
        if endpoint == "describe":
            return sobjects.describe(call, args["sobject"])
        if endpoint == "create":
            return sobjects.create(call, args["sobject"])
        if endpoint == "get_record":
            return sobjects.get_record(call, args["sobject"], args["record"])
        if endpoint == "patch_record":
            return sobjects.patch_record(call, args["sobject"], args["record"])
        if endpoint == "delete_record":
            return sobjects.delete_record(call, args["sobject"], args["record"])
        if endpoint == "collections":
            return sobjects.collections_patch(call)
        if endpoint == "limits":
            return sobjects.limits(call, self.ledger)
        if endpoint == "create_field":
            return tooling.post_custom_field(call)
        if endpoint == "get_tooling":
            return tooling.get_tooling(call, args["sobject"], args["record"])
        if endpoint == "patch_layout":
            return tooling.patch_layout(call, args["record"])
        if endpoint == "patch_field":
            return tooling.patch_custom_field(call, args["record"])
        if endpoint == "delete_field":
            return tooling.delete_custom_field(call, args["record"])
        return self._bulk(call, endpoint, args)

    def _bulk(self, call: Call, endpoint: str, args: dict[str, Any]) -> Response:
        job = args.get("job_id", "")
        handlers: dict[str, Callable[[], Response]] = {
            "create_query": lambda: bulk2.create_query(call),
            "list_query": lambda: bulk2.list_jobs(call, "query"),
            "get_query": lambda: bulk2.get_query(call, job),
            "patch_query": lambda: bulk2.set_state(call, job, "query"),
            "delete_query": lambda: bulk2.delete_job(call, job, "query"),
            "query_results": lambda: bulk2.query_results(call, job),
            "create_ingest": lambda: bulk2.create_ingest(call),
            "list_ingest": lambda: bulk2.list_jobs(call, "ingest"),
            "get_ingest": lambda: bulk2.get_ingest(call, job),
            "patch_ingest": lambda: bulk2.set_state(call, job, "ingest"),
            "delete_ingest": lambda: bulk2.delete_job(call, job, "ingest"),
            "upload": lambda: bulk2.upload(call, job),
            "ingest_results": lambda: bulk2.ingest_results(call, job, args.get("which", "")),
        }
        return handlers[endpoint]()


def _metadata_unsupported() -> Response:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
        'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault>'
        "<faultcode>sf:UNSUPPORTED_CLIENT</faultcode><faultstring>The crmqual sandbox does not "
        "emulate the Metadata SOAP API; use the Tooling API's REST resources</faultstring>"
        "</soapenv:Fault></soapenv:Body></soapenv:Envelope>"
    )
    return Response(body, status=500, content_type="text/xml; charset=utf-8")
