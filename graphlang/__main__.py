"""`python -m graphlang` is the `graphlang` command."""

from .cli import main

main()
