"""The layout holds: no import cycle, every import points down the layers README's "Layout" names, the store
alone gives the whole schema, and tracker choices stay behind the adapter."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("plugin", "sync", "webhooks")

LAYERS = (
    ("plugin",),
    ("sync.ledger",),
    ("sync.jobs", "sync.notify"),
    ("sync.loop", "sync.projects"),
    ("sync.intake", "sync.bulk", "sync.minutes", "sync.table", "sync.report", "sync.sla", "sync.duplicates",
     "sync.hanzi", "sync.similar", "sync.merges"),
    ("sync.runtime",),
    ("webhooks",),
)
"""Lowest first: a module imports from its own layer or a lower one, never a higher one (type-only imports under
``if TYPE_CHECKING:`` never run and may name the runtime's type). Within ``sync.jobs`` and ``sync.notify`` neither
imports the other."""

def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for package in PACKAGES for path in (ROOT / package).rglob("*.py")}


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, child.end_lineno + 1))
    return lines


def _resolve(name: str) -> str | None:
    """The module of ours that ``name`` (a module, or a name inside one) refers to."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def imports_of(module: str) -> set[str]:
    """Our modules that ``module`` imports when it runs (at module level or inside a function)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    type_only = _type_checking_lines(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in type_only:
            continue
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for target in targets:
            resolved = _resolve(target)
            if resolved and resolved != module:
                found.add(resolved)
    return found


GRAPH = {module: imports_of(module) for module in MODULES}


def layer_of(module: str) -> int:
    for index, prefixes in enumerate(LAYERS):
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes):
            return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS and to README's layout")


def group_of(module: str) -> str:
    return next(prefix for prefixes in LAYERS for prefix in prefixes
                if module == prefix or module.startswith(prefix + "."))


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle():
    # A package's __init__ importing its own submodules is how a package shows its face, not a cycle of code.
    graph = {module: {other for other in targets if not module.startswith(other + ".")}
             for module, targets in GRAPH.items()}
    assert cycles(graph) == []


def test_every_import_points_down_the_layers():
    upward = [f"{module} -> {target}" for module, targets in sorted(GRAPH.items()) for target in sorted(targets)
              if layer_of(target) > layer_of(module)]
    assert upward == []


def test_jobs_and_notify_do_not_import_each_other():
    crossing = [f"{module} -> {target}" for module, targets in GRAPH.items() for target in targets
                if {group_of(module), group_of(target)} == {"sync.jobs", "sync.notify"}]
    assert crossing == []


def test_the_job_registry_imports_nothing_else_of_cocreate():
    assert GRAPH["sync.jobs.registry"] == set()


def test_the_pure_mapping_imports_only_plugin():
    assert {layer_of(target) for target in GRAPH["sync.loop.mapping"]} <= {0}


def test_the_store_alone_gives_the_whole_schema():
    """Importing ``sync.ledger.store`` defines every table the app uses and the migrations create."""
    alone = subprocess.run(
        [sys.executable, "-c", "import sync.ledger.store as s; print(' '.join(sorted(s.Base.metadata.tables)))"],
        capture_output=True, text=True, check=True, cwd=ROOT).stdout.split()
    import webhooks.app  # noqa: F401  everything the app imports
    from sync.ledger.store import Base

    assert alone == sorted(Base.metadata.tables)
    assert {"needs", "minutes", "action_items", "need_minutes", "minutes_versions", "jobs"} <= set(alone)


def test_migrations_create_exactly_the_models_tables(tmp_path):
    """Besides Alembic's own table, only the search index is not a model: on SQLite an FTS5 table and the shadow
    tables FTS5 keeps for it, which SQLite lists as tables; they are named exactly, so no other table hides."""
    from sqlalchemy import inspect

    from sync.ledger import store
    from sync.ledger.search import SEARCH_TABLES

    engine = store.make_engine(f"sqlite:///{tmp_path / 'schema.db'}")
    store.migrate(engine)
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    engine.dispose()
    assert SEARCH_TABLES <= tables
    assert tables - SEARCH_TABLES == set(store.Base.metadata.tables)


MODULE_LINES = 600


def test_no_module_is_longer_than_a_reader_holds():
    """A module over 600 lines is split into a package along its seams (as ``minutes/``, ``table/`` and
    ``report/`` were); generated migrations are exempt."""
    long = {module: lines for module, path in MODULES.items() if "migrations" not in module
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MODULE_LINES}
    assert long == {}


TRACKER_BRANCH = re.compile(r"""(==|!=)\s*["'](jira|github)["']|["'](jira|github)["']\s*(==|!=)""")


def test_tracker_choices_stay_behind_the_adapter_contract():
    """``sync`` asks the adapter or the tracker settings; only the composition root picks the adapter by kind."""
    branches = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
                for module, path in sorted(MODULES.items()) if module.startswith("sync.") and module != "sync.runtime"
                and "migrations" not in module
                for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if TRACKER_BRANCH.search(line)]
    assert branches == []
