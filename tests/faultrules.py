"""Scripted faults for the fault proxy: "the 13th PUT and everything after it is dropped",
"every closing sync-collection answers 500", "the first REPORT comes back cut short".

`FaultPlan` (tests/faultproxy.py) draws faults at random from a seed; a `Script` places them
exactly, by method, by what the body asks for and by how many matching requests came before,
so a test knows which write the failure lands on and can check the report against it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class Rule:
    """Inject `fault` into matching requests: skip the first `after`, then hit `times` of
    them (None: every one from then on)."""

    fault: str
    methods: tuple[str, ...] | None = None  # ("PUT", "DELETE"), ...; None matches any
    body_has: bytes | None = None  # e.g. b"sync-collection" (the REPORT kind)
    after: int = 0
    times: int | None = 1
    then_all: bool = False  # once it fired, every later request gets it too (an outage)
    seen: int = field(default=0, init=False)
    hits: int = field(default=0, init=False)

    def matches(self, method: str, body: bytes) -> bool:
        if self.then_all and self.hits:
            return True
        if self.methods is not None and method not in self.methods:
            return False
        return self.body_has is None or self.body_has in body


@dataclass
class Script:
    """A fault plan the proxy asks per request; the first rule that fires wins."""

    rules: list[Rule] = field(default_factory=list)
    enabled: bool = True
    retry_after: str = "0"
    slow_seconds: float = 0.0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def choose(self, method: str = "", path: str = "", body: bytes = b"") -> str | None:
        with self._lock:
            if not self.enabled:
                return None
            for rule in self.rules:
                if not rule.matches(method, body):
                    continue
                rule.seen += 1
                if rule.then_all and rule.hits:
                    rule.hits += 1
                    return rule.fault
                if rule.seen <= rule.after:
                    continue
                if rule.times is not None and rule.hits >= rule.times:
                    continue
                rule.hits += 1
                return rule.fault
            return None
