"""Open the target a calendar's configuration names. Each target module provides
`open_target(calendar, settings, state) -> Target`; modules load lazily so a folder-only
installation never imports the CalDAV or Graph stacks."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from syncsvc.settings import CalendarConfig, Settings
    from syncsvc.state.base import TargetState
    from syncsvc.targets.base import Target

_MODULES = {
    "folder": "syncsvc.targets.folder.target",
    "ics-file": "syncsvc.targets.icsfile.target",
    "caldav": "syncsvc.targets.caldav.opener",
    "graph": "syncsvc.targets.graph.target",
}


class _Opener(Protocol):
    def __call__(self, calendar: object, settings: Settings, state: TargetState) -> Target: ...


def open_target(calendar: CalendarConfig, settings: Settings, state: TargetState) -> Target:
    module = importlib.import_module(_MODULES[calendar.target])
    # Each module's opener takes its own config class, which the target name guarantees.
    opener: _Opener = module.open_target
    return opener(calendar, settings, state)
