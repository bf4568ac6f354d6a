"""The arrows of docs/architecture.md: which room may import which, read from the source (imports inside
functions included)."""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HTTP = ("fastapi", "starlette", "uvicorn", "jinja2", "typer")
# What the store may use besides itself: SPARQL text facts, the personal-data rules, the vocabulary, and the
# derived graphs it installs.
STORE_MAY_IMPORT = (
    "api.store",
    "api.sparql_text",
    "api.sparql_binding",
    "api.personal_data",
    "api.derived",
    "loaders.vocab",
)


@functools.cache
def modules(*, top_level_only: bool = False) -> dict[str, set[str]]:
    """Every module of api/, loaders/ and suggest/ with the modules it imports (`from a import b` names a.b too);
    `top_level_only`: the imports run when the module is imported, not those inside functions."""
    found: dict[str, set[str]] = {}
    for package in ("api", "loaders", "suggest"):
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            imported: set[str] = set()
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in tree.body if top_level_only else ast.walk(tree):
                if isinstance(node, ast.Import):
                    imported |= {alias.name for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module:
                    imported |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
            found[name] = imported
    return found


def within(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def offending(room: str, allowed) -> list[str]:
    return sorted(
        f"{module} imports {name}"
        for module, imported in modules().items()
        if within(module, room)
        for name in imported
        if not allowed(name)
    )


def test_loaders_import_neither_the_service_nor_the_suggestions():
    assert offending("loaders", lambda name: not within(name, "api", "suggest")) == []


def test_the_suggestion_engine_does_not_import_the_service():
    assert offending("suggest", lambda name: not within(name, "api")) == []


def test_the_store_imports_nothing_of_http_and_only_its_few_helpers_of_the_service():
    def allowed(name: str) -> bool:
        # `from api import derived` names the package `api` too.
        service = within(name, "api") and name != "api"
        return not within(name, *HTTP) and (not service or within(name, *STORE_MAY_IMPORT))

    assert offending("api.store", allowed) == []


@pytest.mark.parametrize(
    ("module", "forbidden"),
    [
        ("api.store.base", ("api.store.embedded", "api.store.remote", "api.store.virtuoso_dialect")),
        ("api.store.embedded", ("api.store.remote", "api.store.virtuoso_dialect")),
        ("api.store.remote", ("api.store.embedded",)),
        ("api.store.virtuoso_dialect", ("api.store.embedded", "api.store.remote")),
    ],
)
def test_the_store_modules_import_each_other_one_way_only(module, forbidden):
    imported = modules()[module]
    # `from api.store import x` runs the package's __init__, which imports both implementations.
    assert sorted(name for name in imported if within(name, *forbidden) or name == "api.store") == []


def test_outside_the_store_only_the_package_is_imported_not_its_modules():
    inner = ("api.store.base", "api.store.embedded", "api.store.remote", "api.store.virtuoso_dialect")
    found = [
        f"{module} imports {name}"
        for module, imported in modules().items()
        # api.derived belongs to the store's writes: open_store installs it, so it may not import the package.
        if not within(module, "api.store", "api.derived")
        for name in imported
        if within(name, *inner)
    ]
    assert sorted(found) == []


def test_importing_the_store_loads_no_web_framework():
    code = "import sys, api.store; print(sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"


def test_no_module_imports_itself_back_when_it_is_imported():
    graph = modules(top_level_only=True)
    graph = {
        module: {name for name in imported if name in graph and name != module} for module, imported in graph.items()
    }

    def reached(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for name in graph[todo.pop()] - seen:
                seen.add(name)
                todo.append(name)
        return seen

    assert sorted(module for module in graph if module in reached(module)) == []
