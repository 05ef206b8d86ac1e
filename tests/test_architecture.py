"""The layer map of docs/architecture.md, enforced: imports point down, and no module cycles.

Every import of a paperfeed module counts, at the top of a file or inside a function (a lazy
import is still a dependency); only imports under `if TYPE_CHECKING:` are left out of the cycle
check, since they never run, but they must still point down.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "paperfeed"

# Low to high. A module may import its own package and any package on a lower level, never one
# on its own level or above. Keep in step with the map in docs/architecture.md.
LAYERS = (
    ("errors",),
    ("models", "config", "interrupts"),
    ("storage",),
    ("ingest", "search", "mail", "picks"),
    ("catalog",),
    ("trending", "accounts"),
    ("digest",),
    ("services",),
    ("status", "worker"),
    ("web",),
    ("cli",),
    ("__main__",),
)
LEVEL = {name: level for level, names in enumerate(LAYERS) for name in names}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_type_checking_block(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def imports_of(path: Path) -> list[tuple[str, bool]]:
    """(module imported, whether it runs) for every paperfeed import in the file."""
    name = module_name(path)
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: list[tuple[str, bool]] = []

    def visit(node: ast.AST, runs: bool) -> None:
        for child in ast.iter_child_nodes(node):
            child_runs = runs and not is_type_checking_block(child)
            if isinstance(child, ast.Import):
                found.extend((a.name, runs) for a in child.names if a.name.startswith("paperfeed"))
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    prefix = package[: len(package) - child.level + 1]
                    base = ".".join([*prefix, base] if base else prefix)
                if base.startswith("paperfeed"):
                    found.append((base, runs))
                    for alias in child.names:  # `from paperfeed.mail import outbox`
                        if (
                            (PACKAGE.parent / (base + "." + alias.name).replace(".", "/"))
                            .with_suffix(".py")
                            .exists()
                        ):
                            found.append((f"{base}.{alias.name}", runs))
            visit(child, child_runs)

    visit(ast.parse(path.read_text()), True)
    return found


def top_level(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def sources() -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts]


def test_every_package_has_a_place_on_the_map():
    packages = {top_level(module_name(p)) for p in sources()} - {""}
    assert packages - set(LEVEL) == set(), "add the new package to LAYERS and the docs' map"


def test_imports_point_down():
    upward = []
    for path in sources():
        here = top_level(module_name(path))
        for target, _ in imports_of(path):
            there = top_level(target)
            if here and there and here != there and LEVEL[there] >= LEVEL[here]:
                upward.append(f"{module_name(path)} imports {target}")
    assert upward == []


def test_no_module_imports_itself_through_others():
    graph: dict[str, set[str]] = {}
    for path in sources():
        name = module_name(path)
        graph[name] = {t for t, runs in imports_of(path) if runs and t != name}
    cycles = [sorted(c) for c in strongly_connected(graph) if len(c) > 1]
    assert cycles == []


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iteratively (deep import chains would overflow recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(graph.get(start, ())))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in graph:
                    continue  # a package's __init__ or a name that is not a module
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                found.append(component)
    return found
