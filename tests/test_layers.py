"""STYLE.md's import arrows, executable: who may import whom, no circles, no hidden imports.

The walk reads the source with ``ast`` (nothing is imported), counts imports inside functions as
well as at the top, and resolves ``from package import module`` to the module. The table:

    app/                    -> app only (create_app registers the domain packages by name)
    billing/                -> app only: knows organisations, amounts and references, not leads
    verification/rules/     -> nothing of ours: pure functions
    marketplace/            -> app, billing's facade, verification's rules
    verification/ workflow  -> app, billing's facade, marketplace's facade, verification's rules
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("app", "marketplace", "verification", "billing")
# What one package may see of another: its facade modules and their leaves.
FACADE = ("services", "queries", "signals", "errors", "schemas")
# Functions whose imports register a package's parts with the app: the one place imports of our
# own modules inside a function are allowed, because they run once, at start-up, by design.
REGISTRATION_FUNCTIONS = ("init_app", "create_app", "register_blueprints", "register_extensions",
                          "register_errors", "register_commands")  # fmt: skip


@dataclass(frozen=True)
class Import:
    source: str  # importing module, dotted
    target: str  # imported module of ours, dotted
    line: int
    in_function: str | None  # the enclosing function's name, None at module level


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def our_sources() -> dict[str, tuple[str, bool]]:
    """Every module of the four packages: name -> (source, is_package)."""
    sources = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            sources[module_name(path)] = (path.read_text(), path.name == "__init__.py")
    return sources


def _resolve(base: str, name: str | None, level: int, is_package: bool) -> str:
    if level == 0:
        return name or ""
    parts = base.split(".")
    if not is_package:
        parts.pop()
    parts = parts[: len(parts) - (level - 1)]
    return ".".join([*parts, name] if name else parts)


def imports_of(name: str, source: str, is_package: bool, modules: set[str]) -> list[Import]:
    """The imports of our modules that ``source`` makes, each resolved to the module it loads."""
    found: list[Import] = []

    def ours(target: str) -> bool:
        return target.split(".")[0] in PACKAGES

    def visit(node: ast.AST, function: str | None) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                visit(child, function or child.name)
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if ours(alias.name):
                        found.append(Import(name, alias.name, child.lineno, function))
            elif isinstance(child, ast.ImportFrom):
                base = _resolve(name, child.module, child.level, is_package)
                if not ours(base):
                    continue
                for alias in child.names:
                    candidate = f"{base}.{alias.name}"
                    target = candidate if candidate in modules else base
                    found.append(Import(name, target, child.lineno, function))
            visit(child, function)

    visit(ast.parse(source), None)
    return found


def all_imports(sources: dict[str, tuple[str, bool]]) -> list[Import]:
    modules = set(sources)
    result = []
    for name, (source, is_package) in sources.items():
        result.extend(imports_of(name, source, is_package, modules))
    return result


def _within(target: str, prefix: str) -> bool:
    return target == prefix or target.startswith(prefix + ".")


def _facade_of(target: str, package: str) -> bool:
    """``target`` is ``package``'s facade (its services, queries, signals, errors, schemas)."""
    return any(_within(target, f"{package}.{name}") for name in FACADE)


def allowed(source: str, target: str) -> bool:
    """Whether STYLE's table lets ``source`` import ``target`` (both dotted module names)."""
    if target.split(".")[0] == source.split(".")[0] and not _within(source, "verification.rules"):
        return True  # inside one package (the rules are stricter, below)
    if _within(target, "app"):
        return not _within(source, "verification.rules")
    if _within(source, "verification.rules"):
        return _within(target, "verification.rules")
    if _within(source, "app") or _within(source, "billing"):
        return False
    if _within(source, "marketplace"):
        return _facade_of(target, "billing") or _within(target, "verification.rules")
    if _within(source, "verification"):
        return (
            _facade_of(target, "billing")
            or _facade_of(target, "marketplace")
            or _within(target, "verification.rules")
        )
    return False


def layer_violations(sources: dict[str, tuple[str, bool]]) -> list[str]:
    return [
        f"{i.source} (line {i.line}) imports {i.target}"
        for i in all_imports(sources)
        if not allowed(i.source, i.target)
    ]


def cycles(sources: dict[str, tuple[str, bool]]) -> list[list[str]]:
    """Strongly connected components of more than one module (or a module importing itself)."""
    graph: dict[str, set[str]] = {name: set() for name in sources}
    for i in all_imports(sources):
        if i.target in graph:
            graph[i.source].add(i.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def connect(node: str) -> None:  # Tarjan, iterative enough for a tree of this size
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph[node]:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def hidden_imports(sources: dict[str, tuple[str, bool]]) -> list[str]:
    """Imports of our modules inside functions, other than start-up registration."""
    result = []
    for i in all_imports(sources):
        if i.in_function is None:
            continue
        if sources[i.source][1] and i.in_function in REGISTRATION_FUNCTIONS:
            continue
        result.append(f"{i.source} (line {i.line}, in {i.in_function}) imports {i.target}")
    return result


@pytest.fixture(scope="module")
def sources():
    return our_sources()


def _only(sources, prefix: str) -> list[str]:
    return [v for v in layer_violations(sources) if _within(v.split(" ")[0], prefix)]


def test_app_imports_no_domain_package(sources):
    assert _only(sources, "app") == []


def test_billing_never_imports_a_lead(sources):
    assert _only(sources, "billing") == []


def test_verification_rules_import_nothing_of_ours(sources):
    assert _only(sources, "verification.rules") == []


def test_marketplace_reaches_billing_only_through_its_facade_and_verification_only_by_rules(
    sources,
):
    assert _only(sources, "marketplace") == []


def test_verification_workflow_reaches_lower_packages_only_through_their_facades(sources):
    assert _only(sources, "verification") == []


def test_the_import_graph_has_no_circle(sources):
    assert cycles(sources) == []


def test_no_module_of_ours_is_imported_inside_a_function_but_at_registration(sources):
    assert hidden_imports(sources) == []


def test_an_intake_module_importing_the_spot_check_workflow_is_caught(sources):
    """The acceptance check of the structure issue, kept as a test of the test."""
    planted = dict(sources)
    planted["marketplace.intake.planted"] = ("from verification import services\n", False)
    violations = layer_violations(planted)
    assert "marketplace.intake.planted (line 1) imports verification.services" in violations


def test_a_circle_and_a_hidden_import_are_caught():
    planted = {
        "billing.a": ("from billing import b\n", False),
        "billing.b": ("def f():\n    from billing import a\n", False),
    }
    assert cycles(planted) == [["billing.a", "billing.b"]]
    assert hidden_imports(planted) == ["billing.b (line 2, in f) imports billing.a"]
    assert layer_violations({"billing.c": ("import marketplace.models\n", False)}) == [
        "billing.c (line 1) imports marketplace.models"
    ]
