"""The `reasoner` command line: thin typer commands over pure functions."""
