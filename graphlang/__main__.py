"""`python -m graphlang` is the `graphlang` command."""

from graphlang.cli.app import main

main()
