"""Logging: one structlog pipeline for ours and foreign loggers; secrets never printed."""

from __future__ import annotations

import io
import json
import logging

import pytest
import structlog

from syncsvc.logs import Redactor, configure_logging, get_logger

SECRET = "Hemmelig-passord-42"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.payload.signature"


@pytest.fixture
def json_log() -> io.StringIO:
    stream = io.StringIO()
    configure_logging(fmt="json", level="debug", secrets=[SECRET, TOKEN], stream=stream)
    return stream


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_lines_carry_run_id_and_calendar(json_log: io.StringIO) -> None:
    with structlog.contextvars.bound_contextvars(run_id="r-1", calendar="org"):
        get_logger("syncsvc.test").info("synced", created=3)
    (line,) = lines(json_log)
    assert line["event"] == "synced"
    assert line["run_id"] == "r-1"
    assert line["calendar"] == "org"
    assert line["created"] == 3
    assert line["level"] == "info"


def test_foreign_loggers_use_the_same_pipeline(json_log: io.StringIO) -> None:
    with structlog.contextvars.bound_contextvars(run_id="r-2"):
        logging.getLogger("apscheduler.scheduler").warning("job %s missed", "sync")
    (line,) = lines(json_log)
    assert line["event"] == "job sync missed"
    assert line["logger"] == "apscheduler.scheduler"
    assert line["run_id"] == "r-2"


def test_secrets_never_printed_in_fields_messages_urls_or_tracebacks(
    json_log: io.StringIO,
) -> None:
    log = get_logger("syncsvc.test")
    log.info("connecting", url=f"https://trine:{SECRET}@cal.example.org/dav/")
    log.info("headers", headers={"Authorization": f"Bearer {TOKEN}"})
    log.info(f"odd message with {SECRET} inside")
    logging.getLogger("httpx").debug("sent Authorization: Basic dHJpbmU6c2VjcmV0cGFzcw==")

    def fail(password: str) -> None:
        raise RuntimeError(f"login failed for password={password}")

    try:
        fail(SECRET)
    except RuntimeError:
        log.exception("boom")
    output = json_log.getvalue()
    assert SECRET not in output
    assert TOKEN not in output
    assert "dHJpbmU6c2VjcmV0cGFzcw==" not in output
    assert "trine:***@cal.example.org" in output
    # Tracebacks are rendered without local variables.
    boom = next(line for line in lines(json_log) if line["event"] == "boom")
    assert "locals" not in json.dumps(boom["exception"])


def test_console_format_masks_tracebacks_too() -> None:
    stream = io.StringIO()
    configure_logging(fmt="console", level="info", secrets=[SECRET], stream=stream)
    try:
        raise ValueError(f"bad {SECRET}")
    except ValueError:
        get_logger("syncsvc.test").exception("failed")
    output = stream.getvalue()
    assert "failed" in output
    assert "ValueError" in output
    assert SECRET not in output


def test_auto_format_is_json_when_not_a_terminal() -> None:
    stream = io.StringIO()
    configure_logging(fmt="auto", level="info", stream=stream)
    get_logger("x").info("hello")
    assert json.loads(stream.getvalue())["event"] == "hello"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://u:p4ss@h/x", "https://u:***@h/x"),
        ("password=abc123 next", "password=*** next"),
        ('{"client_secret": "zzz999"}', '{"client_secret": "***"}'),
        ("Bearer abcdefgh123", "Bearer ***"),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_redactor_patterns(text: str, expected: str) -> None:
    assert Redactor().text(text) == expected


def test_redactor_masks_secret_keys_in_nested_data() -> None:
    data = Redactor(["s3cr3t"]).value({"a": {"password": "x", "list": ["s3cr3t-ish"]}})
    assert data == {"a": {"password": "***", "list": ["***-ish"]}}
