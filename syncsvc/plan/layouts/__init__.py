"""Layout readers: documents shaped as lists, grids or tables without known headers."""
