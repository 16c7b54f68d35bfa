"""Shared pytest setup. Fixtures live in focused modules (tests/servers.py, ...) and are
imported by the tests that use them."""
