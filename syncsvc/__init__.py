"""syncsvc: keeps staff and public calendars in step with an organisation's annual plan."""

__version__ = "0.1.0"
