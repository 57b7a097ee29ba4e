"""Logging in (salesforce.md 2): the SOAP `login()` call (username + password + security
token), the OAuth 2.0 token endpoint (JWT bearer, client credentials, username-password), and
sessions that expire after a time or a number of calls (401 INVALID_SESSION_ID).

Sessions are rows of the shared store's token table (kind `session`), judged on the sandbox
clock; each belongs to a user (`user_id` holds the user's record number).
"""

from __future__ import annotations

import base64
import secrets
import threading
from datetime import datetime, timedelta
from typing import Any
from xml.etree import ElementTree

import jwt
from werkzeug.wrappers import Request, Response

from crmqual.sandbox.salesforce.call import SalesforceLimits
from crmqual.sandbox.salesforce.errors import invalid_session, json_response
from crmqual.sandbox.salesforce.ids import PREFIXES, sf_id
from crmqual.sandbox.salesforce.schema import (
    ORG_ID,
    USERS,
    OrgSecrets,
    user_exists,
)
from crmqual.sandbox.salesforce.tls import jwt_keys
from crmqual.sandbox.store import SandboxStore, TokenRow, iso

_PARTNER = "urn:partner.soap.sforce.com"
#: SOAP login() is unavailable from this API version on (salesforce.md 2)
SOAP_LOGIN_LAST = 64.0
_AUDIENCES = ("https://login.salesforce.com", "https://test.salesforce.com")
INVALID_LOGIN = "INVALID_LOGIN: Invalid username, password, security token; or user locked out."


class Sessions:
    """Minting and checking session ids; counts calls per session when sessions expire after
    a number of calls (counted per app, i.e. per serving process)."""

    def __init__(self, store: SandboxStore, limits: SalesforceLimits) -> None:
        self.store = store
        self.limits = limits
        self._calls: dict[str, int] = {}
        self._lock = threading.Lock()

    def mint(self, user: int, now: datetime, kind: str = "session") -> str:
        token = f"{ORG_ID[:15]}!AR" + secrets.token_urlsafe(72)
        expires = now + timedelta(seconds=self.limits.session_seconds)
        self.store.save_token(
            TokenRow(token, kind, "sandbox", ("api",), str(user), iso(expires), False), iso(now)
        )
        return token

    def user_of(self, header: str | None, now: datetime) -> int:
        """The user a `Bearer` session belongs to; raises INVALID_SESSION_ID."""
        if not header or not header.startswith(("Bearer ", "OAuth ")):
            raise invalid_session()
        token = header.split(" ", 1)[1].strip()
        row = self.store.find_token(token)
        if row is None or row.kind != "session":
            raise invalid_session()
        if row.expires_at is not None and row.expires_at <= iso(now):
            raise invalid_session()
        if self.limits.session_calls is not None:
            with self._lock:
                used = self._calls.get(token, 0) + 1
                self._calls[token] = used
            if used > self.limits.session_calls:
                self.store.expire_token(token, iso(now))
                raise invalid_session()
        return int(row.user_id)

    def expire(self, header: str | None, now: datetime) -> None:
        """End the presented session now (a fault: a session that times out mid-run)."""
        if header and " " in header:
            self.store.expire_token(header.split(" ", 1)[1].strip(), iso(now))


def _soap_fault(code: str, message: str) -> Response:
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:sf="urn:fault.partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><soapenv:Fault><faultcode>sf:{code}</faultcode><faultstring>{message}</faultstring><detail><sf:LoginFault xsi:type="sf:LoginFault"><sf:exceptionCode>{code}</sf:exceptionCode><sf:exceptionMessage>{message}</sf:exceptionMessage></sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"""  # noqa: E501
    return Response(body, status=500, content_type="text/xml; charset=utf-8")


