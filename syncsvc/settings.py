"""Settings: a TOML file, `SYNCSVC_…` environment variables (`__` nests) and secret files.

Precedence, highest first: environment, secrets directory, TOML file, defaults. Every table
forbids unknown keys, so a typo is an error that names the key and the file instead of a
setting silently ignored. Relative paths in the file are relative to the file's directory.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    NestedSecretsSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from syncsvc.domain import tomltext
from syncsvc.domain.errors import ConfigError, Where
from syncsvc.plan.formats import FORMATS, is_format
from syncsvc.targets.caldav.config import CalDAVCalendar, CalDAVServer
from syncsvc.targets.folder.config import FolderCalendar
from syncsvc.targets.graph.config import GraphCalendar, GraphSettings, Reminder
from syncsvc.targets.icsfile.config import IcsFileCalendar

__all__ = [
    "CalDAVCalendar",
    "CalDAVServer",
    "CalendarConfig",
    "FolderCalendar",
    "GraphCalendar",
    "GraphSettings",
    "IcsFileCalendar",
    "Settings",
]
from syncsvc.domain.redact import url_secrets

DEFAULT_CONFIG = Path("config/syncsvc.toml")
CONFIG_ENV = "SYNCSVC_CONFIG"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PersonConfig(_Strict):
    name: str
    email: str
    aliases: tuple[str, ...] = ()


class PlanSettings(_Strict):
    source: str = "arsplan-2024.txt"  # a path (relative to the config file) or an http(s) URL
    format: str = "auto"  # a reader name (syncsvc.plan.formats): auto, pdf, table-xlsx, ...
    year: int | None = None  # overrides the year found in the document
    overrides: str | None = None  # overrides file (TOML), relative to the config file
    people: tuple[PersonConfig, ...] = ()
    aliases: dict[str, str] = Field(default_factory=dict)  # alias -> e-mail
    max_bytes: int = 10_000_000
    timeout_seconds: float = 30.0
    timezone: str = "Europe/Oslo"

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if not is_format(value):
            raise ValueError(f"unknown plan format {value!r}; one of: {', '.join(FORMATS)}")
        return value


class SyncSettings(_Strict):
    data_dir: str = "../var"  # state, local calendars, feed; relative to the config file
    delete_threshold: float = Field(default=0.3, ge=0.0, le=1.0)
    delete_past: bool = False  # delete owned events that already happened when the plan drops them
    interval_minutes: float = Field(default=15.0, gt=0)
    cron: str | None = None  # a crontab expression; replaces interval_minutes when set
    max_parallel_calendars: int = Field(default=4, ge=1)
    domain: str = "syncsvc.local"  # right-hand side of generated UIDs
    # The owner key (hex); normally unset: syncsvc keeps it in <data_dir>/owner.key. Set it
    # (SYNCSVC_SYNC__OWNER_KEY or the secret file sync__owner_key) when data_dir is not kept.
    owner_key: SecretStr | None = None


# Each target owns its config model; the registry lists them (a new target adds one line there).
CalendarConfig = Annotated[
    FolderCalendar | IcsFileCalendar | CalDAVCalendar | GraphCalendar,
    Field(discriminator="target"),
]


class PersonCalendars(_Strict):
    """One calendar per person in the plan's directory, without listing each.

    Templates may use {email}, {slug} (e-mail local part) and {first_name}.
    """

    enabled: bool = False
    target: Literal["folder", "ics-file", "caldav", "graph"] = "folder"
    name: str = "person-{slug}"
    path: str = "calendars/people/{slug}"
    server: str | None = None
    url: str | None = None
    mailbox: str = "{email}"
    calendar: str | None = None
    reminder: Reminder = "off"  # graph only
    exclude: tuple[str, ...] = ()  # e-mails without a calendar
    display_name: str = "Årsplan — {name}"  # {name}: the person's name as the plan writes it
    color: str = Field(default="#6B4E9B", pattern=r"^#[0-9A-Fa-f]{6}$")


class FeedSettings(_Strict):
    calendar: str | None = "hva-skjer"  # the public calendar whose events make the feed
    path: str = "public/hva-skjer.ics"  # relative to data_dir
    url_path: str = "/hva-skjer.ics"
    title: str = "Hva skjer"
    # How often subscribers are asked to re-fetch (REFRESH-INTERVAL, X-PUBLISHED-TTL).
    refresh_minutes: int = Field(default=60, ge=5, le=7 * 24 * 60)


class HttpSettings(_Strict):
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    admin_token: SecretStr | None = None  # admin endpoints are off without one
    admin_token_file: str | None = None
    # The admin web page's password, as `syncsvc admin hash-password` prints it (scrypt$...).
    admin_password_hash: str | None = Field(default=None, pattern=r"^scrypt\$\d+\$\d+\$\d+\$")
    # Absolute subscribe links (webcal://, https://) use this; without it the agenda's links
    # are relative. The request's Host header is never used.
    public_base_url: str | None = None
    # Who may show /embed in a frame (CSP frame-ancestors): "*" or origins, space-separated.
    embed_frame_ancestors: str = Field(default="*", pattern=r"^[A-Za-z0-9*:/.' _-]+$")
    # /metrics names calendars (person calendars too): it needs the admin token unless this
    # is set (e.g. when the listener is only reachable from the monitoring network).
    public_metrics: bool = False
    # Reverse proxies (addresses or networks) whose X-Forwarded-For / X-Forwarded-Proto are
    # believed: then the admin attempt limit counts the real client, and cookies know TLS.
    # Empty: the TCP peer is the client and the scheme is http.
    trusted_proxies: tuple[str, ...] = ()
    # Limits on what a client can hold or send (see docs/OPERATIONS.md, "HTTP limits").
    idle_timeout_seconds: float = Field(default=15.0, gt=0, le=3600)
    header_timeout_seconds: float = Field(default=10.0, gt=0, le=600)
    response_timeout_seconds: float = Field(default=60.0, gt=0, le=3600)
    max_connections: int = Field(default=512, ge=8, le=100_000)
    max_header_bytes: int = Field(default=16_384, ge=1024, le=1_048_576)
    max_body_bytes: int = Field(default=1024, ge=0, le=1_048_576)  # POST only; GET: none
    backlog: int = Field(default=128, ge=16, le=4096)
    admin_failures_per_minute: float = Field(default=6.0, gt=0)
    admin_failure_burst: int = Field(default=10, ge=1)


class LoggingSettings(_Strict):
    format: Literal["auto", "json", "console"] = "auto"
    level: Literal["debug", "info", "warning", "error"] = "info"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SYNCSVC_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
        secrets_nested_delimiter="__",
        secrets_prefix="",  # secret files are named like http__admin_token
    )

    plan: PlanSettings = PlanSettings()
    sync: SyncSettings = SyncSettings()
    servers: dict[str, CalDAVServer] = Field(default_factory=dict)
    graph: GraphSettings = GraphSettings()
    calendars: tuple[CalendarConfig, ...] = ()
    person_calendars: PersonCalendars = PersonCalendars()
    feed: FeedSettings = FeedSettings()
    http: HttpSettings = HttpSettings()
    logging: LoggingSettings = LoggingSettings()

    # Where the file was read from; relative paths resolve against its directory.
    config_path: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _check_references(self) -> Settings:
        names = [c.name for c in self.calendars]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"calendar names must be unique: {', '.join(dupes)}")
        for cal in self.calendars:
            if isinstance(cal, CalDAVCalendar) and cal.server not in self.servers:
                raise ValueError(f"calendar {cal.name!r} uses unknown server {cal.server!r}")
            if cal.name == self.feed.calendar and cal.audience != "public":
                # The feed is public; a staff calendar holds people, e-mails and notes.
                raise ValueError(
                    f"feed.calendar {cal.name!r} has audience {cal.audience!r}; the public feed "
                    'may only come from a calendar with audience = "public"'
                )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML data arrives through init_settings (see load_settings), lowest priority.
        # Secret files are named like env vars without the prefix: servers__caldav__password.
        return env_settings, NestedSecretsSettingsSource(file_secret_settings), init_settings

    # --- resolved paths -------------------------------------------------------------------
    @property
    def base_dir(self) -> Path:
        return self.config_path.parent if self.config_path else Path.cwd()

    def resolve(self, path: str | Path) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else (self.base_dir / p).resolve()

    @property
    def data_dir(self) -> Path:
        return self.resolve(self.sync.data_dir)

    def data_path(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.data_dir / p

    def plan_location(self) -> str:
        src = self.plan.source
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", src):
            return src
        return str(self.resolve(src))


def config_file(explicit: str | Path | None) -> Path:
    """The config file to read: --config, then $SYNCSVC_CONFIG, then config/syncsvc.toml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else DEFAULT_CONFIG


