"""WebDAV/CalDAV request bodies and multistatus parsing (RFC 4918, 4791, 6578). Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

from lxml import etree  # type: ignore[import-untyped]

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
_NS = f'xmlns:D="{DAV}" xmlns:C="{CALDAV}"'
_HEAD = '<?xml version="1.0" encoding="utf-8"?>\n'


def sync_collection(token: str | None) -> bytes:
    """RFC 6578 sync-collection asking for etags only; an empty token is the initial sync."""
    return (
        f"{_HEAD}<D:sync-collection {_NS}><D:sync-token>{escape(token or '')}</D:sync-token>"
        "<D:sync-level>1</D:sync-level><D:prop><D:getetag/></D:prop></D:sync-collection>"
    ).encode()


def mkcalendar(displayname: str, color: str | None = None) -> bytes:
    """RFC 4791 MKCALENDAR body: a calendar for events, with a display name and (Apple's
    calendar-color, which Thunderbird, DAVx5 and Nextcloud read too) a colour."""
    shade = (
        f'<I:calendar-color xmlns:I="http://apple.com/ns/ical/">{escape(color)}</I:calendar-color>'
        if color
        else ""
    )
    return (
        f"{_HEAD}<C:mkcalendar {_NS}><D:set><D:prop>"
        f"<D:displayname>{escape(displayname)}</D:displayname>{shade}"
        '<C:supported-calendar-component-set><C:comp name="VEVENT"/>'
        "</C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>"
    ).encode()


def propfind_collection() -> bytes:
    """The collection's identity and current sync token (RFC 5842 resource-id, RFC 6578).
    Not DAV:creationdate: Cyrus's moves when the calendar's content changes."""
    return (
        f"{_HEAD}<D:propfind {_NS}><D:prop><D:resource-id/><D:sync-token/></D:prop></D:propfind>"
    ).encode()


def propfind_etags() -> bytes:
    return f"{_HEAD}<D:propfind {_NS}><D:prop><D:getetag/></D:prop></D:propfind>".encode()


def multiget(hrefs: list[str]) -> bytes:
    """calendar-multiget for etag and calendar-data of `hrefs` (one request, many objects)."""
    refs = "".join(f"<D:href>{escape(h)}</D:href>" for h in hrefs)
    return (
        f"{_HEAD}<C:calendar-multiget {_NS}><D:prop><D:getetag/><C:calendar-data/></D:prop>"
        f"{refs}</C:calendar-multiget>"
    ).encode()


def query_uid(uid: str) -> bytes:
    """calendar-query for the VEVENT with this UID (etag and data)."""
    return (
        f"{_HEAD}<C:calendar-query {_NS}><D:prop><D:getetag/><C:calendar-data/></D:prop>"
        '<C:filter><C:comp-filter name="VCALENDAR"><C:comp-filter name="VEVENT">'
        '<C:prop-filter name="UID"><C:text-match collation="i;octet">'
        f"{escape(uid)}</C:text-match></C:prop-filter>"
        "</C:comp-filter></C:comp-filter></C:filter></C:calendar-query>"
    ).encode()


@dataclass(frozen=True, slots=True)
class Entry:
    """One <D:response>: an href with its status, etag and (multiget) calendar data."""

    href: str  # the path as the server spelled it
    status: int
    etag: str | None = None
    data: bytes | None = None

    @property
    def gone(self) -> bool:
        return self.status == 404


@dataclass(frozen=True, slots=True)
class Multistatus:
    entries: list[Entry] = field(default_factory=list)
    sync_token: str | None = None
    truncated: bool = False  # RFC 6578 3.6: a 507 entry for the collection itself


@dataclass(frozen=True, slots=True)
class CollectionProps:
    identity: str | None  # "resource-id <href>", when the server says
    sync_token: str | None


def collection_props(content: bytes, collection: str) -> CollectionProps:
    """The answer to `propfind_collection` (ValueError when it is not a multistatus)."""
    root = _root(content)
    own = href_key(collection).rstrip("/")
    for response in root.iterfind(f"{{{DAV}}}response"):
        href = response.findtext(f"{{{DAV}}}href") or ""
        if href_key(href.strip()).rstrip("/") != own:
            continue
        found: dict[str, str] = {}
        for propstat in response.iterfind(f"{{{DAV}}}propstat"):
            if _status(propstat.findtext(f"{{{DAV}}}status")) != 200:
                continue
            for prop in propstat.iterfind(f"{{{DAV}}}prop/*"):
                name = etree.QName(prop).localname
                # resource-id holds an <href>; the others are text.
                text = prop.findtext(f"{{{DAV}}}href") if name == "resource-id" else prop.text
                if text and text.strip():
                    found[name] = text.strip()
        rid = found.get("resource-id")
        identity = f"resource-id {rid}" if rid else None
        return CollectionProps(identity=identity, sync_token=found.get("sync-token"))
    return CollectionProps(identity=None, sync_token=None)


def precondition(content: bytes) -> tuple[str, str | None] | None:
    """The precondition a `DAV:error` body names, as ("CALDAV:name" | "DAV:name" | "{ns}name",
    its href or description if any); None when the body is not a DAV:error."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(content, parser=parser)
    except (etree.XMLSyntaxError, ValueError):
        return None
    if root.tag != f"{{{DAV}}}error":
        return None
    prefixes = {DAV: "DAV:", CALDAV: "CALDAV:"}
    description = root.findtext(f"{{{DAV}}}responsedescription")
    for child in root:
        if not isinstance(child.tag, str) or child.tag == f"{{{DAV}}}responsedescription":
            continue
        name = etree.QName(child)
        element = prefixes.get(name.namespace or "", f"{{{name.namespace}}}") + name.localname
        detail = child.findtext(f"{{{DAV}}}href") or description
        return element, detail.strip() if detail else None
    return None


