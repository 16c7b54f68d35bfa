"""Where a plan comes from: a file or an http(s) URL; what format it is; how its text decodes.

URLs are fetched with httpx: only http and https, at most 5 redirects, one deadline for the
whole download (connect, headers, body; `plan.netguard`), no loopback/private/link-local
addresses unless the plan URL is one, a size limit enforced while streaming, and a
conditional GET (ETag/Last-Modified) whose body and validators are kept in `cache_dir` so
that a 304 reuses the cached body.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from syncsvc.atomic import write_atomic
from syncsvc.domain.errors import PlanError, Where
from syncsvc.domain.plan import Problem, ProblemKind, Severity
from syncsvc.domain.redact import public_location, url_secrets

if TYPE_CHECKING:
    import httpx

MAX_REDIRECTS = 5


@dataclass(frozen=True, slots=True)
class Fetched:
    data: bytes
    name: str  # path or URL, for messages
    content_type: str | None = None
    extra: dict[str, str] = field(default_factory=dict)  # etag, last-modified, cache use


# --------------------------------------------------------------------------- decoding

_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


def decode_text(data: bytes, name: str) -> tuple[str, tuple[Problem, ...]]:
    """UTF-8 (BOM allowed; UTF-16 with BOM too), else cp1252 with a warning; garbage -> error."""
    where = Where(name)
    if not data.strip():
        raise PlanError("the plan is empty", where=where)
    problems: tuple[Problem, ...] = ()
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError as err:
            raise PlanError(f"not valid UTF-16 text: {err.reason}", where=where) from err
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError as err:
                raise PlanError("not text (neither UTF-8 nor cp1252)", where=where) from err
            problems = (
                Problem(
                    ProblemKind.OTHER,
                    Severity.WARNING,
                    "the plan is not UTF-8; read it as Windows-1252 (cp1252)",
                    where,
                ),
            )
    controls = len(_CONTROL.findall(text))
    if "\x00" in text or controls > max(8, len(text) // 100):
        raise PlanError("the plan looks like binary data, not text", where=where)
    return text, problems


# --------------------------------------------------------------------------- names


def suffix_of(name: str) -> str:
    path = urlsplit(name).path if "://" in name else name
    return Path(path).suffix.lower()


# --------------------------------------------------------------------------- fetching


def is_url(location: str) -> bool:
    scheme = urlsplit(location).scheme
    return len(scheme) > 1  # "C:\\plan.txt" has a one-letter "scheme"


def read_source(
    location: str,
    *,
    max_bytes: int = 10_000_000,
    timeout_seconds: float = 30.0,
    cache_dir: Path | None = None,
    transport: httpx.BaseTransport | None = None,
) -> Fetched:
    """The bytes of a plan file or URL. Raises PlanError for anything unreadable."""
    if is_url(location):
        scheme = urlsplit(location).scheme.lower()
        if scheme not in ("http", "https"):
            raise PlanError(
                f"unsupported URL scheme {scheme!r}: only http and https plan URLs are read",
                where=Where(public_location(location)),
            )
        return _fetch_url(location, max_bytes, timeout_seconds, cache_dir, transport)
    path = Path(location).expanduser()
    where = Where(str(path))
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise PlanError(f"the plan is {size} bytes, over the {max_bytes} limit", where=where)
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except FileNotFoundError as err:
        raise PlanError("no such file", where=where) from err
    except IsADirectoryError as err:
        raise PlanError("is a directory, not a plan file", where=where) from err
    except OSError as err:
        raise PlanError(f"cannot read: {err.strerror or err}", where=where) from err
    if len(data) > max_bytes:
        raise PlanError(f"the plan is over the {max_bytes} byte limit", where=where)
    return Fetched(data, str(path))


def _url_id(url: str) -> str:
    """What the cache keeps of a URL: a hash (the URL itself may hold credentials)."""
    return "sha256:" + hashlib.sha256(url.encode()).hexdigest()


_ANY_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def _scrub(text: str, url: str) -> str:
    """`text` (an HTTP library's message) without the URL's secrets or any URL's user info
    and query: redirect targets can carry tokens too."""
    for secret in url_secrets(url):
        text = text.replace(secret, "***")
    return _ANY_URL.sub(lambda m: public_location(m.group()), text)


def _cache_paths(cache_dir: Path, url: str) -> tuple[Path, Path]:
    digest = hashlib.sha256(url.encode()).hexdigest()[:24]
    return cache_dir / f"{digest}.body", cache_dir / f"{digest}.json"


def _load_cache(cache_dir: Path | None, url: str) -> tuple[bytes, dict[str, str]] | None:
    if cache_dir is None:
        return None
    body, meta = _cache_paths(cache_dir, url)
    try:
        validators = json.loads(meta.read_text("utf-8"))
        if not isinstance(validators, dict) or validators.get("url") != _url_id(url):
            return None
        return body.read_bytes(), {str(k): str(v) for k, v in validators.items()}
    except (OSError, ValueError):
        return None


def _store_cache(cache_dir: Path | None, url: str, data: bytes, validators: dict[str, str]) -> None:
    if cache_dir is None or not (validators.get("etag") or validators.get("last-modified")):
        return
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        body, meta = _cache_paths(cache_dir, url)
        write_atomic(body, data)
        write_atomic(meta, json.dumps({"url": _url_id(url), **validators}).encode())
    except OSError:
        pass  # the cache only saves bandwidth; failing to write it is not an error


def _fetch_url(
    url: str,
    max_bytes: int,
    timeout: float,
    cache_dir: Path | None,
    transport: httpx.BaseTransport | None,
) -> Fetched:
    # Imported here: a plan file needs no HTTP client, and a one-shot run should not pay for it.
    import httpx

    from syncsvc.plan.netguard import AddressRefused, FetchStopped, GuardedBackend

    # Only the request itself sees the full URL: user info and query may be credentials.
    shown = public_location(url)
    where = Where(shown)
    cached = _load_cache(cache_dir, url)
    headers = {"Accept": "*/*", "User-Agent": "syncsvc-plan-reader"}
    if cached:
        if "etag" in cached[1]:
            headers["If-None-Match"] = cached[1]["etag"]
        if "last-modified" in cached[1]:
            headers["If-Modified-Since"] = cached[1]["last-modified"]
    deadline = time.monotonic() + timeout
    if transport is None:
        # One deadline for connect, headers and body, the stop switch, and the address
        # rules, for this download and its redirects (see plan.netguard). httpx has no
        # public hook for a network backend; its pool takes one, and the fetch tests fail
        # if this ever stops reaching it.
        guarded = httpx.HTTPTransport()
        guarded._pool._network_backend = GuardedBackend(deadline, timeout)
        transport = guarded
    try:
        with (
            httpx.Client(
                follow_redirects=True,
                max_redirects=MAX_REDIRECTS,
                timeout=timeout,
                transport=transport,
            ) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code == 304 and cached:
                return Fetched(
                    cached[0],
                    shown,
                    cached[1].get("content-type"),
                    {"etag": cached[1].get("etag", ""), "http": "304 (cached body)"},
                )
            if response.status_code >= 400 or response.status_code == 304:
                raise PlanError(
                    f"HTTP {response.status_code} {response.reason_phrase}".strip(), where=where
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise PlanError(f"the plan is over the {max_bytes} byte limit", where=where)
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise PlanError(f"the plan is over the {max_bytes} byte limit", where=where)
                if time.monotonic() > deadline:
                    raise PlanError(f"download took longer than {timeout:g} s", where=where)
                chunks.append(chunk)
            data = b"".join(chunks)
            validators = {
                k: response.headers[k]
                for k in ("etag", "last-modified", "content-type")
                if k in response.headers
            }
    except AddressRefused as err:
        raise PlanError(
            f"refused to connect: {_scrub(str(err), url)}; a plan download may reach loopback,"
            " private or link-local addresses only when the configured plan URL is one itself",
            where=where,
        ) from None
    except FetchStopped as err:
        raise PlanError("download interrupted: the daemon is stopping", where=where) from err
    except httpx.TooManyRedirects as err:
        raise PlanError(f"more than {MAX_REDIRECTS} redirects", where=where) from err
    except httpx.UnsupportedProtocol as err:
        raise PlanError(
            f"redirected to an unsupported URL: {_scrub(str(err), url)}", where=where
        ) from err
    except httpx.TimeoutException as err:
        raise PlanError(f"timed out after {timeout:g} s", where=where) from err
    except httpx.HTTPError as err:
        raise PlanError(
            f"could not fetch: {type(err).__name__}: {_scrub(str(err), url)}", where=where
        ) from err
    _store_cache(cache_dir, url, data, validators)
    extra = {"http": "200"}
    if "etag" in validators:
        extra["etag"] = validators["etag"]
    return Fetched(data, shown, validators.get("content-type"), extra)
