"""Microsoft Graph settings: the app registration (`[graph]`) and a mailbox calendar."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, SecretStr

from syncsvc.targets.config import CalendarBase, Strict


def _reminder(value: object) -> object:
    # One clear message instead of pydantic's per-branch union errors.
    minutes = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 20160
    if value == "off" or minutes:
        return value
    raise ValueError('reminder must be "off" or minutes before the start, 0 to 20160')


# A Graph event's reminder: "off" or minutes before the start (Outlook offers up to two weeks).
Reminder = Annotated[Literal["off"] | int, BeforeValidator(_reminder)]


class GraphSettings(Strict):
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    client_secret_file: str | None = None
    certificate_path: str | None = None  # PEM (key + certificate) or PFX, instead of a secret
    certificate_password: SecretStr | None = None  # the PFX's (or encrypted key's) password
    certificate_password_file: str | None = None
    certificate_thumbprint: str | None = None  # SHA-1, legacy; unset: MSAL signs with SHA-256
    # What a delete does: Outlook's own (to Deleted Items, recoverable by the person) or a purge.
    deletes: Literal["deleted-items", "permanent"] = "deleted-items"
    base_url: str = "https://graph.microsoft.com/v1.0"
    authority_url: str = "https://login.microsoftonline.com"
    timeout_seconds: float = 30.0
    max_in_flight: int = Field(default=4, ge=1, le=4)


class GraphCalendar(CalendarBase):
    target: Literal["graph"]
    mailbox: str  # user principal name
    calendar: str | None = None  # a named calendar in the mailbox; default calendar when unset
    reminder: Reminder = "off"  # Outlook would otherwise remind 15 minutes before every event
