"""uvicorn's h11 protocol with the limits a public listener needs and uvicorn lacks.

uvicorn closes a keep-alive connection after `timeout_keep_alive`, but a fresh connection that
sends nothing, or trickles its headers a byte at a time, is never timed out, and there is no
cap on open connections: a few hundred half-sent requests would take every file descriptor.
This subclass adds, per connection:

- an idle deadline while no request has started (fresh or kept-alive connection);
- a header deadline from the first byte of a request until its headers are complete;
- a response deadline from then until the answer has been handed to the socket;
- a cap on open connections: past it, the connection that has waited longest without a
  request in progress is closed to make room, so a flood of half-open clients cannot lock
  out a real one (the newest connection is refused only when every slot is busy serving).

Framing itself (conflicting or malformed Content-Length, unknown Transfer-Encoding, header
size) is h11's, which answers 400 and closes; the app adds the rules h11 leaves open.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from dataclasses import dataclass
from typing import Any

import structlog
from uvicorn.protocols.http.h11_impl import H11Protocol

log = structlog.get_logger(__name__)
# Checked before each per-connection debug line: structlog would run its processors first.
_debug = logging.getLogger(__name__).isEnabledFor


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    idle_timeout: float  # seconds a connection may sit without starting a request
    header_timeout: float  # seconds from a request's first byte to the end of its headers
    max_connections: int  # open connections, all clients together
    response_timeout: float  # seconds from the end of a request's headers to its answer sent


class LimitedH11Protocol(H11Protocol):
    """One connection. `limits` is set on a subclass made per server (see `protocol_for`)."""

    limits: ConnectionLimits

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "idle": no request started; "headers": a request's head is arriving; "busy": the
        # app is answering; "draining": the answer waits in our buffer for the client. Only
        # idle and headers connections may be closed to make room.
        self._phase = "idle"
        self._waiting_since = time.monotonic()
        self._deadline: asyncio.TimerHandle | None = None

    # --- deadlines -------------------------------------------------------------------------
    def _arm(self, seconds: float, reason: str) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire, reason)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self, reason: str) -> None:
        self._deadline = None
        if _debug(logging.DEBUG):
            log.debug("http.connection_closed", reason=reason)
        if reason == "response_timeout":
            # close() would wait for the client to take what is buffered: drop it instead.
            self.transport.abort()
        elif not self.transport.is_closing():
            self.transport.close()

    def _idle(self) -> None:
        self._phase, self._waiting_since = "idle", time.monotonic()
        self._arm(self.limits.idle_timeout, "idle_timeout")

    # --- uvicorn hooks ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # h11 writes head and body separately; with Nagle on, the body waits for the client's
        # delayed ACK (~40 ms a response). asyncio sets TCP_NODELAY only on sockets whose
        # proto is IPPROTO_TCP, and a socket from socket.create_server has proto 0.
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._arm(self.limits.idle_timeout, "idle_timeout")
        if len(self.connections) > self.limits.max_connections:
            self._make_room()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._phase == "idle":
            # The first bytes of a request: its headers must now arrive in time.
            self._phase = "headers"
            self._arm(self.limits.header_timeout, "header_timeout")
        super().data_received(data)

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not before and self.cycle is not None and self._phase != "busy":
            # A request's headers are complete; the app has this long to answer and the client
            # to take the answer (a client that stops reading would hold the slot forever).
            self._phase = "busy"
            self._arm(self.limits.response_timeout, "response_timeout")

    def on_response_complete(self) -> None:
        if self.flow.write_paused:
            # The answer is still in our buffer, past the high-water mark: the response
            # deadline keeps running until the client has taken it (resume_writing).
            self._phase = "draining"
        else:
            self._idle()
        # uvicorn arms its own keep-alive timer here too (same length), then handles any
        # pipelined request already buffered, which moves us to "busy" again.
        super().on_response_complete()

    def resume_writing(self) -> None:
        super().resume_writing()
        if self._phase == "draining":
            self._idle()

    # --- the connection cap ----------------------------------------------------------------
    def _make_room(self) -> None:
        """Close the connection that has waited longest without a request in progress; if
        every other connection is serving a request, close this one instead."""
        victim: LimitedH11Protocol | None = None
        for conn in self.connections:
            if (
                isinstance(conn, LimitedH11Protocol)
                and conn is not self
                and conn._phase in ("idle", "headers")
                and not conn.transport.is_closing()
                and (victim is None or conn._waiting_since < victim._waiting_since)
            ):
                victim = conn
        target = victim or self
        if _debug(logging.DEBUG):
            log.debug("http.connection_evicted", open=len(self.connections), newest=victim is None)
        target._disarm()
        target.transport.close()
        # Count it as gone now: connection_lost only runs on the next loop turn.
        self.connections.discard(target)


def protocol_for(limits: ConnectionLimits) -> type[LimitedH11Protocol]:
    return type("SyncsvcH11Protocol", (LimitedH11Protocol,), {"limits": limits})
