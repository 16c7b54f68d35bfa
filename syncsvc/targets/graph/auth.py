"""App-only tokens for Microsoft Graph (OAuth 2.0 client credentials), behind a small protocol.

Two providers, one cache:
- `msal_tokens`: production. MSAL (`ConfidentialClientApplication.acquire_token_for_client`)
  with a client secret or a certificate (PEM or PFX). MSAL insists on an https authority with
  a host name; tests give it an http client that carries its requests to the fake server.
- `client_credentials_tokens`: the same grant as a plain form POST with httpx (secret only),
  chosen only for an http:// loopback authority (see `graph.open_target`).

`CachedToken` keeps the token and renews it `margin` seconds before it expires; `invalidate`
drops it after a 401, and the next fetch is told so (MSAL's own cache is emptied too), so the
retry really carries a new token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import httpx

from syncsvc.domain.errors import AuthError, ConfigError, Where

# (the last token was refused) -> (access token, seconds until it expires)
Fetch = Callable[[bool], tuple[str, float]]


class TokenProvider(Protocol):
    fetches: int  # tokens fetched so far (each is at least one HTTP request)

    def token(self) -> str: ...

    def invalidate(self) -> None: ...

    def close(self) -> None: ...


class CachedToken:
    """A token from `fetch`, reused until `margin` seconds before it expires. Thread-safe."""

    def __init__(
        self,
        fetch: Fetch,
        *,
        clock: Callable[[], float] = time.monotonic,
        margin: float = 300.0,
        on_close: Callable[[], None] | None = None,
    ) -> None:
        self._fetch = fetch
        self._on_close = on_close
        self._clock = clock
        self._margin = margin
        self._lock = threading.Lock()
        self._token: str | None = None
        self._refused = False
        self._renew_at = 0.0
        self.fetches = 0

    def token(self) -> str:
        with self._lock:
            now = self._clock()
            if self._token is None or now >= self._renew_at:
                token, expires_in = self._fetch(self._refused)
                self._refused = False
                self.fetches += 1
                self._token = token
                # A token shorter-lived than the margin is still used once, not refetched in a loop.
                self._renew_at = now + max(expires_in - self._margin, expires_in / 2)
            return self._token

    def invalidate(self) -> None:
        """The server refused the token: the next `token()` must fetch a new one."""
        with self._lock:
            self._token = None
            self._refused = True

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()


def scope_for(base_url: str) -> str:
    """`https://graph.microsoft.com/v1.0` -> `https://graph.microsoft.com/.default`."""
    url = httpx.URL(base_url)
    return f"{url.scheme}://{url.netloc.decode()}/.default"


def client_credentials_tokens(
    token_url: str,
    client_id: str,
    client_secret: str,
    scope: str,
    *,
    http: httpx.Client,
    clock: Callable[[], float] = time.monotonic,
) -> CachedToken:
    """Client-credentials grant by hand: POST the form, read `access_token`/`expires_in`.
    Closing the provider closes `http`."""

    def fetch(refused: bool) -> tuple[str, float]:
        del refused  # nothing is cached below us
        try:
            reply = http.post(
                token_url,
                data={
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "scope": scope,
                },
            )
        except httpx.HTTPError as err:
            raise AuthError(f"token endpoint unreachable: {err}") from None
        try:
            parsed: Any = reply.json() if reply.content else {}
        except ValueError:  # an HTML error page (a proxy, a wrong URL): no details to give
            parsed = {}
        data: dict[str, Any] = parsed if isinstance(parsed, dict) else {}
        if reply.status_code != 200 or "access_token" not in data:
            raise AuthError(f"token request refused: {_describe(data, reply.status_code)}")
        return str(data["access_token"]), float(data.get("expires_in", 3599))

    return CachedToken(fetch, clock=clock, on_close=http.close)


def msal_tokens(
    authority_url: str,
    tenant_id: str,
    client_id: str,
    scope: str,
    *,
    client_secret: str | None = None,
    certificate_path: Path | None = None,
    certificate_password: str | None = None,
    certificate_thumbprint: str | None = None,
    clock: Callable[[], float] = time.monotonic,
    http_client: Any = None,
) -> CachedToken:
    """MSAL app-only tokens with a client secret or a certificate (PEM or PFX).

    We own MSAL's token cache: since MSAL 1.23 `acquire_token_for_client` answers from its
    cache, so after a 401 the access tokens in it are dropped first, and the retry really gets
    a new token. `http_client` is for tests (MSAL's requests-like interface)."""
    import msal

    credential: str | dict[str, str]
    if certificate_path is not None:
        credential = certificate_credential(
            certificate_path, certificate_password, certificate_thumbprint
        )
    elif client_secret:
        credential = client_secret
    else:
        raise ConfigError("graph: set client_secret, client_secret_file or certificate_path")
    cache = msal.TokenCache()
    app: Any = None

    def fetch(refused: bool) -> tuple[str, float]:
        nonlocal app
        if app is None:  # constructing the app already talks to the authority
            extra = {"http_client": http_client} if http_client is not None else {}
            try:
                app = msal.ConfidentialClientApplication(
                    client_id,
                    authority=f"{authority_url.rstrip('/')}/{tenant_id}",
                    client_credential=credential,
                    token_cache=cache,
                    **extra,
                )
            except ValueError as err:
                raise AuthError(f"cannot use the authority: {err}") from None
        if refused:
            for token in list(cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN)):
                cache.remove_at(token)
        try:
            result: dict[str, Any] = app.acquire_token_for_client(scopes=[scope])
        except Exception as err:  # MSAL's and requests' errors: network, bad authority reply
            raise AuthError(f"sign-in failed: {type(err).__name__}: {err}") from None
        if "access_token" not in result:
            raise AuthError(f"token request refused: {_describe(result, None)}")
        return str(result["access_token"]), float(result.get("expires_in", 3599))

    return CachedToken(fetch, clock=clock)


