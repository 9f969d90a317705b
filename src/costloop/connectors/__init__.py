"""Source connectors: find input files, read their headers, plan the mapping to FOCUS."""
