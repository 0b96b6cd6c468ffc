"""The shape of domain/ (issue 14, "no knot in domain/"): read from the source with `ast`, so
that an import inside a function counts as much as one at the top of a module."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOMAIN = ROOT / "domain"
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(folder: Path) -> dict[str, Path]:
    return {module_name(p): p for p in sorted(folder.rglob("*.py"))}


def imported(path: Path, name: str) -> list[tuple[str, int]]:
    """Every name imported anywhere in the module (module level, functions, classes), as absolute
    dotted names: `from a.b import c` gives a.b and a.b.c (c may be a module). With the line."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            out.append((base, node.lineno))
            out += [(f"{base}.{alias.name}", node.lineno) for alias in node.names]
    return out


def import_graph() -> dict[str, dict[str, int]]:
    """domain module → {domain module it imports: line}. Importing a.b.c from outside package a.b
    also runs a.b's __init__ (and a's): those count as imported too."""
    known = modules(DOMAIN)
    graph = {}
    for name, path in known.items():
        edges = {}
        for target, line in imported(path, name):
            while target and target not in known:
                target = target.rpartition(".")[0]
            while target:
                if target != name and not name.startswith(target + "."):
                    edges.setdefault(target, line)
                target = target.rpartition(".")[0] if target.count(".") > 1 else ""
        graph[name] = edges
    return graph


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def describe(graph, component) -> str:
    lines = [" ↔ ".join(component)]
    for a in component:
        lines += [f"  {a} imports {b} (line {line})" for b, line in graph[a].items() if b in component]
    return "\n".join(lines)


def test_no_import_circle_among_domain_modules():
    graph = import_graph()
    assert "domain.workflow.core" in graph and graph["domain.clocks"], "the graph reads the modules"
    found = cycles(graph)
    assert not found, "import circles in domain/:\n" + "\n".join(describe(graph, c) for c in found)


def test_the_cycle_finder_sees_imports_inside_functions(tmp_path):
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3}, "d": {"a": 4}}
    assert cycles(graph) == [["a", "b", "c"]]
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from domain import settings\n    from .clocks import start\n")
    assert imported(source, "domain.m") == [("domain", 2), ("domain.settings", 2), ("domain.clocks", 3),
                                            ("domain.clocks.start", 3)]


def test_domain_does_not_import_flask():
    """Rules are pure: the web layer passes what they need (now, a base URL, a translator)."""
    found = [f"{name} line {line}: {target}" for name, path in modules(DOMAIN).items()
             for target, line in imported(path, name)
             if target.split(".")[0] == "flask" or target.startswith(("flask_", "werkzeug"))]
    assert not found, found


def test_no_module_uses_another_module_s_private_names():
    """What two modules share is public in one of them; `from domain.x import _y` and `x._y(…)`
    tie a caller to another module's insides."""
    known = modules(DOMAIN)
    sources = [p for folder in ("domain", "blueprints", "jobs") for p in (ROOT / folder).rglob("*.py")]
    sources += [ROOT / "cli.py", ROOT / "demo.py", ROOT / "app.py"]
    found = []
    for path in sources:
        name = module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = set()     # local names bound to domain modules
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("domain"):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__") \
                            and not name.startswith(node.module + "."):
                        found.append(f"{path.relative_to(ROOT)}:{node.lineno} from {node.module} import {alias.name}")
                    if f"{node.module}.{alias.name}" in known:
                        aliases.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                aliases |= {a.asname for a in node.names if a.name in known and a.asname}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value.id}.{node.attr}")
    assert not found, "private names used from another module:\n" + "\n".join(found)


def test_no_domain_file_is_longer_than_400_lines():
    long = {name: n for name, path in modules(DOMAIN).items()
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, long


def test_the_company_time_zone_has_one_reader():
    """Screens, Babel, jobs, the CLI, the demo and the rules ask domain.settings.company_tz; no one
    else builds the zone from the configuration or the environment."""
    sources = [p for folder in ("domain", "blueprints", "jobs") for p in (ROOT / folder).rglob("*.py")]
    sources += [ROOT / "app.py", ROOT / "cli.py", ROOT / "demo.py"]
    found = []
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "ZoneInfo":
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert len(found) == 1 and found[0].startswith("domain/settings.py:"), found
