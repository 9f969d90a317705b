"""The ``costloop`` command line: thin Typer commands that call services and render."""