def soap_login(
    request: Request, version: str, org: OrgSecrets, sessions: Sessions, now: datetime,
    instance_url: str,
) -> Response:  # fmt: skip
    """`POST /services/Soap/u/{version}` with a partner-WSDL `login` envelope."""
    try:
        root = ElementTree.fromstring(request.get_data())
    except ElementTree.ParseError:
        return _soap_fault("INVALID_LOGIN", INVALID_LOGIN)
    username = root.findtext(f".//{{{_PARTNER}}}username") or ""
    password = root.findtext(f".//{{{_PARTNER}}}password") or ""
    if float(version) > SOAP_LOGIN_LAST:
        return _soap_fault(
            "UNSUPPORTED_API_VERSION", f"login() is not available in API version {version}"
        )
    user = user_exists(username)
    if user is None or password != org.password + org.security_token:
        return _soap_fault("INVALID_LOGIN", INVALID_LOGIN)
    session = sessions.mint(user, now)
    user_id = sf_id(PREFIXES["User"], user)
    server = f"{instance_url}/services/Soap/u/{version}/{ORG_ID[:15]}"
    meta = f"{instance_url}/services/Soap/m/{version}/{ORG_ID[:15]}"
    name = next(u["Name"] for u in USERS if u["n"] == user)
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns="urn:partner.soap.sforce.com" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><loginResponse><result><metadataServerUrl>{meta}</metadataServerUrl><passwordExpired>false</passwordExpired><sandbox>false</sandbox><serverUrl>{server}</serverUrl><sessionId>{session}</sessionId><userId>{user_id}</userId><userInfo><currencySymbol xsi:nil="true"/><organizationId>{ORG_ID}</organizationId><organizationMultiCurrency>true</organizationMultiCurrency><organizationName>crmqual Sandbox</organizationName><userDefaultCurrencyIsoCode>USD</userDefaultCurrencyIsoCode><userFullName>{name}</userFullName><userId>{user_id}</userId><userName>{username}</userName><userTimeZone>UTC</userTimeZone></userInfo></result></loginResponse></soapenv:Body></soapenv:Envelope>"""  # noqa: E501
    return Response(body, status=200, content_type="text/xml; charset=utf-8")


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return json_response({"error": error, "error_description": description}, status)


def token_endpoint(
    request: Request, org: OrgSecrets, store: SandboxStore, sessions: Sessions, now: datetime,
    instance_url: str,
) -> Response:  # fmt: skip
    """`POST /services/oauth2/token`: grant types jwt-bearer, client_credentials, password."""
    form = request.form
    grant = form.get("grant_type", "")
    user: int | None
    if grant == "urn:ietf:params:oauth:grant-type:jwt-bearer":
        user_or_error = _jwt_user(form.get("assertion", ""), org, store, now)
        if isinstance(user_or_error, Response):
            return user_or_error
        user = user_or_error
    elif grant == "client_credentials":
        client_id, secret = _client(request)
        if client_id != org.client_id:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if secret != org.client_secret:
            return _oauth_error("invalid_client", "invalid client credentials")
        host = (request.host or "").split(":")[0]
        if host in ("login.salesforce.com", "test.salesforce.com"):
            return _oauth_error("invalid_grant", "request not supported on this domain")
        user = 1  # the execution ("run-as") user: the integration user
    elif grant == "password":
        if form.get("client_id") != org.client_id:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if form.get("client_secret") != org.client_secret:
            return _oauth_error("invalid_client", "invalid client credentials")
        user = user_exists(form.get("username", ""))
        password = form.get("password", "")
        if user is None or password not in (org.password, org.password + org.security_token):
            return _oauth_error("invalid_grant", "authentication failure")
    else:
        return _oauth_error("unsupported_grant_type", "grant type not supported")
    token = sessions.mint(user, now)
    user_id = sf_id(PREFIXES["User"], user)
    issued = str(int(now.timestamp() * 1000))
    return json_response(
        {
            "access_token": token,
            "scope": "api",
            "instance_url": instance_url,
            "id": f"https://login.salesforce.com/id/{ORG_ID}/{user_id}",
            "token_type": "Bearer",
            "issued_at": issued,
            "signature": base64.b64encode(secrets.token_bytes(32)).decode(),
        }
    )


def _client(request: Request) -> tuple[str, str]:
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header[6:]).decode()
        except ValueError:
            return "", ""
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return request.form.get("client_id", ""), request.form.get("client_secret", "")


def _jwt_user(
    assertion: str, org: OrgSecrets, store: SandboxStore, now: datetime
) -> int | Response:
    _, cert_pem = jwt_keys(store)
    from cryptography import x509

    public_key = x509.load_pem_x509_certificate(cert_pem.encode()).public_key()
    try:
        claims: dict[str, Any] = jwt.decode(
            assertion,
            public_key,  # type: ignore[arg-type]
            algorithms=["RS256"],
            options={"verify_exp": False, "verify_aud": False},
        )
    except jwt.PyJWTError:
        return _oauth_error("invalid_grant", "invalid assertion")
    if claims.get("iss") != org.client_id:
        return _oauth_error("invalid_client_id", "client identifier invalid")
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if not any(a in _AUDIENCES or str(a).endswith(".my.salesforce.com") for a in audiences):
        return _oauth_error("invalid_grant", "audience is invalid")
    try:
        expires = int(str(claims.get("exp")))
    except ValueError:
        return _oauth_error("invalid_grant", "invalid assertion")
    if expires <= now.timestamp():
        return _oauth_error("invalid_grant", "expired authorization code")
    user = user_exists(str(claims.get("sub", "")))
    if user is None:
        return _oauth_error("invalid_grant", "user hasn't approved this consumer")
    return user
