"""A proxy on loopback that makes a real CalDAV server behave like servers we have met.

- `constant_etag`: every ETag the client sees (headers and `getetag` in multistatus bodies)
  is the same string, as on a server that gives each new object "...00000000". An
  `If-Match` with that string is sent upstream as the object's current real ETag, so it
  succeeds whatever the object now holds, exactly as it would on such a server.
- `hide_identity`: `resource-id` and `creationdate` are cut from every body, as on a server
  that offers no collection identity.
- `redirects`: requests under a path prefix are answered with a redirect (301/302/307/308)
  to another prefix on the proxy, as servers do for moved or shared collections.

Everything else passes through unchanged. It records each request it saw (method, path,
body) so tests can check what a client re-sent after a redirect.
"""

from __future__ import annotations

import http.client
import re
import threading
from dataclasses import dataclass, field
from typing import ClassVar

from tests.loopback import LoopbackServer, QuietHandler

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade"}
_GETETAG = re.compile(rb"(<(?:[\w-]+:)?getetag>)[^<]*(</(?:[\w-]+:)?getetag>)")
_IDENTITY = re.compile(
    rb"<((?:[\w-]+:)?(?:resource-id|creationdate))>.*?</\1>|<(?:[\w-]+:)?resource-id/>", re.S
)


@dataclass
class Quirks:
    constant_etag: str | None = None  # e.g. '"00000000"'
    hide_identity: bool = False
    redirects: dict[str, tuple[int, str]] = field(default_factory=dict)  # prefix: (status, to)


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    body: bytes


class DavQuirkProxy(LoopbackServer):
    """Forward HTTP to `upstream` ("127.0.0.1", port) with `quirks` applied."""

    def __init__(self, upstream: tuple[str, int], quirks: Quirks) -> None:
        self.upstream = upstream
        self.quirks = quirks
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        super().__init__(_Handler)

    @property
    def url(self) -> str:
        return f"{self.origin}/"

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.seen.append(seen)

    def upstream_request(
        self, method: str, path: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        headers = {**headers, "Host": f"{self.upstream[0]}:{self.upstream[1]}"}
        conn = http.client.HTTPConnection(*self.upstream, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            return response.status, response.reason, response.getheaders(), response.read()
        finally:
            conn.close()


class _Handler(QuietHandler):
    owner: ClassVar[DavQuirkProxy]

    def _handle(self) -> None:
        proxy = self.owner
        quirks = proxy.quirks
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        proxy.record(Seen(self.command, self.path, body))
        for prefix, (status, target) in quirks.redirects.items():
            if self.path.startswith(prefix):
                self._reply(status, [("Location", target + self.path[len(prefix) :])], b"")
                return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        if quirks.constant_etag is not None:
            headers = self._real_if_match(headers, quirks.constant_etag)
        status, _reason, upstream_headers, data = proxy.upstream_request(
            self.command, self.path, body, headers
        )
        out = [(k, v) for k, v in upstream_headers if k.lower() not in HOP_BY_HOP]
        if quirks.constant_etag is not None:
            constant = quirks.constant_etag
            out = [(k, constant if k.lower() == "etag" else v) for k, v in out]
            data = _GETETAG.sub(rb"\g<1>" + constant.encode() + rb"\g<2>", data)
        if quirks.hide_identity:
            data = _IDENTITY.sub(b"", data)
        self._reply(status, out, data)

    def _real_if_match(self, headers: dict[str, str], constant: str) -> dict[str, str]:
        """Turn If-Match: <constant> into the object's current ETag upstream (if any)."""
        key = next((k for k in headers if k.lower() == "if-match"), None)
        if key is None or headers[key].strip() != constant:
            return headers
        auth = {k: v for k, v in headers.items() if k.lower() == "authorization"}
        status, _, upstream_headers, _ = self.owner.upstream_request("GET", self.path, b"", auth)
        real = next((v for k, v in upstream_headers if k.lower() == "etag"), None)
        if status != 200 or real is None:
            return headers  # no object: the server's own If-Match answers 412
        return {**headers, key: real}

    def _reply(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            if name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_OPTIONS = _handle
    do_PROPFIND = do_PROPPATCH = do_REPORT = do_MKCALENDAR = do_MKCOL = _handle
