"""A `requests` session that reaches a served Salesforce sandbox (a client-side helper).

simple-salesforce sends logins to `https://{domain}.salesforce.com` (salesforce.md 1); the
only way to redirect them is the `session=` it accepts. `loopback_session(origin, ca_file)`
returns a session that sends every `*.salesforce.com` URL to the sandbox's origin and trusts
its CA. simple-salesforce itself is unchanged: it is handed this session like any other.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter


class _Redirect(HTTPAdapter):
    def __init__(self, origin: str, ca_file: str) -> None:
        super().__init__()
        self._origin = urlsplit(origin)
        self._ca_file = ca_file

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        parts = urlsplit(request.url or "")
        if (parts.hostname or "").endswith(".salesforce.com"):
            request.url = urlunsplit(
                (self._origin.scheme, self._origin.netloc, parts.path, parts.query, "")
            )
        # requests lets REQUESTS_CA_BUNDLE override `session.verify`; the CA must win here.
        kwargs["verify"] = self._ca_file
        return super().send(request, *args, **kwargs)


def loopback_session(origin: str, ca_file: str) -> requests.Session:
    """A session for `Salesforce(session=...)` against a sandbox served at `origin`."""
    session = requests.Session()
    session.verify = ca_file
    session.mount("https://", _Redirect(origin, ca_file))
    return session
