"""Hostile plan documents, generated: small on the wire, enormous once read naively.

- `html_span_bomb`: ~162 KB of HTML whose first row's cells span thousands of rows and
  hundreds of columns each, followed by thousands of empty rows: a reader that materialises
  the grid builds hundreds of millions of cells.
- `html_element_bomb`: a page of a million and a half empty elements.
- `docx_paragraph_bomb`: a valid .docx whose body is millions of empty paragraphs; the zip
  is a few hundred KB and unpacks to just under what a whole-file size check would catch.
- `SlowHeaderServer`: a plan server on 127.0.0.1 that accepts and then trickles its status
  line and headers a byte at a time, each byte well inside a per-read timeout, never ending.
"""

from __future__ import annotations

import io
import socket
import threading
import zipfile

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" '
    'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def html_span_bomb(cells: int = 2000, rows: int = 10_000) -> bytes:
    """A plan-looking page: a header row, then one row of wide, tall cells, then empty rows."""
    head = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Årsplan 2024</title></head>"
        "<body><h1>Årsplan 2024</h1><table><tr><th>Dato</th><th>Aktivitet</th></tr><tr>"
    )
    row = "<td rowspan=65534 colspan=1000>x</td>" * cells
    return (head + row + "</tr>" + "<tr></tr>" * rows + "</table></body></html>").encode()


def html_element_bomb(elements: int = 1_500_000) -> bytes:
    """Under 10 MB of HTML that is nothing but tiny elements: each one a tree node."""
    return b"<html><body>" + b"<i>" * elements + b"</body></html>"


def docx_bytes(paragraphs_xml: list[bytes] | bytes, repeat: int = 1) -> bytes:
    """A minimal, valid .docx whose body is `paragraphs_xml` repeated `repeat` times, written
    in chunks so that building even a huge one needs little memory."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            f.write(
                f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
                f'<w:document xmlns:w="{_W}"><w:body>'.encode()
            )
            chunk = b"".join(paragraphs_xml) if isinstance(paragraphs_xml, list) else paragraphs_xml
            block = chunk * 10_000
            for _ in range(repeat // 10_000):
                f.write(block)
            f.write(chunk * (repeat % 10_000))
            f.write(b"<w:sectPr/></w:body></w:document>")
    return buf.getvalue()


def docx_paragraph_bomb(paragraphs: int = 5_500_000) -> bytes:
    """About 500 KB zipped, ~180 MB of XML (under a 200 MB whole-file check): millions of
    empty paragraphs, each with an empty run as Word writes them."""
    return docx_bytes(b"<w:p><w:r><w:t></w:t></w:r></w:p>", paragraphs)


class SlowHeaderServer:
    """Answers every connection with a status line and headers sent one byte per `interval`
    seconds, forever (until `close`). `url` is its address."""

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}/plan.txt"
        self.connections = 0
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n" + b"X-Pad: " + b"a" * 100_000
        with conn:
            for byte in head:
                if self._stop.wait(self.interval):
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(5)
