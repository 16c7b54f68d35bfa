"""Check a JSON body against the Graph types in `v1.0-extract.json` (Microsoft's CSDL, extracted).

What is checked, per the CSDL (OData v4 JSON format):
- every property name exists on the type or one of its base types (names are case-sensitive);
- the value's JSON type fits the property's Edm type, enum or complex type, nested to any depth;
- `null` only where the property is nullable (CSDL's default); on a collection, for its items;
- enum values are members, compared case-insensitively (Graph accepts `Busy` and `busy`); a
  flags enum takes a comma-separated list of members;
- navigation properties appear only where we extracted their target (extended properties);
- instance annotations (`@odata.etag`, `@odata.nextLink`, `name@odata.type`, ...) are strings.

`event` is declared `OpenType` (it may hold dynamic properties), but Graph refuses unknown names
on it with 400, and an unknown name in our bodies is always a typo: we treat it as closed.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

EXTRACT = Path(__file__).with_name("v1.0-extract.json")
_INT32 = range(-(2**31), 2**31)


class SchemaViolation(AssertionError):
    """A body that Microsoft's metadata says Graph would not send or accept."""


@cache
def extract() -> Mapping[str, Any]:
    data: Mapping[str, Any] = json.loads(EXTRACT.read_text("utf-8"))
    return data


def properties(type_name: str) -> dict[str, Any]:
    """Every property of a type, inherited ones included."""
    types = extract()["types"]
    out: dict[str, Any] = {}
    chain: str | None = type_name
    while chain is not None:
        entry = types[chain]
        for name, prop in entry["properties"].items():
            out.setdefault(name, prop)
        chain = entry.get("base")
    return out


def _subtypes(type_name: str) -> set[str]:
    types = extract()["types"]
    found = {type_name}
    grew = True
    while grew:
        more = {n for n, t in types.items() if t.get("base") in found} - found
        found |= more
        grew = bool(more)
    return found


def problems(body: Any, type_name: str, path: str = "$") -> list[str]:
    """What is wrong with `body` as a `type_name` (a type or enum in the extract); [] if nothing."""
    out: list[str] = []
    _value(body, type_name, False, True, path, out)
    return out


def collection_problems(body: Any, type_name: str) -> list[str]:
    """A collection reply, `{"value": [...], "@odata.nextLink": ...}`, of `type_name`."""
    if not isinstance(body, dict):
        return [f"$: a collection reply is a JSON object, not {type(body).__name__}"]
    out: list[str] = []
    for key, value in body.items():
        if key == "value":
            _value(value, type_name, True, False, "$.value", out)
        elif "@" in key:
            _annotation(key, value, "$", out)
        else:
            out.append(f"$.{key}: not part of a collection reply")
    if "value" not in body:
        out.append("$: a collection reply has a `value` array")
    return out


def check(body: Any, type_name: str, what: str = "body") -> None:
    found = problems(body, type_name)
    if found:
        raise SchemaViolation(
            f"{what} is not a valid microsoft.graph.{type_name}: " + "; ".join(found)
        )


def check_collection(body: Any, type_name: str, what: str = "reply") -> None:
    found = collection_problems(body, type_name)
    if found:
        raise SchemaViolation(f"{what} is not a collection of {type_name}: " + "; ".join(found))


def _value(
    value: Any, type_name: str, collection: bool, nullable: bool, path: str, out: list[str]
) -> None:
    if collection:
        if not isinstance(value, list):
            out.append(f"{path}: expected an array of {type_name}, got {_kind(value)}")
            return
        for n, item in enumerate(value):
            _value(item, type_name, False, nullable, f"{path}[{n}]", out)
        return
    if value is None:
        if not nullable:
            out.append(f"{path}: null is not allowed ({type_name} is not nullable)")
        return
    if type_name.startswith("Edm."):
        problem = _primitive(value, type_name)
        if problem:
            out.append(f"{path}: {problem}")
        return
    data = extract()
    if type_name in data["enums"]:
        _enum(value, type_name, data["enums"][type_name], path, out)
        return
    if type_name not in data["types"]:
        out.append(f"{path}: type {type_name} is not in the extract (re-run extract.py)")
        return
    _structured(value, type_name, path, out)


