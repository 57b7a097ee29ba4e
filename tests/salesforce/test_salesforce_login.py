"""Logging in (salesforce.md 2) and staying logged in (section 3), against `responses`:
the JWT bearer assertion, client credentials on the My Domain, SOAP login() as the fallback,
refusals as AuthErrors saying what to check, and a session that expires mid-run renewed once
and the request retried once, whichever flow obtained it."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from urllib.parse import parse_qs

import jwt
import pytest
import responses
from responses import matchers
from salesforce_payloads import (
    BASE,
    CLIENT_ID,
    CLIENT_SECRET,
    INSTANCE,
    JOBS,
    KEY_PEM,
    LOGIN,
    MY_DOMAIN,
    PASSWORD,
    PUBLIC_PEM,
    QUERY_URL,
    SECURITY_TOKEN,
    SESSIONS,
    TOKEN_URL,
    USERNAME,
    V,
    account,
    adapter,
    error,
    job,
    page,
    soap_fault,
    soap_login_body,
    token_body,
)

from crmqual.contract import ReadQuery
from crmqual.errors import AuthError, ExitCode

JOB = "750xx0000000001AAA"
FIELDS = ReadQuery(fields=("Name",), ids=(str(account(1)["Id"]),))


def _bearer(call: responses.Call) -> str:
    return str(call.request.headers["Authorization"])


def test_jwt_bearer_posts_a_signed_assertion_and_uses_the_instance_it_names(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    rsps.post(TOKEN_URL, json=token_body())
    rsps.get(QUERY_URL, json=page([account(1, Name="Acme")], 1))
    before = time.time()
    records = [r for p in adapter(sleeps).read(FIELDS) for r in p]
    assert records[0]["Name"] == "Acme" and "attributes" not in records[0]
    form = parse_qs(str(rsps.calls[0].request.body))
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    claims = jwt.decode(form["assertion"][0], PUBLIC_PEM, algorithms=["RS256"], audience=LOGIN)
    assert (claims["iss"], claims["sub"], claims["aud"]) == (CLIENT_ID, USERNAME, LOGIN)
    assert before + 170 <= claims["exp"] <= time.time() + 180  # three minutes
    assert rsps.calls[1].request.url.startswith(f"{BASE}/query/")
    assert _bearer(rsps.calls[1]) == f"Bearer {SESSIONS[0]}"


def test_jwt_for_a_sandbox_org_signs_for_test_salesforce_com_and_reads_a_key_file(
    rsps: responses.RequestsMock, sleeps: list[float], tmp_path: Path
) -> None:
    test_host = "https://test.salesforce.com"
    key = tmp_path / "server.key"
    key.write_text(KEY_PEM, encoding="utf-8")
    rsps.post(f"{test_host}/services/oauth2/token", json=token_body())
    rsps.get(QUERY_URL, json=page([], 0))
    sf = adapter(
        sleeps, key_file=key, login_url=test_host, private_key=None, private_key_file="server.key"
    )
    list(sf.read(FIELDS))
    form = parse_qs(str(rsps.calls[0].request.body))
    claims = jwt.decode(form["assertion"][0], PUBLIC_PEM, algorithms=["RS256"], audience=test_host)
    assert claims["aud"] == test_host


def test_client_credentials_authenticate_with_basic_auth_on_the_my_domain(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    rsps.post(
        f"{MY_DOMAIN}/services/oauth2/token",
        json=token_body(),
        match=[matchers.urlencoded_params_matcher({"grant_type": "client_credentials"})],
    )
    rsps.get(QUERY_URL, json=page([], 0))
    sf = adapter(
        sleeps,
        flow="client_credentials",
        login_url=MY_DOMAIN,
        client_secret=CLIENT_SECRET,
        username=None,
        private_key=None,
    )
    list(sf.read(FIELDS))
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert rsps.calls[0].request.headers["Authorization"] == f"Basic {basic}"


def test_password_flow_posts_soap_login_with_password_and_token(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    rsps.post(f"{LOGIN}/services/Soap/u/64.0", body=soap_login_body())
    rsps.get(f"{INSTANCE}/services/data/v64.0/query/", json=page([], 0))
    sf = adapter(
        sleeps,
        flow="password",
        api_version="64.0",
        password=PASSWORD + "<&",
        security_token=SECURITY_TOKEN,
        private_key=None,
    )
    list(sf.read(FIELDS))
    envelope = rsps.calls[0].request.body.decode()
    assert f"<n1:username>{USERNAME}</n1:username>" in envelope
    assert f"<n1:password>{PASSWORD}&lt;&amp;{SECURITY_TOKEN}</n1:password>" in envelope
    assert rsps.calls[0].request.headers["SOAPAction"] == "login"
    assert _bearer(rsps.calls[1]) == f"Bearer {SESSIONS[0]}"


def test_a_refused_jwt_login_says_what_to_check_and_never_shows_a_secret(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    rsps.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "user hasn't approved this consumer"},
    )
    with pytest.raises(AuthError) as raised:
        list(adapter(sleeps).read(FIELDS))
    error_ = raised.value
    assert error_.exit_code == ExitCode.CRM_UNAVAILABLE and error_.code == "invalid_grant"
    assert "user hasn't approved this consumer" in str(error_)
    assert "pre-authorised" in str(error_) and "预授权" in error_.zh
    assert len(rsps.calls) == 1, "a refused login is not retried"
    assert "PRIVATE KEY" not in str(error_) + error_.zh


def test_a_soap_login_fault_is_an_auth_error_not_a_server_error_to_retry(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    message = "INVALID_LOGIN: Invalid username, password, security token; or user locked out."
    rsps.post(
        f"{LOGIN}/services/Soap/u/62.0", status=500, body=soap_fault("INVALID_LOGIN", message)
    )
    sf = adapter(
        sleeps, flow="password", api_version="62.0", password=PASSWORD,
        security_token=SECURITY_TOKEN, private_key=None,
    )  # fmt: skip
    with pytest.raises(AuthError) as raised:
        list(sf.read(FIELDS))
    assert raised.value.code == "INVALID_LOGIN" and len(rsps.calls) == 1
    assert "security_token" in str(raised.value)
    assert PASSWORD not in str(raised.value) and SECURITY_TOKEN not in str(raised.value)


# -- a session that expires mid-run ------------------------------------------------------------
def _expired() -> dict[str, object]:
    return {"status": 401, "json": error("INVALID_SESSION_ID", "Session expired or invalid")}


def test_an_expired_session_mid_read_is_renewed_once_and_the_request_retried_once(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    more = f"/services/data/v{V}/query/01gxx0000001-2000"
    rsps.post(TOKEN_URL, json=token_body(SESSIONS[0]))
    rsps.get(QUERY_URL, json=page([account(1)], 2, more))
    rsps.get(INSTANCE + more, **_expired())  # type: ignore[arg-type]
    rsps.post(TOKEN_URL, json=token_body(SESSIONS[1]))
    rsps.get(INSTANCE + more, json=page([account(2)], 2))
    sf = adapter(sleeps)
    ids = [r["Id"] for p in sf.read(FIELDS) for r in p]
    assert ids == [account(1)["Id"], account(2)["Id"]]
    bearers = [_bearer(c) for c in rsps.calls if "/query" in c.request.url]
    assert bearers == [f"Bearer {SESSIONS[0]}"] * 2 + [f"Bearer {SESSIONS[1]}"]
    assert sf.login.logins == 2 and sf.sf.session_id == SESSIONS[1]
    assert sf.sf.headers["Authorization"] == f"Bearer {SESSIONS[1]}"


def test_a_session_refused_again_after_renewal_stops_with_an_auth_error(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    rsps.post(TOKEN_URL, json=token_body(SESSIONS[0]))
    rsps.get(QUERY_URL, **_expired())  # type: ignore[arg-type]
    rsps.post(TOKEN_URL, json=token_body(SESSIONS[1]))
    rsps.get(QUERY_URL, **_expired())  # type: ignore[arg-type]
    sf = adapter(sleeps)
    with pytest.raises(AuthError) as raised:
        list(sf.read(FIELDS))
    assert raised.value.code == "INVALID_SESSION_ID"
    assert sf.login.logins == 2 and len(rsps.calls) == 4  # one renewal, one retry


def test_an_expired_session_during_a_bulk_job_poll_is_renewed_too(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    """simple-salesforce's Bulk 2.0 client has no re-login of its own (salesforce.md 3)."""
    rsps.post(TOKEN_URL, json=token_body(SESSIONS[0]))
    rsps.post(f"{JOBS}/ingest", json=job(JOB, "Open"))
    rsps.put(f"{JOBS}/ingest/{JOB}/batches", status=201)
    rsps.patch(f"{JOBS}/ingest/{JOB}", json=job(JOB, "UploadComplete"))
    rsps.get(f"{JOBS}/ingest/{JOB}", **_expired())  # type: ignore[arg-type]
    rsps.post(TOKEN_URL, json=token_body(SESSIONS[1]))
    rsps.get(f"{JOBS}/ingest/{JOB}", json=job(JOB, "JobComplete"))
    rid = str(account(1)["Id"])
    rsps.get(
        f"{JOBS}/ingest/{JOB}/successfulResults",
        body=f'"sf__Id","sf__Created","Id","Risk_Grade__c"\n"{rid}","false","{rid}","B"\n',
    )
    rsps.get(f"{JOBS}/ingest/{JOB}/failedResults", body='"sf__Id","sf__Error","Id"\n')
    sf = adapter(sleeps, bulk={"write_threshold": 1})
    sf.allow_writes_to(["Risk_Grade__c"])
    assert [r.ok for r in sf.write([(rid, {"Risk_Grade__c": "B"})])] == [True]
    assert sf.login.logins == 2
    assert _bearer(rsps.calls[-3]) == f"Bearer {SESSIONS[1]}"