def href_key(href: str) -> str:
    """Compare hrefs by decoded path: servers differ in host part and percent-encoding."""
    return unquote(urlsplit(href).path)


def parse(content: bytes, collection: str | None = None) -> Multistatus:
    """Parse a 207 body; raises ValueError when it is not a multistatus document."""
    root = _root(content)
    own = href_key(collection) if collection else None
    entries: list[Entry] = []
    truncated = False
    for response in root.iterfind(f"{{{DAV}}}response"):
        href = response.findtext(f"{{{DAV}}}href")
        if not href:
            continue
        path = urlsplit(href.strip()).path
        top = _status(response.findtext(f"{{{DAV}}}status"))
        if own is not None and href_key(path).rstrip("/") == own.rstrip("/"):
            truncated = truncated or top == 507
            continue  # the collection itself (PROPFIND depth 1, truncation marker)
        etag = None
        data = None
        status = top or 0
        for propstat in response.iterfind(f"{{{DAV}}}propstat"):
            ps_status = _status(propstat.findtext(f"{{{DAV}}}status"))
            if ps_status != 200:
                continue
            status = status or 200
            prop = propstat.find(f"{{{DAV}}}prop")
            if prop is None:
                continue
            found_etag = prop.findtext(f"{{{DAV}}}getetag")
            if found_etag:
                etag = found_etag.strip()
            found_data = prop.findtext(f"{{{CALDAV}}}calendar-data")
            if found_data:
                data = found_data.encode("utf-8")
        entries.append(Entry(href=path, status=status or 200, etag=etag, data=data))
    token = root.findtext(f"{{{DAV}}}sync-token")
    return Multistatus(
        entries=entries, sync_token=token.strip() if token else None, truncated=truncated
    )


def _root(content: bytes) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(content, parser=parser)
    except etree.XMLSyntaxError as err:
        raise ValueError(f"invalid XML from server: {err}") from None
    if root.tag != f"{{{DAV}}}multistatus":
        raise ValueError(f"expected a multistatus document, got {root.tag}")
    return root


def _status(line: str | None) -> int | None:
    """'HTTP/1.1 404 Not Found' -> 404."""
    if not line:
        return None
    parts = line.split()
    if len(parts) >= 2 and parts[1].isdigit():
        return int(parts[1])
    return None
