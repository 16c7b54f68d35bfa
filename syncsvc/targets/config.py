"""What every target's configuration shares. Target packages keep their own config models in
`<target>/config.py`, importing only this and pydantic, so the settings model can assemble them
without loading any target's code."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Selector = str  # "org", "public", "person:<email>", "measure:<n>", "item:<key>", with and/or/not


class CalendarBase(Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    selector: Selector = "org"
    audience: Literal["staff", "public"] = "staff"
    delete_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    # What people see as the calendar's name and colour (CalDAV on creation, vdir metadata).
    # Defaults come from engine.calendars: "Årsplan", "Årsplan — <person>", the feed title.
    display_name: str | None = Field(default=None, min_length=1, max_length=200)
    color: str | None = Field(default=None, pattern=r"^#[0-9A-Fa-f]{6}$")
