"""One module per state DB schema revision."""
