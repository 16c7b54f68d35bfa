"""The HTTP side of the daemon: public feed and "Hva skjer" agenda, health, metrics, admin.

`server` runs uvicorn in a thread; `app` is the Starlette application (routes, framing
rules, admin auth); `protocol` adds connection limits to uvicorn's h11 protocol; `guard`
holds the pure request rules and the admin attempt limiter; `context` what handlers read.
"""

from syncsvc.web.context import WebContext
from syncsvc.web.server import HttpServer, make_server, serve_in_thread

__all__ = ["HttpServer", "WebContext", "make_server", "serve_in_thread"]