def _structured(value: Any, type_name: str, path: str, out: list[str]) -> None:
    if not isinstance(value, dict):
        out.append(f"{path}: expected a {type_name} object, got {_kind(value)}")
        return
    actual = type_name
    declared = value.get("@odata.type")
    if isinstance(declared, str):
        named = declared.removeprefix("#").removeprefix("microsoft.graph.")
        if named not in _subtypes(type_name):
            out.append(f"{path}.@odata.type: {declared} is not {type_name} or a subtype of it")
            return
        actual = named
    props = properties(actual)
    for key, item in value.items():
        where = f"{path}.{key}"
        if "@" in key:
            _annotation(key, item, path, out)
            owner = key.split("@", 1)[0]
            if owner and owner not in props:
                out.append(f"{where}: annotates {owner!r}, which {actual} does not have")
            continue
        prop = props.get(key)
        if prop is None:
            hint = _near(key, props)
            out.append(f"{where}: {actual} has no property {key!r}{hint}")
            continue
        if prop.get("navigation") and prop.get("inline") is False:
            out.append(f"{where}: navigation property {key!r} is not sent or expanded by us")
            continue
        _value(item, prop["type"], prop["collection"], prop["nullable"], where, out)


def _annotation(key: str, value: Any, path: str, out: list[str]) -> None:
    # Instance annotations: OData JSON format, section 18. All we use are strings.
    if not isinstance(value, str):
        out.append(f"{path}.{key}: an annotation is a string here, got {_kind(value)}")


def _enum(value: Any, type_name: str, enum: Mapping[str, Any], path: str, out: list[str]) -> None:
    if not isinstance(value, str):
        out.append(f"{path}: {type_name} is an enum: a string, got {_kind(value)}")
        return
    members = {m.casefold() for m in enum["members"]}
    parts = [p.strip() for p in value.split(",")] if enum["flags"] else [value]
    bad = [p for p in parts if p.casefold() not in members]
    if bad:
        out.append(
            f"{path}: {', '.join(map(repr, bad))} is not a {type_name} "
            f"(one of {', '.join(enum['members'])})"
        )


def _primitive(value: Any, edm: str) -> str | None:
    if edm == "Edm.String":
        return None if isinstance(value, str) else f"expected a string, got {_kind(value)}"
    if edm == "Edm.Boolean":
        return None if isinstance(value, bool) else f"expected true/false, got {_kind(value)}"
    if edm in ("Edm.Int32", "Edm.Int64", "Edm.Int16", "Edm.Byte"):
        if isinstance(value, bool) or not isinstance(value, int):
            return f"expected an integer, got {_kind(value)}"
        return None if edm != "Edm.Int32" or value in _INT32 else f"{value} is out of Int32 range"
    if edm == "Edm.Double":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok or value in ("NaN", "INF", "-INF") else f"expected a number: {value!r}"
    if not isinstance(value, str):
        return f"{edm} is written as a string, got {_kind(value)}"
    pattern = _STRING_FORMS.get(edm)
    if pattern is None:
        return f"{edm} is not handled by this checker"
    if not re.fullmatch(pattern, value):
        return f"{value!r} is not a valid {edm}"
    try:
        if edm == "Edm.DateTimeOffset":
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        elif edm == "Edm.Date":
            date.fromisoformat(value)
        elif edm == "Edm.Guid":
            uuid.UUID(value)
    except ValueError:
        return f"{value!r} is not a valid {edm}"
    return None


# The lexical forms of OData's string-valued primitives (OData ABNF), checked before parsing.
_STRING_FORMS = {
    "Edm.DateTimeOffset": r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,12})?)?(Z|[+-]\d\d:\d\d)",
    "Edm.Date": r"\d{4}-\d\d-\d\d",
    "Edm.Guid": r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}",
    "Edm.Binary": r"[A-Za-z0-9+/_=-]*",
    "Edm.TimeOfDay": r"\d\d:\d\d(:\d\d(\.\d{1,12})?)?",
    "Edm.Duration": r"-?P(\d+D)?(T(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?",
}


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _near(key: str, props: Mapping[str, Any]) -> str:
    folded = [p for p in props if p.casefold() == key.casefold()]
    return f" (did you mean {folded[0]!r}?)" if folded else ""
