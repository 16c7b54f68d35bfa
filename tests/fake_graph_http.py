"""The fake's HTTP plumbing: a stdlib server on 127.0.0.1 that hands requests to FakeGraph.

Routes: POST /{tenant}/oauth2/v2.0/token, GET /{tenant}/v2.0/.well-known/openid-configuration,
GET /common/discovery/instance (MSAL reads aliases there) and /v1.0/... for Graph.
See tests/fake_graph.py for the behaviours.
"""

from __future__ import annotations

import copy
import json
import re
import socket
import threading
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.fake_graph import FakeGraph

JSON = dict[str, Any]
DROP = object()  # "close the connection without a reply"
ROUTES = [
    ("calendars", re.compile(r"^/users/([^/]+)/calendars$")),
    ("events", re.compile(r"^/users/([^/]+)/calendar/events$")),
    ("events", re.compile(r"^/users/([^/]+)/calendars/([^/]+)/events$")),
    ("item", re.compile(r"^/users/([^/]+)/events/([^/]+)$")),
    ("permanent", re.compile(r"^/users/([^/]+)/events/([^/]+)/permanentDelete$")),
]
_TOKEN = re.compile(r"^/([^/]+)/oauth2/v2\.0/token$")
_DISCOVERY = re.compile(r"^/([^/]+)/v2\.0/\.well-known/openid-configuration$")
_USER = re.compile(r"^/users/([^/?]+)")


@dataclass
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def error(status: int, code: str, message: str = "") -> Reply:
    return Reply(status, {"error": {"code": code, "message": message or code}})


def mailbox_of(target: str, body: Any, limit: int) -> tuple[str, int]:
    """(mailbox, concurrency units) of a Graph request; a batch counts its sub-requests."""
    if target.startswith("/$batch") and isinstance(body, dict):
        urls = [str(r.get("url", "")) for r in body.get("requests") or () if isinstance(r, dict)]
        boxes = [m.group(1) for m in map(_USER.match, urls) if m]
        if not boxes:
            return "", 1
        return urllib.parse.unquote(boxes[0]).casefold(), min(limit, boxes.count(boxes[0]))
    match = _USER.match(target)
    return (urllib.parse.unquote(match.group(1)).casefold(), 1) if match else ("", 1)


def run_batch(fake: FakeGraph, body: Any) -> Reply:
    """POST /$batch: check the envelope, then dispatch each sub-request in order."""
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not 1 <= len(requests) <= 20:
        return error(400, "BadRequest", "a batch holds 1 to 20 requests")
    ids = [str(sub.get("id", "")).casefold() for sub in requests]
    if "" in ids or len(set(ids)) != len(ids):
        return error(400, "BadRequest", "batch request ids must be present and unique")
    for sub in requests:
        if not sub.get("method") or not sub.get("url"):
            return error(400, "BadRequest", "each request needs a method and a url")
        for dep in sub.get("dependsOn") or ():
            if str(dep).casefold() not in ids:
                return error(400, "BadRequest", f"dependsOn names unknown id {dep}")
    fake.batches.append(copy.deepcopy(requests))
    out = []
    failed = False
    for sub in requests:
        sub_headers = {str(k).lower(): str(v) for k, v in (sub.get("headers") or {}).items()}
        if "body" in sub and "content-type" not in sub_headers:
            reply = error(400, "BadRequest", "Content-Type header is required with a body")
        elif fake._fail_subs > 0:
            fake._fail_subs -= 1
            failed = True
            reply = error(fake._fail_status, "ApplicationThrottled", "sub-request failed")
            reply.headers["Retry-After"] = fake._fail_after
        else:
            sub_headers["authorization"] = "Bearer " + next(iter(fake.tokens))
            result = fake.dispatch(sub["method"], sub["url"], sub_headers, sub.get("body"))
            reply = result if isinstance(result, Reply) else error(500, "Dropped")
        item: JSON = {"id": sub["id"], "status": reply.status, "headers": reply.headers}
        if reply.body is not None:
            item["body"] = reply.body
        out.append(item)
    return Reply(fake._fail_outer if failed else 200, {"responses": out})


def start_server(fake: FakeGraph) -> tuple[int, Callable[[], None]]:
    class Handler(_Handler):
        server_fake = fake

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    ).start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return int(server.server_address[1]), stop


class _Handler(BaseHTTPRequestHandler):
    server_fake: FakeGraph
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _serve(self) -> None:
        fake = self.server_fake
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?")[0]
        with fake.lock:
            fake.requests.append((self.command, path))
        token = _TOKEN.match(path)
        if token and self.command == "POST":
            form = dict(urllib.parse.parse_qsl(raw.decode()))
            self._reply(fake.token(token.group(1), form))
            return
        if path == "/common/discovery/instance" and self.command == "GET":
            self._reply(fake.instance_discovery())
            return
        discovery = _DISCOVERY.match(path)
        if discovery and self.command == "GET":
            self._reply(fake.discovery(discovery.group(1)))
            return
        if not self.path.startswith("/v1.0/"):
            self._reply(error(404, "UnknownResource"))
            return
        target = self.path[len("/v1.0") :]
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._reply(error(400, "BadRequest", "invalid JSON"))
            return
        with fake.tracking(target, body) as admitted:
            result = fake.graph(self.command, target, headers, body) if admitted else None
        if result is None:
            reply = error(
                429, "ApplicationThrottled", "Application is over its MailboxConcurrency limit."
            )
            reply.headers["Retry-After"] = "1"
            self._reply(reply)
            return
        if result is DROP:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        assert isinstance(result, Reply)
        self._reply(result)

    def _reply(self, reply: Reply) -> None:
        data = b"" if reply.body is None else json.dumps(reply.body).encode()
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_DELETE = _serve
