"""Make `v1.0-extract.json`: the Microsoft Graph types syncsvc uses, from Microsoft's own CSDL.

The source is `schemas/v1.0-Prod.csdl` of the public repository microsoftgraph/msgraph-metadata
(the metadata Graph v1.0 publishes at `$metadata`). The CSDL is ~3 MB, so we keep only the
closure of the types we send or read: `event` and `calendar`, every complex and enum type their
structural properties reach, the extended-property entities we post inline and expand, and the
actions bound to `event`/`calendar`. Inherited properties are kept on their declaring type
(`base` links the chain), exactly as the CSDL has them. Descriptions are not copied.

Run it again when the metadata moves:

    python tests/graph_schema/extract.py --git-dir <snapshot>.git [--rev HEAD]
    python tests/graph_schema/extract.py --csdl v1.0-Prod.csdl --commit <sha>

It writes tests/graph_schema/v1.0-extract.json next to itself (or `--out`). Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

REPOSITORY = "microsoftgraph/msgraph-metadata"
CSDL_PATH = "schemas/v1.0-Prod.csdl"
NAMESPACE = "microsoft.graph"
ALIAS = "graph"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
# The entity types whose bodies syncsvc sends or reads.
ROOTS = ("event", "calendar")
# Navigation properties that appear inline in bodies: posted with a create (deep insert), PATCHed,
# and returned by `$expand`. Their target types are extracted; other navigation properties are
# recorded by name only, so a body that carries one is reported.
INLINE_NAVIGATION = frozenset({"singleValueExtendedProperties", "multiValueExtendedProperties"})
OUT = Path(__file__).with_name("v1.0-extract.json")


def _local(type_name: str) -> tuple[bool, str]:
    """`Collection(graph.location)` -> (True, "location"); `Edm.String` -> (False, "Edm.String")."""
    collection = type_name.startswith("Collection(") and type_name.endswith(")")
    inner = type_name[len("Collection(") : -1] if collection else type_name
    for prefix in (f"{ALIAS}.", f"{NAMESPACE}."):
        if inner.startswith(prefix):
            return collection, inner[len(prefix) :]
    return collection, inner


class Schema:
    def __init__(self, root: ET.Element) -> None:
        schemas = [s for s in root.iter(f"{EDM}Schema") if s.get("Namespace") == NAMESPACE]
        if not schemas:
            raise SystemExit(f"no {NAMESPACE} schema in the CSDL")
        self.schema = schemas[0]
        self.by_name: dict[str, ET.Element] = {}
        for kind in ("EntityType", "ComplexType", "EnumType"):
            for element in self.schema.findall(f"{EDM}{kind}"):
                self.by_name[str(element.get("Name"))] = element

    def element(self, name: str) -> ET.Element:
        try:
            return self.by_name[name]
        except KeyError:
            raise SystemExit(f"type {name!r} is not in the CSDL") from None

    def bound_actions(self, type_name: str) -> list[str]:
        names = set()
        for action in self.schema.findall(f"{EDM}Action"):
            params = action.findall(f"{EDM}Parameter")
            if params and _local(str(params[0].get("Type")))[1] == type_name:
                names.add(str(action.get("Name")))
        return sorted(names)


def _property(element: ET.Element, navigation: bool) -> dict[str, Any]:
    collection, name = _local(str(element.get("Type")))
    out: dict[str, Any] = {"type": name, "collection": collection}
    # CSDL: Nullable defaults to true; on a collection it is about the elements.
    out["nullable"] = element.get("Nullable", "true") == "true"
    if navigation:
        out["navigation"] = True
    return out


def extract(schema: Schema) -> dict[str, Any]:
    types: dict[str, Any] = {}
    enums: dict[str, Any] = {}
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name in types or name in enums or name.startswith("Edm."):
            continue
        element = schema.element(name)
        kind = element.tag.removeprefix(EDM)
        if kind == "EnumType":
            enums[name] = {
                "flags": element.get("IsFlags") == "true",
                "members": [str(m.get("Name")) for m in element.findall(f"{EDM}Member")],
            }
            continue
        entry: dict[str, Any] = {"kind": "entity" if kind == "EntityType" else "complex"}
        if element.get("BaseType"):
            entry["base"] = _local(str(element.get("BaseType")))[1]
            todo.append(entry["base"])
        if element.get("Abstract") == "true":
            entry["abstract"] = True
        if element.get("OpenType") == "true":
            entry["open"] = True
        props: dict[str, Any] = {}
        for prop in element.findall(f"{EDM}Property"):
            props[str(prop.get("Name"))] = _property(prop, navigation=False)
            todo.append(props[str(prop.get("Name"))]["type"])
        for nav in element.findall(f"{EDM}NavigationProperty"):
            prop_name = str(nav.get("Name"))
            props[prop_name] = _property(nav, navigation=True)
            if prop_name in INLINE_NAVIGATION:
                todo.append(props[prop_name]["type"])
            else:
                props[prop_name]["inline"] = False
        entry["properties"] = dict(sorted(props.items()))
        if name in ROOTS:
            entry["bound_actions"] = schema.bound_actions(name)
        types[name] = entry
    return {"types": dict(sorted(types.items())), "enums": dict(sorted(enums.items()))}


def _git(git_dir: str, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", git_dir, *args], check=True, capture_output=True, text=True
    ).stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--git-dir", help="a git directory of msgraph-metadata")
    source.add_argument("--csdl", type=Path, help="a v1.0-Prod.csdl file")
    parser.add_argument("--rev", default="HEAD", help="with --git-dir: the commit to read")
    parser.add_argument("--commit", help="with --csdl: the commit the file comes from")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)

    if args.git_dir:
        commit = _git(args.git_dir, "rev-parse", f"{args.rev}^{{commit}}").strip()
        text = _git(args.git_dir, "show", f"{commit}:{CSDL_PATH}")
        blob = _git(args.git_dir, "rev-parse", f"{commit}:{CSDL_PATH}").strip()
        changed = _git(args.git_dir, "log", "-1", "--format=%H %cI", commit, "--", CSDL_PATH)
    else:
        if not args.commit:
            parser.error("--csdl needs --commit (the extract records where it came from)")
        commit, text, blob, changed = args.commit, args.csdl.read_text("utf-8"), None, ""
    schema = Schema(ET.fromstring(text.encode("utf-8")))
    last_change = changed.split()
    out = {
        "source": {
            "repository": REPOSITORY,
            "path": CSDL_PATH,
            "commit": commit,
            "blob": blob,
            "file_last_changed_in": last_change[0] if last_change else None,
            "file_last_changed_at": last_change[1] if len(last_change) > 1 else None,
        },
        "generated_by": "tests/graph_schema/extract.py",
        "roots": list(ROOTS),
        **extract(schema),
    }
    args.out.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"{args.out}: {len(out['types'])} types, {len(out['enums'])} enums from {commit[:12]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
