"""Test certificates for Graph sign-in, made at test time (no key material in the repository)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID


def make_certificate(name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
    """A self-signed RSA certificate, as `New-SelfSignedCertificate` or openssl would make."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    return key, cert


def write_pem(path: Path, key: rsa.RSAPrivateKey, cert: x509.Certificate) -> Path:
    """One PEM file with the private key and the certificate, as `openssl pkcs12 -nodes` makes."""
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ) + cert.public_bytes(serialization.Encoding.PEM)
    path.write_bytes(pem)
    return path


def write_pfx(
    path: Path, key: rsa.RSAPrivateKey, cert: x509.Certificate, password: bytes | None
) -> Path:
    """A PKCS#12 (.pfx) file, as Windows' certificate export or Azure Key Vault hands out."""
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"syncsvc", key, cert, None, encryption))
    return path
