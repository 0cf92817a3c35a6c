"""A development certificate for https://localhost: a local CA the user trusts once, and a server certificate it
signs (as Office's own add-in tooling does), kept in the state directory and reused until it nears its end."""

from __future__ import annotations

import ipaddress
import platform
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

CA_DAYS = 825
SERVER_DAYS = 397  # browsers refuse longer-lived server certificates
RENEW_BEFORE = timedelta(days=30)
FOLDER = "excel-tls"


@dataclass(frozen=True)
class DevCertificate:
    ca: Path  # what the user trusts
    certificate: Path  # the server's chain (server, then CA)
    key: Path

    def trust_command(self) -> str:
        """How to trust the CA on this machine's system (Excel on the web runs in the browser, which uses it)."""
        system = platform.system()
        if system == "Windows":
            return f'certutil -user -addstore Root "{self.ca}"'
        if system == "Darwin":
            return f'security add-trusted-cert -r trustRoot -k ~/Library/Keychains/login.keychain-db "{self.ca}"'
        return (
            f'certutil -d sql:$HOME/.pki/nssdb -A -t "C,," -n "Shiftwork development CA" -i "{self.ca}" '
            "(Chrome/Chromium; libnss3-tools), or import it in Firefox's certificate settings"
        )


def dev_certificate(state_dir: Path, now: datetime | None = None) -> DevCertificate:
    """The state directory's development certificate, made (or renewed) when missing or about to expire."""
    folder = state_dir / FOLDER
    paths = DevCertificate(folder / "ca.pem", folder / "localhost.pem", folder / "localhost-key.pem")
    now = now or datetime.now(UTC)
    if not _valid(paths, now):
        _make(paths, now)
    return paths


def _valid(paths: DevCertificate, now: datetime) -> bool:
    from cryptography import x509

    if not (paths.ca.exists() and paths.certificate.exists() and paths.key.exists()):
        return False
    try:
        for pem in (paths.ca, paths.certificate):
            certificate = x509.load_pem_x509_certificate(pem.read_bytes())
            if certificate.not_valid_after_utc - now < RENEW_BEFORE:
                return False
    except ValueError:
        return False
    return True


def _make(paths: DevCertificate, now: datetime) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    paths.ca.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Shiftwork development CA ({platform.node()})")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=SERVER_DAYS))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    paths.key.touch(mode=0o600)
    paths.key.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    paths.certificate.write_bytes(server.public_bytes(pem) + ca.public_bytes(pem))
    paths.ca.write_bytes(ca.public_bytes(pem))  # the CA's key is not kept: nothing else can be signed with it
