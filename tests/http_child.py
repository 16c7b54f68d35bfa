"""The web server alone in a child process, for the raw-socket probes and the HTTP bench.

    python -m tests.http_child DATA_DIR [--nofile N] [--idle S] [--header S] [--response S]
                               [--max-connections N]
                               [--token T] [--feed-bytes N] [--failed-run]

Writes a feed into DATA_DIR, lowers RLIMIT_NOFILE if asked (as systemd's LimitNOFILE would),
logs JSON lines through syncsvc's structlog setup to stderr, prints {"port": N} on stdout once
listening, and serves until stdin closes or SIGTERM.
"""

from __future__ import annotations

import argparse
import json
import resource
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from syncsvc.logs import configure_logging
from syncsvc.settings import FeedSettings, HttpSettings, Settings, SyncSettings
from syncsvc.web import WebContext, make_server, serve_in_thread
from tests.feedsample import OSLO, feed_bytes, write_feed

# What a failed run records in the real daemon: a person calendar's name, a path, a plan URL
# with credentials. None of it may reach /readyz or an unauthenticated /metrics.
PERSON = "person-linda-m-tindholm"
PATH = "/srv/syncsvc/planer/årsplan-2024.docx"
SECRET = "hunter2-plan-password"
ERROR = f"could not read {PATH} from https://planer:{SECRET}@intranett.example/plan.docx"


def _events(count: int) -> list[dict[str, object]]:
    """Upcoming events as a library's feed holds them, from today on."""
    today = datetime.now(OSLO).replace(hour=10, minute=0, second=0, microsecond=0)
    return [
        {
            "summary": f"Arrangement nr. {n} – biblioteket",
            "start": today + timedelta(days=n // 2),
            "end": today + timedelta(days=n // 2, hours=2),
            "description": "Åpent for alle. " * 5,
        }
        for n in range(count)
    ]


def _store(data_dir: Path, failed: bool) -> tuple[Any, Any]:
    try:
        from syncsvc.state.sqlite import SqliteState
    except ImportError:  # the layout before issue 12 (bench "before" runs)
        from syncsvc.statestore import SqliteState  # type: ignore[no-redef]
    store = SqliteState(data_dir / "state.sqlite3")
    report = None
    if failed:
        from syncsvc.domain.changes import CalendarReport, Outcome, RunReport

        now = datetime.now(UTC)
        cal = CalendarReport(name=PERSON, target="caldav", requests=3)
        cal.outcome, cal.error = Outcome.FAILED, ERROR
        report = RunReport(
            run_id="r1",
            started=now - timedelta(seconds=2),
            finished=now,
            plan_items=1,
            plan_undated=0,
            plan_problems=0,
            calendars=[cal],
        )
        store.record_run(report)
    return store, report


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--nofile", type=int)
    parser.add_argument("--idle", type=float)
    parser.add_argument("--header", type=float)
    parser.add_argument("--response", type=float)
    parser.add_argument("--max-connections", type=int)
    parser.add_argument("--token")
    parser.add_argument("--feed-bytes", type=int, default=0)
    parser.add_argument("--events", type=int, default=0)
    parser.add_argument("--failed-run", action="store_true")
    parser.add_argument("--public-metrics", action="store_true")
    args = parser.parse_args(argv)
    if args.nofile:
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (args.nofile, hard))
    configure_logging(fmt="json", level="info", secrets=[args.token] if args.token else [])
    http: dict[str, Any] = {"port": 0, "host": "127.0.0.1"}
    if args.token:
        http["admin_token"] = SecretStr(args.token)
    for key, value in (
        ("idle_timeout_seconds", args.idle),
        ("header_timeout_seconds", args.header),
        ("response_timeout_seconds", args.response),
        ("max_connections", args.max_connections),
    ):
        if value is not None:
            http[key] = value
    if args.public_metrics:
        http["public_metrics"] = True
    settings = Settings(
        sync=SyncSettings(data_dir=str(args.data_dir), interval_minutes=15),
        feed=FeedSettings(title="Hva skjer – probe"),
        http=HttpSettings(**http),
    )
    if args.feed_bytes:
        pad = b"X-PAD:" + b"x" * 70 + b"\r\n"
        body = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//probe//NO\r\n"
        body += pad * (args.feed_bytes // len(pad)) + b"END:VCALENDAR\r\n"
        write_feed(settings, body)
    elif args.events:
        write_feed(settings, feed_bytes(_events(args.events)))
    else:
        write_feed(settings)
    store, report = _store(args.data_dir, args.failed_run)
    context = WebContext(settings, store=store)
    if report is not None:
        context.metrics.observe_run(report)
    server = make_server(context, "127.0.0.1", 0)
    thread = serve_in_thread(server)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
    print(json.dumps({"port": context.port}), flush=True)
    stop.wait()
    server.shutdown()
    server.server_close()
    thread.join(10)
    store.close()


if __name__ == "__main__":
    main()