def load_settings(
    path: str | Path | None = None, *, secrets_dir: str | Path | None = None
) -> Settings:
    """Read and validate settings; every problem becomes one ConfigError naming key and file."""
    file = config_file(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("configuration file not found", where=Where(str(file))) from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(f"cannot read configuration: {err}", where=Where(str(file))) from None
    try:
        data = tomltext.loads(text)
    except tomltext.TomlSyntaxError as err:
        raise ConfigError(err.message, where=Where(str(file), err.line)) from None
    secrets = secrets_dir or os.environ.get("SYNCSVC_SECRETS_DIR")
    if secrets and not Path(secrets).is_dir():
        raise ConfigError("secrets directory does not exist", where=Where(str(secrets)))
    try:
        settings = Settings(
            _secrets_dir=str(secrets) if secrets else None,  # type: ignore[call-arg]
            **data,
            config_path=file.resolve(),
        )
    except ValidationError as err:
        raise _config_error(err, file, text) from None
    return _read_secret_files(settings)


def _config_error(err: ValidationError, file: Path, text: str) -> ConfigError:
    first = err.errors()[0]
    loc = [
        str(p) for p in first["loc"] if not str(p).startswith(("function-after", "tagged-union"))
    ]
    key = ".".join(loc)
    problem = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = f"unknown key {key!r}"
    elif key:
        message = f"{key}: {problem}"
    else:
        message = problem
    more = len(err.errors()) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    line = tomltext.key_line(text, loc[-1]) if loc else None
    return ConfigError(message, where=Where(str(file), line))


def _read_secret_files(settings: Settings) -> Settings:
    """Fill SecretStr fields from their `*_file` siblings (Docker/systemd credentials)."""

    def secret_from(path: str | None, current: SecretStr | None, what: str) -> SecretStr | None:
        if current is not None or not path:
            return current
        file = settings.resolve(path)
        try:
            return SecretStr(file.read_text(encoding="utf-8").strip())
        except OSError as err:
            raise ConfigError(
                f"cannot read {what}: {err.strerror}", where=Where(str(file))
            ) from None

    servers = {
        name: server.model_copy(
            update={
                "password": secret_from(server.password_file, server.password, "password"),
                "token": secret_from(server.token_file, server.token, "token"),
            }
        )
        for name, server in settings.servers.items()
    }
    graph = settings.graph.model_copy(
        update={
            "client_secret": secret_from(
                settings.graph.client_secret_file, settings.graph.client_secret, "client secret"
            ),
            "certificate_password": secret_from(
                settings.graph.certificate_password_file,
                settings.graph.certificate_password,
                "certificate password",
            ),
        }
    )
    http = settings.http.model_copy(
        update={
            "admin_token": secret_from(
                settings.http.admin_token_file, settings.http.admin_token, "admin token"
            )
        }
    )
    token = http.admin_token.get_secret_value() if http.admin_token else ""
    if token and len(token) < MIN_ADMIN_TOKEN:
        file = http.admin_token_file if settings.http.admin_token is None else None
        where = settings.resolve(file) if file else settings.config_path
        raise ConfigError(
            f"http.admin_token is {len(token)} characters; it must be at least {MIN_ADMIN_TOKEN}"
            " (random, e.g. `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`)",
            where=Where(str(where)) if where else None,
        )
    return settings.model_copy(update={"servers": servers, "graph": graph, "http": http})


MIN_ADMIN_TOKEN = 32  # characters: too long to guess at any rate the limiter allows


def secret_values(settings: Settings) -> list[str]:
    """Every secret in the settings, for the log redactor."""
    found: list[str] = []
    for server in settings.servers.values():
        found += [s.get_secret_value() for s in (server.password, server.token) if s]
    for graph_secret in (settings.graph.client_secret, settings.graph.certificate_password):
        if graph_secret:
            found.append(graph_secret.get_secret_value())
    if settings.http.admin_token:
        found.append(settings.http.admin_token.get_secret_value())
    if settings.sync.owner_key:
        found.append(settings.sync.owner_key.get_secret_value())
    found += url_secrets(settings.plan.source)
    return [s for s in found if s]
