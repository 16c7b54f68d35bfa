"""Reading the annual plan: sources, formats, the Norwegian date grammar, people."""
