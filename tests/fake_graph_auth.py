"""The fake's sign-in half: Microsoft identity platform's client-credentials grant, as documented.

- POST /{tenant}/oauth2/v2.0/token with `grant_type=client_credentials`, `client_id`, `scope`
  and either `client_secret` or a signed JWT `client_assertion` (`client_assertion_type` =
  `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`). *documented*
  ("v2-oauth2-client-creds-grant-flow").
- The assertion: header `alg` RS256 or PS256 and the certificate's thumbprint as `x5t` (SHA-1)
  or `x5t#S256` (SHA-256), base64url; claims `aud` = the token endpoint, `iss` = `sub` = client
  id, `exp` in the future, `nbf` (if present) in the past, a `jti`. Signed with the private key of
  a certificate registered on the app. *documented* ("certificate-credentials").
- Errors: unknown client -> 400 `unauthorized_client`/AADSTS700016; wrong secret -> 401
  `invalid_client`/AADSTS7000215; assertion for an unregistered certificate -> 401
  `invalid_client`/AADSTS700027; wrong audience -> AADSTS700024. The codes are *documented*
  ("reference-error-codes"); the exact status of each is *assumed*.
- GET /{tenant}/v2.0/.well-known/openid-configuration names the token endpoint. *documented*
  (OpenID Connect discovery; MSAL reads it before its first token request). GET
  /common/discovery/instance lists the authority's host aliases (MSAL reads it to search its
  cache); the reply's shape is *assumed* (what MSAL parses).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class AppRegistration:
    """One app registration: its client id, secrets and uploaded certificates."""

    client_id: str
    secrets: set[str] = field(default_factory=set)
    certificates: list[x509.Certificate] = field(default_factory=list)


@dataclass(frozen=True)
class Refusal:
    status: int
    error: str
    code: int  # the AADSTS number
    description: str

    def body(self) -> dict[str, Any]:
        return {
            "error": self.error,
            "error_description": f"AADSTS{self.code}: {self.description}",
            "error_codes": [self.code],
        }


def check_grant(
    app: AppRegistration | None, form: dict[str, str], token_endpoint: str
) -> Refusal | None:
    """None if `form` is a valid client-credentials grant for `app`, else why not."""
    if form.get("grant_type") != "client_credentials":
        return Refusal(400, "unsupported_grant_type", 70003, "grant type not supported")
    if app is None or form.get("client_id") != app.client_id:
        return Refusal(400, "unauthorized_client", 700016, "application not found in tenant")
    if not form.get("scope", "").endswith("/.default"):
        return Refusal(400, "invalid_scope", 1002012, "app-only scopes end in /.default")
    if "client_secret" in form:
        if form["client_secret"] not in app.secrets:
            return Refusal(401, "invalid_client", 7000215, "invalid client secret provided")
        return None
    if form.get("client_assertion_type") == JWT_BEARER and form.get("client_assertion"):
        return _check_assertion(app, form["client_assertion"], token_endpoint)
    return Refusal(401, "invalid_client", 7000218, "client_assertion or client_secret required")


def _check_assertion(app: AppRegistration, assertion: str, token_endpoint: str) -> Refusal | None:
    try:
        head_b64, claims_b64, sig_b64 = assertion.split(".")
        header = json.loads(b64url_decode(head_b64))
        claims = json.loads(b64url_decode(claims_b64))
        signature = b64url_decode(sig_b64)
    except ValueError:
        return Refusal(401, "invalid_client", 50012, "client assertion is not a valid JWT")
    cert = _registered(app, header)
    if cert is None:
        return Refusal(401, "invalid_client", 700027, "certificate is not registered on the app")
    signed = f"{head_b64}.{claims_b64}".encode()
    key = cert.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    alg = header.get("alg")
    try:
        if alg == "RS256":
            key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "PS256":
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
            key.verify(signature, signed, pss, hashes.SHA256())
        else:
            return Refusal(401, "invalid_client", 5002730, f"unsupported algorithm {alg}")
    except InvalidSignature:
        return Refusal(401, "invalid_client", 700027, "client assertion has an invalid signature")
    now = time.time()
    if claims.get("aud") != token_endpoint:
        return Refusal(401, "invalid_client", 700024, "client assertion audience is wrong")
    if claims.get("iss") != app.client_id or claims.get("sub") != app.client_id:
        return Refusal(401, "invalid_client", 700021, "assertion issuer/subject is not the app")
    if float(claims.get("exp", 0)) <= now or float(claims.get("nbf", 0)) > now + 300:
        return Refusal(401, "invalid_client", 700025, "client assertion is expired")
    if not claims.get("jti"):
        return Refusal(401, "invalid_client", 50027, "client assertion has no jti")
    return None


def _registered(app: AppRegistration, header: dict[str, Any]) -> x509.Certificate | None:
    for cert in app.certificates:
        der = cert.public_bytes(encoding=Encoding.DER)
        # base64url; MSAL keeps the '=' padding, which Entra ID accepts too
        if str(header.get("x5t#S256", "")).rstrip("=") == b64url(hashlib.sha256(der).digest()):
            return cert
        if str(header.get("x5t", "")).rstrip("=") == b64url(hashlib.sha1(der).digest()):
            return cert
    return None


def openid_configuration(issuer_base: str, tenant: str) -> dict[str, Any]:
    """The discovery document MSAL reads; `issuer_base` is the authority as the client sees it."""
    root = f"{issuer_base.rstrip('/')}/{tenant}"
    return {
        "token_endpoint": f"{root}/oauth2/v2.0/token",
        "authorization_endpoint": f"{root}/oauth2/v2.0/authorize",
        "issuer": f"{issuer_base.rstrip('/')}/{tenant}/v2.0",
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
    }


def instance_metadata(authority: str) -> dict[str, Any]:
    """/common/discovery/instance: the host aliases of the authority (MSAL reads them)."""
    host = authority.split("://", 1)[-1].rstrip("/")
    return {"api-version": "1.1", "metadata": [{"aliases": [host]}]}
