"""Calendar targets: thin adapters that list, create, update and delete owned events."""
