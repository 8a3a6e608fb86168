"""Commands that show a program in a browser: serve (the playground), html (a self-contained lesson)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from graphlang.cli.options import (
    AtFileOpt,
    AtOpt,
    LimitOpt,
    ProgramArg,
    Session,
    StrictOpt,
    guarded,
    make_limits,
)
from graphlang.errors import GraphlangError
from graphlang.files import write_text
from graphlang.present import tables as render


def serve(host: Annotated[str, typer.Option(
              "--host", help="address to listen on; the default answers this machine only")] = "127.0.0.1",
          port: Annotated[int, typer.Option("--port", min=0, max=65535, help="TCP port")] = 8000,
          open_browser: Annotated[bool, typer.Option("--open", help="open the page in a web browser")] = False,
          workers: Annotated[int, typer.Option("--workers", min=1, max=64,
                                               help="worker processes that evaluate programs")] = 2,
          timeout: Annotated[float, typer.Option("--timeout", min=0.1, max=600,
                                                 help="seconds one evaluation may take")] = 5.0) -> None:
    """A local web playground: type a program, step through its forward and backward pass."""
    s = Session("graphlang serve", False)  # errors read "graphlang serve: usage error: ..."

    def body() -> None:
        try:
            from graphlang.web import app as web  # starlette and uvicorn: the optional web extra
        except ImportError as err:
            raise GraphlangError("usage", f"graphlang serve needs the web extra ({err.name} is not installed)",
                                 hint="in graphlang's source folder: pip install -e '.[web]' "
                                 "(the graphlang on PyPI is another project)") from None
        web.serve(host, port, workers=workers, timeout=timeout, open_browser=open_browser)
    guarded(s, body)


def html(program: ProgramArg, at: AtOpt = [], at_file: AtFileOpt = None,  # noqa: B006
         output: Annotated[str | None, typer.Option(
             "-o", "--output", help="the file to write (default: the program's name with .html, "
             "in the current folder)")] = None,
         strict: StrictOpt = False, limit: LimitOpt = []) -> None:  # noqa: B006
    """One self-contained HTML page that steps through the program at one point (no server, no network)."""
    from graphlang.web import compute, page

    s = Session(program, False)

    def body() -> None:
        prog, vals = s.load_with_values(strict, limit, at, at_file, shown=True)
        prog.evaluate(vals)  # any error is reported here, located in the file, as `run` reports it
        point: object = ",".join(at) if at and not at_file else vals
        assert s.source is not None
        lesson = compute.lesson({"program": s.source, "at": point}, precompute=True,
                                limits=make_limits(strict, limit))
        target = Path(output) if output else Path((Path(program).stem if program != "-" else "lesson") + ".html")
        point = lesson["at"] or "(no inputs)"
        text = page.standalone(lesson, f"{Path(program).name}{f' at {point}' if len(point) <= 80 else ''} · graphlang")
        write_text(str(target), text)  # (exactly there, atomically, as every output file)
        s.err.print(render.Text(f"wrote {target} ({len(text.encode()) // 1024 + 1} KB): open it in any browser; "
                                "it needs no server and no network"))  # (stderr: as graph -o, a status line)
    guarded(s, body)
