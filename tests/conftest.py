"""Shared pytest setup: the real-server fixtures (tests/servers.py, servers_cyrus.py,
servers_davical.py) are available to every test module without importing them."""

pytest_plugins = ["tests.servers", "tests.servers_cyrus", "tests.servers_davical"]
