"""Microsoft Graph settings: the app registration (`[graph]`) and a mailbox calendar."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr

from syncsvc.targets.config import CalendarBase, Strict


class GraphSettings(Strict):
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    client_secret_file: str | None = None
    certificate_path: str | None = None  # PEM with private key, instead of a client secret
    certificate_thumbprint: str | None = None
    base_url: str = "https://graph.microsoft.com/v1.0"
    authority_url: str = "https://login.microsoftonline.com"
    timeout_seconds: float = 30.0
    max_in_flight: int = Field(default=4, ge=1, le=4)


class GraphCalendar(CalendarBase):
    target: Literal["graph"]
    mailbox: str  # user principal name
    calendar: str | None = None  # a named calendar in the mailbox; default calendar when unset
