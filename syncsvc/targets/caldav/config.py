"""CalDAV settings: a server (`[servers.<name>]`) and a calendar on it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from syncsvc.targets.config import CalendarBase, Strict


class CalDAVServer(Strict):
    url: str
    auth: Literal["basic", "digest", "bearer", "none"] = "basic"
    username: str | None = None
    password: SecretStr | None = None
    password_file: str | None = None
    token: SecretStr | None = None
    token_file: str | None = None
    verify_tls: bool = True
    ca_bundle: str | None = None
    timeout_seconds: float = 30.0
    # Calendars synced at once on this server. 4: a multi-process server (DAViCal) wrote 1.4x
    # faster than one bare PUT loop with 4, 1.2x with 2; one-process servers (Radicale,
    # Xandikos) were the same with 2 or 4 (docs/PERFORMANCE.md, bench_ceiling).
    max_parallel: int = Field(default=4, ge=1)
    # Conditional writes in flight at once per calendar; 1 = one after the other. Measured on
    # Radicale and Xandikos sharing two cores with the client, 4 at once was slower, not
    # faster (docs/PERFORMANCE.md): raise it for a server on its own machine, after measuring.
    max_in_flight: int = Field(default=1, ge=1, le=16)
    # Make a calendar's collection (MKCALENDAR) on the first write when its URL does not exist,
    # e.g. for person calendars; off by default: we do not create things on a server unasked.
    create_calendars: bool = False


class CalDAVCalendar(CalendarBase):
    target: Literal["caldav"]
    server: str  # a key of [servers]
    url: str  # calendar collection URL, absolute or relative to the server URL
