"""The layering of docs/architecture.md, checked: no import cycle, imports inside functions only where
start-up time, a display hook or the façade's views need them, small modules, and the import-linter contract itself."""

from __future__ import annotations

import ast
import pathlib
import shutil
import subprocess

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "graphlang"
DISPLAY_HOOKS = {"_repr_html_", "_repr_mimebundle_", "__rich__", "_render_traceback_", "_repr_latex_"}
# The façade's views (Program.explain …): the presenters, imported when called (pyproject lists it);
# the template parser's LALR parser, which imports Lark, only where no template is kept (start-up).
VIEWS = ("program.py", {"explain", "diff", "to_dot", "draw", "to_latex"}, "graphlang.present.views")
LAZY_CALLS = {(VIEWS[0], fn, VIEWS[2]) for fn in VIEWS[1]} | {
    ("language/templates.py", "_lalr", "graphlang.language.replay")}
# Front ends import heavy or optional packages lazily (start-up time); plots import matplotlib lazily.
LAZY_ALLOWED = ("cli/", "repl/", "web/")
MAX_LINES = 350


def modules() -> list[pathlib.Path]:
    return sorted(p for p in PACKAGE.rglob("*.py"))


def _imports_in_functions(tree: ast.AST) -> list[tuple[str, int, str]]:
    found = []
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("graphlang"):
                    found.append((fn.name, node.lineno, node.module))
                elif isinstance(node, ast.ImportFrom) and node.level:
                    found.append((fn.name, node.lineno, "." * node.level + (node.module or "")))
                elif isinstance(node, ast.Import) and any(a.name.startswith("graphlang") for a in node.names):
                    found.append((fn.name, node.lineno, node.names[0].name))
    return found


def test_no_module_is_over_the_size_limit() -> None:
    big = {str(p.relative_to(PACKAGE)): n for p in modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not big, f"split these modules (over {MAX_LINES} lines): {big}"


def test_graphlang_imports_inside_functions_only_in_front_ends_and_display_hooks() -> None:
    bad = []
    for p in modules():
        rel = str(p.relative_to(PACKAGE))
        if rel.startswith(LAZY_ALLOWED):
            continue
        for fn, line, mod in _imports_in_functions(ast.parse(p.read_text())):
            if fn not in DISPLAY_HOOKS and (rel, fn, mod) not in LAZY_CALLS:
                bad.append(f"{rel}:{line} {fn}() imports {mod}")
    assert not bad, "\n".join(bad)


def test_no_relative_imports() -> None:
    """Absolute imports name the layer they reach into, so a reader (and import-linter) sees it."""
    bad = [f"{p.relative_to(PACKAGE)}:{n.lineno}" for p in modules()
           for n in ast.walk(ast.parse(p.read_text())) if isinstance(n, ast.ImportFrom) and n.level]
    assert not bad


def test_no_import_cycle_between_modules() -> None:
    grimp = pytest.importorskip("grimp")
    graph = grimp.build_graph("graphlang")
    hooks = {("graphlang.program", "graphlang.present.notebook"), ("graphlang.result", "graphlang.present.notebook"),
             ("graphlang.program", "graphlang.present.views"),
             ("graphlang.grading.report", "graphlang.present.notebook"),
             ("graphlang.grading.report", "graphlang.present.tables")}
    for a, b in hooks:
        graph.remove_import(importer=a, imported=b)
    cycles = []
    for a in sorted(graph.modules):
        for b in sorted(graph.find_modules_directly_imported_by(a)):
            chain = graph.find_shortest_chain(importer=b, imported=a)
            if chain:
                cycles.append(" -> ".join((a, *chain)))
    assert not cycles, "\n".join(cycles)


def test_layers_contract_holds() -> None:
    exe = shutil.which("lint-imports")
    if exe is None:
        pytest.skip("import-linter is not installed")
    ran = subprocess.run([exe], cwd=PACKAGE.parent, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stdout[-3000:]
    assert " kept, 0 broken" in ran.stdout


def test_every_subpackage_states_its_dependency_rule() -> None:
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text())) or ""
        assert "Layer:" in doc, f"{init.relative_to(PACKAGE)}: say which layers it may import"


def test_no_module_reaches_into_another_modules_private_names() -> None:
    """`from graphlang.ir.bind import _not_a_number`, `finite._shape(...)`: a private name is the
    module's own; another module that needs it gets a public one (a reviewer's find)."""
    bad = []
    for p in modules():
        tree = ast.parse(p.read_text())
        aliases = set()  # names bound to graphlang modules here: `from graphlang.engines import finite`
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("graphlang"):
                for a in node.names:
                    if a.name.startswith("_") and not a.name.startswith("__"):
                        bad.append(f"{p.relative_to(PACKAGE)}:{node.lineno} imports {node.module}.{a.name}")
                    aliases.add(a.asname or a.name)
            elif isinstance(node, ast.Import):
                aliases.update(a.asname or a.name for a in node.names if a.name.startswith("graphlang"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases \
                    and node.attr.startswith("_") and not node.attr.startswith("__"):
                bad.append(f"{p.relative_to(PACKAGE)}:{node.lineno} reads {node.value.id}.{node.attr}")
    assert not bad, "\n".join(bad)