def certificate_credential(
    path: Path, password: str | None, sha1_thumbprint: str | None
) -> dict[str, str]:
    """MSAL's certificate credential from a PEM (key + certificate) or a PFX/PKCS#12 file.

    Without a configured thumbprint MSAL is given the certificate itself and signs with its
    SHA-256 thumbprint (`x5t#S256`, PS256), as Entra ID prefers; a configured thumbprint is
    taken as the SHA-1 one and keeps MSAL's older SHA-1 path."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12

    where = Where(str(path))
    try:
        data = path.read_bytes()
    except OSError as err:
        raise ConfigError(f"cannot read certificate: {err.strerror}", where=where) from None
    secret = password.encode() if password else None
    try:
        if path.suffix.lower() in (".pfx", ".p12"):
            key, cert, _ = pkcs12.load_key_and_certificates(data, secret)
        else:
            key = serialization.load_pem_private_key(data, secret)
            cert = x509.load_pem_x509_certificate(data)
    except (ValueError, TypeError) as err:
        hint = "wrong or missing certificate_password?" if "password" in str(err).lower() else ""
        raise ConfigError(
            f"cannot read the key and certificate: {err}. {hint}".strip(), where=where
        ) from None
    if key is None or cert is None:
        raise ConfigError("the file needs both the private key and the certificate", where=where)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ConfigError("Entra ID certificate sign-in needs an RSA key", where=where)
    spki = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if key.public_key().public_bytes(*spki) != cert.public_key().public_bytes(*spki):
        raise ConfigError("the private key does not belong to the certificate", where=where)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    if sha1_thumbprint:
        return {"private_key": key_pem, "thumbprint": sha1_thumbprint.replace(":", "")}
    return {
        "private_key": key_pem,
        "public_certificate": cert.public_bytes(serialization.Encoding.PEM).decode(),
    }


def _describe(data: dict[str, Any], status: int | None) -> str:
    error = str(data.get("error") or (f"HTTP {status}" if status else "no token"))
    detail = str(data.get("error_description") or "").splitlines()
    return f"{error}: {detail[0]}" if detail else error
