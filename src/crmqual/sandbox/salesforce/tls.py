"""Key material of a served Salesforce sandbox: a throwaway CA and a server certificate
(trustme) for HTTPS on loopback, and the RSA key pair of the connected app's JWT bearer flow.

simple-salesforce hard-codes `https` (salesforce.md 1), so a served sandbox speaks TLS; the
CA is new at every start and written to `ca_file` for the client's `session.verify`. The JWT
key pair is made once per database file (the certificate is what the connected app is
"configured with"; the private key is written to `private_key_file` for the client).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import ssl
from pathlib import Path

import trustme
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from crmqual.sandbox.store import SandboxStore

#: names the server certificate covers
CERT_NAMES = (
    "127.0.0.1",
    "localhost",
    "login.salesforce.com",
    "test.salesforce.com",
    "crmqual-sandbox.my.salesforce.com",
)


def material_dir(db: Path) -> Path:
    """Where a sandbox file's keys and CA are written: `<db>.salesforce/`."""
    path = db.with_name(db.name + ".salesforce")
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def server_tls(where: Path) -> tuple[ssl.SSLContext, Path]:
    """A server SSL context for a fresh CA's certificate, and the CA file for clients."""
    ca = trustme.CA(organization_name="crmqual sandbox CA")
    cert = ca.issue_cert(*CERT_NAMES)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    ca_file = where / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return context, ca_file


def jwt_keys(store: SandboxStore) -> tuple[str, str]:
    """(private key PEM, certificate PEM) of the connected app, made once per file."""
    raw = store.get_meta("sf.jwt")
    if raw is not None:
        saved = json.loads(raw)
        return str(saved["key"]), str(saved["cert"])
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "crmqual sandbox connected app")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    store.set_meta("sf.jwt", json.dumps({"key": key_pem, "cert": cert_pem}))
    return key_pem, cert_pem


def write_private_key(store: SandboxStore, where: Path) -> Path:
    """Write the JWT private key where a client can read it (owner-only)."""
    key_pem, _ = jwt_keys(store)
    path = where / "jwt-private-key.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key_pem)
    return path
