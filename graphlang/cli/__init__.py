"""The command line (`graphlang ...`): a thin front end over the library; commands are registered in
one table in `app.py`.

Layer: the top (with `repl`); imports anything below, heavy packages lazily for start-up time.
"""

from graphlang.cli.app import app, main

__all__ = ["app", "main"]
