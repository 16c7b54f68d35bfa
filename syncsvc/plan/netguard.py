"""The network under a plan download: one deadline for the whole fetch, a stop switch for
shutdown, and which addresses a download may connect to.

httpx's timeouts apply to each socket operation, so a server that sends a header byte every
few seconds never trips them. `GuardedBackend` (an httpcore network backend) does every
connect, TLS handshake, read and write in short slices against one absolute deadline and the
process-wide stop switch, and checks each resolved address before connecting: loopback,
private (RFC 1918, ULA), link-local and other non-public addresses are refused unless the
configured plan URL itself resolved to that kind of address. Checking at connect time covers
redirects and DNS answers that change between lookups alike.
"""

from __future__ import annotations

import errno
import ipaddress
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterable
from functools import partial
from typing import Any

import httpcore

_SLICE = 0.25  # seconds: how often a blocked fetch looks at the deadline and the stop switch
_STOPPING = threading.Event()


def stop_fetches() -> None:
    """Make every running and future plan download fail at once (daemon shutdown)."""
    _STOPPING.set()


def allow_fetches() -> None:
    """Undo `stop_fetches` (a new daemon in the same process, tests)."""
    _STOPPING.clear()


class FetchStopped(Exception):
    """The download was interrupted by `stop_fetches`."""


class AddressRefused(Exception):
    """The download would connect to an address of a kind the plan URL does not allow."""

    def __init__(self, host: str, kind: str) -> None:
        super().__init__(f"{host} is a {kind} address")
        self.host, self.kind = host, kind


def address_kind(address: str) -> str:
    """public, loopback, private, link-local or reserved (unspecified, multicast, ...)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback or ip.is_unspecified:  # 0.0.0.0 and :: reach this host
        return "loopback"
    if ip.is_link_local:
        return "link-local"
    if ip.is_private:
        return "private"
    if ip.is_global and not (ip.is_multicast or ip.is_reserved):
        return "public"
    return "reserved"


class GuardedBackend(httpcore.NetworkBackend):
    """One per download. The first host connected to is the configured plan URL's: the kinds
    of address it resolves to are allowed from then on, besides public ones."""

    def __init__(
        self, deadline: float, total: float, origin_kinds: frozenset[str] | None = None
    ) -> None:
        self.deadline = deadline  # time.monotonic() value
        self.total = total  # the configured seconds, for messages
        # The kinds of address the configured URL resolved to; learnt on the first connect
        # unless given (as when a caller has resolved it already).
        self.allowed = {"public", *(origin_kinds or ())}
        self._origin_seen = origin_kinds is not None

    def remaining(self) -> float:
        if _STOPPING.is_set():
            raise FetchStopped("the daemon is stopping")
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout(f"no complete answer within {self.total:g} s")
        return left

    def _resolve(self, host: str, port: int) -> list[tuple[Any, ...]]:
        # getaddrinfo cannot be interrupted: wait for it in slices, leave it behind if late.
        result: list[Any] = []
        failure: list[BaseException] = []

        def lookup() -> None:
            try:
                result.extend(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM))
            except OSError as err:
                failure.append(err)

        worker = threading.Thread(target=lookup, name="plan-dns", daemon=True)
        worker.start()
        while worker.is_alive():
            worker.join(min(_SLICE, self.remaining()))
        if failure:
            raise httpcore.ConnectError(f"cannot resolve {host}: {failure[0]}")
        return result

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        infos = self._resolve(host, port)
        kinds = {address_kind(str(info[4][0])) for info in infos}
        if not self._origin_seen:
            self._origin_seen = True
            self.allowed |= kinds
        usable = [info for info in infos if address_kind(str(info[4][0])) in self.allowed]
        if not usable:
            raise AddressRefused(host, sorted(kinds - self.allowed)[0])
        last: Exception | None = None
        for family, kind, proto, _name, address in usable:
            sock = socket.socket(family, kind, proto)
            try:
                self._connect(sock, address, timeout)
            except (OSError, httpcore.ConnectTimeout) as err:
                sock.close()
                last = err
                continue
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return _GuardedStream(sock, self)
        raise httpcore.ConnectError(f"cannot connect to {host}:{port}: {last}")

    def _connect(self, sock: socket.socket, address: Any, timeout: float | None) -> None:
        began = time.monotonic()
        sock.setblocking(False)
        code = sock.connect_ex(address)
        if code == 0:
            return
        while True:
            wait = min(_SLICE, self.remaining())
            _, writable, _ = select.select([], [sock], [], wait)
            if writable:
                error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if error:
                    raise OSError(error, f"connect failed: {errno.errorcode.get(error, error)}")
                return
            if timeout is not None and time.monotonic() - began >= timeout:
                raise httpcore.ConnectTimeout(f"connect timed out after {timeout:g} s")


class _GuardedStream(httpcore.NetworkStream):
    def __init__(self, sock: socket.socket, backend: GuardedBackend) -> None:
        self._sock = sock
        self._backend = backend

    def _io(self, timeout: float | None, op: Any, error: type[Exception]) -> Any:
        began = time.monotonic()
        while True:
            self._sock.settimeout(min(_SLICE, self._backend.remaining()))
            try:
                return op()
            except (TimeoutError, ssl.SSLWantReadError, ssl.SSLWantWriteError):
                if timeout is not None and time.monotonic() - began >= timeout:
                    raise error(f"no progress for {timeout:g} s") from None
            except ssl.SSLError as err:  # certificate or protocol: not worth a retry
                raise httpcore.ConnectError(str(err)) from err
            except OSError as err:
                raise httpcore.ReadError(str(err)) from err

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data: bytes = self._io(timeout, lambda: self._sock.recv(max_bytes), httpcore.ReadTimeout)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        view = memoryview(buffer)
        while view:
            sent: int = self._io(timeout, partial(self._sock.send, view), httpcore.WriteTimeout)
            view = view[sent:]

    def close(self) -> None:
        self._sock.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        tls = ssl_context.wrap_socket(
            self._sock, server_hostname=server_hostname, do_handshake_on_connect=False
        )
        try:
            self._sock = tls
            self._io(timeout, tls.do_handshake, httpcore.ConnectTimeout)
        except Exception:
            tls.close()
            raise
        return self

    def get_extra_info(self, info: str) -> Any:
        if info == "ssl_object" and isinstance(self._sock, ssl.SSLSocket):
            return self._sock._sslobj  # type: ignore[attr-defined]
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "socket":
            return self._sock
        if info == "is_readable":
            readable, _, _ = select.select([self._sock], [], [], 0)
            return bool(readable)
        return None
