"""`graphlang repl`: build a graph one statement at a time.

`session.ReplSession` holds the state and answers each input with renderables (testable without a
terminal); `terminal.main` runs it on prompt_toolkit in a terminal, or on plain lines from a pipe.

Layer: a front end (below `cli`, which starts it); imports anything below; prompt_toolkit only
inside `terminal.run_prompt` (start-up time).
"""

from graphlang.repl.session import COMMANDS, ReplSession, is_complete, join_continuations
from graphlang.repl.terminal import history_path, main, run_lines, run_prompt

__all__ = ["COMMANDS", "ReplSession", "history_path", "is_complete", "join_continuations", "main", "run_lines",
           "run_prompt"]
