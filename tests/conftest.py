"""Shared pytest setup: the real-server fixtures (tests/servers.py) are available to every test
module without importing them."""

pytest_plugins = ["tests.servers"]
