"""The command line (`graphlang ...`): a thin front end over the library."""

from graphlang.cli.app import app, main

__all__ = ["app", "main"]
