"""Logging in to Salesforce (salesforce.md 2) and keeping the session alive: the OAuth 2.0
JWT bearer flow and client credentials for unattended runs, SOAP ``login()`` with username,
password and security token as the fallback for older orgs.

``SalesforceLogin`` is the ``HttpClient``'s ``TokenAuth``: it logs in on first use and again
when Salesforce refuses the session (401 ``INVALID_SESSION_ID``, e.g. the org's session
timeout passed mid-run), under a lock, so parallel calls refused at once log in once. The
flows issue no refresh token (not confirmed, salesforce.md 2): renewing is logging in again.
Logins go to ``connection.login_url`` (production, sandbox or My Domain) through the same
client, so they have its timeouts, retries and redaction; nothing secret is ever logged.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import Any
from xml.parsers.expat import ExpatError

import jwt
from simple_salesforce.util import getUniqueElementValueFromXmlString

from crmqual.adapters.salesforce.config import Flow, SalesforceConnection
from crmqual.errors import AuthError, CrmUnavailableError
from crmqual.http import SECRETS, HttpClient

BEARER = "Bearer "
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
JWT_LIFETIME = 180  # seconds: simple-salesforce's three minutes (salesforce.md 2)

#: What to check when a flow's login is refused: (English, Chinese).
_HINTS: dict[Flow, tuple[str, str]] = {
    Flow.JWT: (
        "check client_id (the external client app's consumer key), that the app holds the "
        "certificate of private_key, that username is the integration user and is "
        "pre-authorised for the app, and login_url (https://test.salesforce.com for a "
        "sandbox org)",
        "请检查 client_id（外部客户端应用的使用者密钥）、应用中的证书是否与 private_key "
        "对应、username 是否为已预授权该应用的集成用户，以及 login_url（沙盒组织用 "
        "https://test.salesforce.com）",
    ),
    Flow.CLIENT_CREDENTIALS: (
        "check client_id and client_secret, that the external client app enables the client "
        "credentials flow with a run-as user, and that login_url is the org's My Domain",
        "请检查 client_id 和 client_secret、外部客户端应用是否启用了客户端凭据流程并设置了"
        "运行用户，以及 login_url 是否为组织的 My Domain",
    ),
    Flow.PASSWORD: (
        "check username, password and security_token (a reset sends a new token by e-mail); "
        "SOAP login() is disabled by default in orgs created from Winter '26: prefer flow jwt",
        "请检查 username、password 和 security_token（重置后新令牌会通过邮件发送）；"
        "2026 年冬季版起创建的组织默认禁用 SOAP login()：建议使用 flow jwt",
    ),
}


@dataclass(frozen=True)
class OrgSession:
    """A session id and the org's instance (``https://host[:port]``) it is valid on."""

    token: str
    instance_url: str

    def __repr__(self) -> str:
        return f"OrgSession(instance_url={self.instance_url!r})"


