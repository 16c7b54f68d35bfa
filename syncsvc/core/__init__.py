"""Pure core: routing, rendering, diffing, guarding."""
