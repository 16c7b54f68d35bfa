"""Shared by the Graph tests: settings and targets pointed at the fake Graph server."""

from __future__ import annotations

from typing import Any

import httpx
from pydantic import SecretStr

from syncsvc.settings import Settings
from syncsvc.state.memory import MemoryState
from syncsvc.targets.graph.config import GraphCalendar, GraphSettings, Reminder
from syncsvc.targets.graph.event import UID_PROPERTY
from syncsvc.targets.graph.target import GraphTarget, open_target
from syncsvc.targets.retry import RetryPolicy
from tests.builders import Sleeps
from tests.fake_graph import FakeGraph

MAILBOX = "kari.nordmann@skole.example"
# The authority MSAL is pointed at in tests; MSAL refuses http, so ToFake carries it over.
AUTHORITY = "https://login.microsoftonline.com"


def graph_settings(fake: FakeGraph, **graph: Any) -> GraphSettings:
    """The `[graph]` section for an app registered with the fake (`graph` overrides fields)."""
    values: dict[str, Any] = {
        "tenant_id": fake.tenant,
        "client_id": fake.client_id,
        "client_secret": SecretStr(fake.secret),
        "base_url": fake.graph_url,
        "authority_url": fake.url,
        **graph,
    }
    return GraphSettings(**values)


def settings_for(fake: FakeGraph, **graph: Any) -> Settings:
    return Settings(graph=graph_settings(fake, **graph))


def open_graph(
    fake: FakeGraph,
    *,
    mailbox: str = MAILBOX,
    calendar: str | None = None,
    sleeps: Sleeps | None = None,
    policy: RetryPolicy | None = None,
    reminder: Reminder = "off",
    **graph: Any,
) -> GraphTarget:
    config = GraphCalendar(
        target="graph", name="staff", mailbox=mailbox, calendar=calendar, reminder=reminder
    )
    target = open_target(
        config,
        settings_for(fake, **graph),
        MemoryState(),
        sleep=Sleeps() if sleeps is None else sleeps,
        policy=policy,
    )
    assert isinstance(target, GraphTarget)
    fake.on_exit.append(target.close)
    return target


def owned(fake: FakeGraph, uid: str, calendar: str | None = None) -> list[dict[str, Any]]:
    return [
        e
        for e in fake.events(MAILBOX, calendar)
        if any(
            p["id"] == UID_PROPERTY and p["value"] == uid
            for p in e.get("singleValueExtendedProperties", [])
        )
    ]


class ToFake(httpx.BaseTransport):
    """Carries MSAL's https requests to the fake's loopback http server, unchanged otherwise."""

    def __init__(self, fake_url: str) -> None:
        self._to = httpx.URL(fake_url)
        self._inner = httpx.HTTPTransport()
        self.urls: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.urls.append(str(request.url))
        request.url = request.url.copy_with(
            scheme=self._to.scheme, host=self._to.host, port=self._to.port
        )
        return self._inner.handle_request(request)

    def close(self) -> None:
        self._inner.close()


class MsalHttp:
    """The requests-like client MSAL takes (`http_client=`), over httpx and ToFake.

    requests form-encodes bytes values as text; httpx would write their repr, so they are
    decoded here (MSAL passes the signed client assertion as bytes)."""

    def __init__(self, fake_url: str) -> None:
        self.transport = ToFake(fake_url)
        self._http = httpx.Client(transport=self.transport)

    def post(self, url: str, data: Any = None, **kwargs: Any) -> httpx.Response:
        if isinstance(data, dict):
            data = {k: v.decode() if isinstance(v, bytes) else v for k, v in data.items()}
        return self._http.post(url, data=data, **kwargs)

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self._http.get(url, **kwargs)

    def close(self) -> None:
        self._http.close()
