"""App-only tokens for Microsoft Graph (OAuth 2.0 client credentials), behind a small protocol.

Two providers, one cache:
- `msal_tokens`: production. MSAL (`ConfidentialClientApplication.acquire_token_for_client`)
  with a client secret or a certificate. MSAL insists on an https authority with a host name,
  so it cannot talk to the fake Graph server's loopback http token endpoint; its wiring is
  exercised by the live tests only (tests/test_graph_live.py).
- `client_credentials_tokens`: the same grant as a plain form POST with httpx (secret only).
  It is what the fake server is tested with, and it is only chosen for an http:// loopback
  authority (see `graph.open_target`).

`CachedToken` keeps the token and renews it `margin` seconds before it expires; `invalidate`
drops it after a 401 so the next request fetches a fresh one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import httpx

from syncsvc.domain.errors import AuthError, ConfigError, Where

Fetch = Callable[[], tuple[str, float]]  # -> (access token, seconds until it expires)


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
        self._renew_at = 0.0
        self.fetches = 0

    def token(self) -> str:
        with self._lock:
            now = self._clock()
            if self._token is None or now >= self._renew_at:
                token, expires_in = self._fetch()
                self.fetches += 1
                self._token = token
                # A token shorter-lived than the margin is still used once, not refetched in a loop.
                self._renew_at = now + max(expires_in - self._margin, expires_in / 2)
            return self._token

    def invalidate(self) -> None:
        with self._lock:
            self._token = None

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

    def fetch() -> tuple[str, float]:
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
        data: dict[str, Any] = reply.json() if reply.content else {}
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
    certificate_thumbprint: str | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> CachedToken:
    """MSAL app-only tokens with a client secret or a PEM certificate (private key included)."""
    import msal  # the optional `graph` extra; imported only when Graph is configured

    credential: str | dict[str, str]
    if certificate_path is not None:
        credential = _certificate_credential(certificate_path, certificate_thumbprint)
    elif client_secret:
        credential = client_secret
    else:
        raise ConfigError("graph: set client_secret, client_secret_file or certificate_path")
    app: Any = None

    def fetch() -> tuple[str, float]:
        nonlocal app
        if app is None:  # constructing the app already talks to the authority
            try:
                app = msal.ConfidentialClientApplication(
                    client_id,
                    authority=f"{authority_url.rstrip('/')}/{tenant_id}",
                    client_credential=credential,
                )
            except ValueError as err:
                raise AuthError(f"cannot use the authority: {err}") from None
        result: dict[str, Any] = app.acquire_token_for_client(scopes=[scope])
        if "access_token" not in result:
            raise AuthError(f"token request refused: {_describe(result, None)}")
        return str(result["access_token"]), float(result.get("expires_in", 3599))

    return CachedToken(fetch, clock=clock)


def _certificate_credential(path: Path, thumbprint: str | None) -> dict[str, str]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    try:
        pem = path.read_bytes()
    except OSError as err:
        raise ConfigError(
            f"cannot read certificate: {err.strerror}", where=Where(str(path))
        ) from None
    if thumbprint is None:
        try:
            cert = x509.load_pem_x509_certificate(pem)
        except ValueError:
            raise ConfigError("no PEM certificate in the file", where=Where(str(path))) from None
        thumbprint = cert.fingerprint(hashes.SHA1()).hex()  # noqa: S303 - Entra ID's thumbprint
    return {"private_key": pem.decode(), "thumbprint": thumbprint}


def _describe(data: dict[str, Any], status: int | None) -> str:
    error = str(data.get("error") or (f"HTTP {status}" if status else "no token"))
    detail = str(data.get("error_description") or "").splitlines()
    return f"{error}: {detail[0]}" if detail else error
