"""`syncsvc config check`: the effective settings, with every secret shown as set or not set.

`config_view` is the data (valid JSON for `--json`); `format_config` the readable form. Secret
fields (SecretStr) never carry their value here: "(set)" or "(not set)" is all one learns.
Other values still go through the log redactor, for a password written into a server URL.
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Mapping

from pydantic import BaseModel, SecretStr

from syncsvc.logs import REDACTOR
from syncsvc.settings import Settings

SET = "(set)"
NOT_SET = "(not set)"


def _is_secret_field(annotation: object) -> bool:
    if annotation is SecretStr:
        return True
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_secret_field(a) for a in typing.get_args(annotation))
    return False


def _view(value: object, *, secret: bool = False) -> object:
    if secret or isinstance(value, SecretStr):
        shown = value.get_secret_value() if isinstance(value, SecretStr) else value
        return SET if shown else NOT_SET
    if isinstance(value, BaseModel):
        out: dict[str, object] = {}
        for name, info in type(value).model_fields.items():
            if name == "config_path":
                continue
            # A password hash is no password, but it is not for display either.
            secret = _is_secret_field(info.annotation) or name.endswith("password_hash")
            out[name] = _view(getattr(value, name), secret=secret)
        return out
    if isinstance(value, dict):
        return {str(k): _view(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_view(v) for v in value]
    if isinstance(value, str):
        return REDACTOR.text(value)
    if value is None or isinstance(value, bool | int | float):
        return value
    return REDACTOR.text(str(value))


def config_view(settings: Settings) -> dict[str, object]:
    """The settings as plain JSON-able data: where they came from, then every section."""
    data = _view(settings)
    assert isinstance(data, dict)
    return {
        "config_path": str(settings.config_path) if settings.config_path else None,
        "data_dir": str(settings.data_dir),
        "settings": data,
    }


def format_config(view: Mapping[str, object]) -> str:
    """Readable form: one `section.key = value` line per setting, grouped by section."""
    lines = [
        f"configuration: {view['config_path'] or '(defaults and environment only)'}",
        f"data directory: {view['data_dir']}",
    ]

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict) and value:
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for n, inner in enumerate(value):
                walk(f"{prefix}[{n}]", inner)
        elif not prefix:
            lines.append("  (none)")
        else:
            shown = value if value in (SET, NOT_SET) else json.dumps(value, ensure_ascii=False)
            lines.append(f"  {prefix} = {shown}")

    sections = view["settings"]
    assert isinstance(sections, dict)  # config_view's: one entry per settings section
    for section, body in sections.items():
        lines.append("")
        lines.append(f"[{section}]")
        walk("", body)
    lines += ["", "configuration ok"]
    return "\n".join(lines) + "\n"