class SalesforceLogin:
    """Sessions for one connection; an ``HttpClient``'s ``TokenAuth``."""

    def __init__(
        self,
        http: HttpClient,
        connection: SalesforceConnection,
        *,
        key_file: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._http = http
        self.connection = connection
        self._key_file = key_file
        self._clock = clock
        self._lock = threading.Lock()
        self._current: OrgSession | None = None
        self._renewed: list[Callable[[OrgSession], None]] = []
        self.logins = 0
        for secret in (connection.client_secret, connection.password, connection.security_token,
                       connection.private_key):  # fmt: skip
            if secret is not None:
                SECRETS.register(secret.get_secret_value())

    def __repr__(self) -> str:
        return f"SalesforceLogin({self.connection.flow.value}, {self.connection.login_url!r})"

    def session(self) -> OrgSession:
        """The current session, logging in first if there is none."""
        current = self._current
        if current is None:
            with self._lock:
                if self._current is None:
                    self._login()
                current = self._current
        assert current is not None
        return current

    def on_renew(self, callback: Callable[[OrgSession], None]) -> None:
        """Call ``callback`` with each new session after the first (to update holders of the
        old session id, e.g. simple-salesforce's own headers)."""
        self._renewed.append(callback)

    # -- TokenAuth ------------------------------------------------------------------------------
    def headers(self) -> dict[str, str]:
        return {"Authorization": BEARER + self.session().token}

    def refresh(self, stale: Mapping[str, str]) -> None:
        refused = stale.get("Authorization", "").removeprefix(BEARER)
        with self._lock:
            if self._current is None or self._current.token == refused:
                self._login()

    # -- the flows ------------------------------------------------------------------------------
    def _login(self) -> None:
        flow = self.connection.flow
        try:
            if flow == Flow.PASSWORD:
                found = self._soap_login()
            elif flow == Flow.JWT:
                found = self._token({"grant_type": JWT_GRANT, "assertion": self._assertion()})
            else:
                found = self._token({"grant_type": "client_credentials"}, basic=True)
        except AuthError as exc:
            hint, hint_zh = _HINTS[flow]
            error = AuthError(f"Salesforce refused the {flow.value} login: {exc}; {hint}",
                              code=exc.code)  # fmt: skip
            error.zh = f"Salesforce 拒绝了 {flow.value} 登录：{exc}；{hint_zh}"
            raise error from None
        SECRETS.register(found.token)
        renewed = self._current is not None
        self._current = found
        self.logins += 1
        if renewed:
            for callback in self._renewed:
                callback(found)

    def _assertion(self) -> str:
        c = self.connection
        claims = {
            "iss": c.client_id,
            "sub": c.username,
            "aud": c.audience,
            "exp": int(self._clock()) + JWT_LIFETIME,
        }
        return jwt.encode(claims, self._private_key(), algorithm="RS256")

    def _private_key(self) -> str:
        c = self.connection
        if c.private_key is not None:
            return c.private_key.get_secret_value()
        assert self._key_file is not None
        try:
            return self._key_file.read_text(encoding="utf-8")
        except OSError as exc:
            error = AuthError(
                f"cannot read connection.private_key_file {self._key_file}: "
                f"{exc.strerror or exc}; point it at the PEM key whose certificate the "
                "external client app holds"
            )
            error.zh = (
                f"无法读取 connection.private_key_file {self._key_file}：{exc.strerror or exc}；"
                "请指向其证书已上传到外部客户端应用的 PEM 私钥"
            )
            raise error from None

    def _token(self, form: dict[str, str], *, basic: bool = False) -> OrgSession:
        c = self.connection
        headers = {}
        if basic:
            assert c.client_id is not None and c.client_secret is not None
            pair = f"{c.client_id}:{c.client_secret.get_secret_value()}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        response = self._http.request(
            "POST",
            f"{c.login_url}/services/oauth2/token",
            data=form,
            headers=headers,
            authenticated=False,
            endpoint="POST /services/oauth2/token",
        )
        body = _json(response)
        token, instance = body.get("access_token"), body.get("instance_url")
        if not isinstance(token, str) or not token or not _is_url(instance):
            raise CrmUnavailableError(
                f"the Salesforce token endpoint at {c.login_url} answered HTTP "
                f"{response.status_code} without an access token and instance URL"
            )
        return OrgSession(token, str(instance).rstrip("/"))

    def _soap_login(self) -> OrgSession:
        c = self.connection
        assert c.username is not None and c.password is not None
        assert c.security_token is not None
        secret = c.password.get_secret_value() + c.security_token.get_secret_value()
        envelope = _SOAP_LOGIN.format(username=escape(c.username), password=escape(secret))
        response = self._http.request(
            "POST",
            f"{c.login_url}/services/Soap/u/{c.api_version}",
            data=envelope.encode("utf-8"),  # type: ignore[arg-type]
            headers={"Content-Type": "text/xml; charset=UTF-8", "SOAPAction": "login"},
            authenticated=False,
            endpoint=f"POST /services/Soap/u/{c.api_version}",
        )
        try:
            token = getUniqueElementValueFromXmlString(response.content, "sessionId")
            server = getUniqueElementValueFromXmlString(response.content, "serverUrl")
        except ExpatError:
            token = server = None
        if not token or not _is_url(server):
            raise CrmUnavailableError(
                f"Salesforce's SOAP login at {c.login_url} answered HTTP {response.status_code} "
                "without a session id and server URL"
            )
        parts = str(server).split("/")
        return OrgSession(token, "/".join(parts[:3]))


_SOAP_LOGIN = """<?xml version="1.0" encoding="utf-8" ?>
<env:Envelope xmlns:xsd="http://www.w3.org/2001/XMLSchema"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:env="http://schemas.xmlsoap.org/soap/envelope/"
    xmlns:urn="urn:partner.soap.sforce.com">
  <env:Header><urn:CallOptions><urn:client>crmqual</urn:client></urn:CallOptions></env:Header>
  <env:Body><n1:login xmlns:n1="urn:partner.soap.sforce.com">
    <n1:username>{username}</n1:username><n1:password>{password}</n1:password>
  </n1:login></env:Body>
</env:Envelope>"""


def _is_url(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://"))


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise CrmUnavailableError(
            f"the Salesforce token endpoint answered HTTP {response.status_code} without JSON"
        )
    return body
