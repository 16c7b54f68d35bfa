"""The HTTP side of the daemon: public feed and "Hva skjer" agenda, health, metrics, admin."""

from syncsvc.web.server import WebContext, make_server, serve_in_thread

__all__ = ["WebContext", "make_server", "serve_in_thread"]
