"""Graph replies cut short on the way (with a Content-Length that matches what arrived), or
replaced by something that is not JSON: retried like any other transient fault, within the
same budget, and never a crash. The fault proxy sits between the target and the fake Graph
(token requests go to the fake directly)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from syncsvc.domain.errors import TargetError
from syncsvc.targets.graph.client import GRAPH_POLICY
from syncsvc.targets.graph.target import GraphTarget
from tests.builders import Sleeps
from tests.fake_graph import FakeGraph
from tests.faultproxy import FaultProxy
from tests.faultrules import Rule, Script
from tests.graph_harness import MAILBOX, open_graph, owned
from tests.target_contract import event

ATTEMPTS = 3


@pytest.fixture
def fake() -> Iterator[FakeGraph]:
    with FakeGraph() as server:
        server.add_mailbox(MAILBOX)
        yield server


@pytest.fixture
def proxy(fake: FakeGraph) -> Iterator[FaultProxy]:
    port = urlsplit(fake.url).port
    assert port is not None
    with FaultProxy(("127.0.0.1", port), Script()) as running:
        yield running


def through(fake: FakeGraph, proxy: FaultProxy, sleeps: Sleeps) -> GraphTarget:
    return open_graph(
        fake,
        sleeps=sleeps,
        policy=dataclasses.replace(GRAPH_POLICY, attempts=ATTEMPTS),
        base_url=proxy.url + "/v1.0",
    )


def script(proxy: FaultProxy) -> Script:
    assert isinstance(proxy.plan, Script)
    return proxy.plan


@pytest.mark.parametrize("fault", ["short", "junk"])
def test_an_unreadable_listing_is_retried_and_then_read(
    fake: FakeGraph, proxy: FaultProxy, fault: str
) -> None:
    sleeps = Sleeps()
    writer = open_graph(fake)
    writer.observe()
    writer.create(event("one@test"))
    script(proxy).rules = [Rule(fault, methods=("GET",), times=1)]
    found = through(fake, proxy, sleeps).observe()
    assert set(found) == {"one@test"}
    assert script(proxy).rules[0].hits == 1
    assert len(sleeps) == 1  # one backoff, as for a 503


def test_unreadable_every_time_fails_after_the_usual_tries(
    fake: FakeGraph, proxy: FaultProxy
) -> None:
    sleeps = Sleeps()
    script(proxy).rules = [Rule("short", methods=("GET",), times=None)]
    before = proxy.requests
    with pytest.raises(TargetError, match="unreadable reply to GET") as failed:
        through(fake, proxy, sleeps).observe()
    assert f"after {ATTEMPTS} tries" in str(failed.value)
    assert proxy.requests - before == ATTEMPTS
    assert len(sleeps) == ATTEMPTS - 1


def test_a_create_whose_reply_is_cut_short_is_sent_again_without_a_duplicate(
    fake: FakeGraph, proxy: FaultProxy
) -> None:
    sleeps = Sleeps()
    target = through(fake, proxy, sleeps)
    target.observe()
    script(proxy).rules = [Rule("short", methods=("POST",), times=1)]
    created = target.create(event("cut@test"))
    (stored,) = owned(fake, "cut@test")  # the transactionId made the second POST harmless
    assert stored["id"] == created.remote_id
    assert len(sleeps) == 1
