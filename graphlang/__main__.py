"""`python -m graphlang` is the `graphlang` command."""

from graphlang.cli import main

main()
