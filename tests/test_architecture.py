"""The package's import graph: no cycles (imports inside functions count) and data flows one way.

The graph is built from the source (``ast``), not by importing, so an import inside a function,
under ``if TYPE_CHECKING:`` or in a branch that a test never takes is an edge like any other.
Imports of other packages (jax, torch, ray, gemmi) are not edges: lazy imports of optional extras are fine.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

#: Which top-level part of biolens may import which (besides itself). The layers, bottom up:
#: ``_version``; ``core`` (knows no domain) and ``data`` (the shipped samples and weights);
#: ``report`` and ``interpret`` (take arrays and callables, know no domain); the domains
#: (``proteins``, ``dna``, ``graphs``, ``structure``: never one another); ``distributed`` (runs
#: protein embedding and benchmark cells on Ray); ``benchmark``; and on top ``_api``
#: (``biolens.embed``), ``cli``, the package itself (its lazy re-exports) and ``__main__``.
_TOOLKIT = {"_version", "core", "data", "report", "interpret"}
ALLOWED: dict[str, set[str]] = {
    "_version": set(),
    "core": {"_version"},
    "data": {"core"},
    "report": {"_version", "core"},
    "interpret": {"core", "report"},
    "proteins": _TOOLKIT,
    "dna": _TOOLKIT,
    "graphs": _TOOLKIT,
    "structure": _TOOLKIT,
    "distributed": _TOOLKIT | {"proteins"},
    "benchmark": _TOOLKIT | {"proteins", "distributed"},
    "_api": _TOOLKIT | {"proteins", "distributed"},
    "cli": _TOOLKIT | {"proteins", "dna", "graphs", "structure", "distributed", "benchmark"},
    "": {"_version", "_api", "proteins"},  # biolens/__init__.py
    "__main__": {"cli"},
}

#: Inside ``proteins`` (same rule, one level down): ``tasks`` (loaders, the task-kind table) and
#: ``encoders`` (the contract, pooling, the registry and one subpackage per family) at the bottom;
#: ``embed`` (the driver over an encoder and the store); ``supervised`` (config, heads, model,
#: evaluate, splits, run, predictor, report); ``lm`` (scoring, mutations, maps, pretraining, which
#: reuses the supervised splits); ``proteins/__init__`` re-exports the public names of all of them.
PROTEIN_LAYERS: dict[str, set[str]] = {
    "tasks": set(),
    "encoders": set(),
    "embed": {"encoders"},
    "supervised": {"encoders", "embed", "tasks"},
    "lm": {"encoders", "embed", "tasks", "supervised"},
    "run": {"supervised"},  # the deprecated alias module of the old import path
    "": {"tasks", "encoders", "embed", "supervised", "lm"},  # biolens/proteins/__init__.py
}


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    where: str  # path:line of the import statement


def _modules(src: Path, package: str) -> dict[str, tuple[Path, bool]]:
    out = {}
    for path in sorted((src / package).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def _known(name: str, modules: dict) -> str | None:
    """The module ``name`` refers to: itself, or the longest enclosing package/module that exists."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool, modules: dict,
             package: str) -> list[str]:
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names if a.name.split(".")[0] == package]
        return [t for t in (_known(n, modules) for n in names) if t]
    if node.level:  # relative: resolved against this module's package
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        absolute = ".".join(base + ([node.module] if node.module else []))
    else:
        absolute = node.module or ""
    if absolute.split(".")[0] != package:
        return []
    # `from .x import y`: y is the submodule x.y when there is one, else a name in x
    found = [f"{absolute}.{a.name}" if f"{absolute}.{a.name}" in modules else _known(absolute, modules)
             for a in node.names]
    return [t for t in found if t]


def import_graph(src: Path, package: str = "biolens") -> dict[str, list[Edge]]:
    """Every module of ``package`` under ``src`` -> its imports of the package's modules, at any depth."""
    modules = _modules(src, package)
    graph: dict[str, list[Edge]] = {}
    for module, (path, is_package) in modules.items():
        edges = []
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in _targets(node, module, is_package, modules, package):
                    edge = Edge(module, target, f"{path.relative_to(src)}:{node.lineno}")
                    if target != module and edge not in edges:
                        edges.append(edge)
        graph[module] = edges
    return graph


def find_cycles(graph: dict[str, list[Edge]]) -> list[list[Edge]]:
    """One cycle (as its edges) per strongly connected component of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []

    def visit(v: str) -> None:  # Tarjan; the graph has ~150 nodes, recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for e in graph[v]:
            if e.target not in index:
                visit(e.target)
                low[v] = min(low[v], low[e.target])
            elif e.target in on_stack:
                low[v] = min(low[v], index[e.target])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return [_cycle_in(graph, c) for c in components]


def _cycle_in(graph: dict[str, list[Edge]], component: set[str]) -> list[Edge]:
    """A shortest cycle through the component's first module (breadth-first back to it)."""
    start = min(component)
    paths: dict[str, list[Edge]] = {start: []}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for e in graph[v]:
                if e.target == start:
                    return [*paths[v], e]
                if e.target in component and e.target not in paths:
                    paths[e.target] = [*paths[v], e]
                    nxt.append(e.target)
        frontier = nxt
    raise AssertionError(f"no cycle through {start}")  # cannot happen in a component


def _part(module: str, depth: int = 1) -> str:
    parts = module.split(".")
    return parts[depth] if len(parts) > depth else ""


def layer_violations(graph: dict[str, list[Edge]], allowed: dict[str, set[str]], within: str = "") -> list[str]:
    """Edges against ``allowed`` among the parts of ``within`` (a package; the top level by default)."""
    depth = within.count(".") + 1 if within else 1
    inside = (lambda m: m == within or m.startswith(within + ".")) if within else (lambda m: True)
    out = []
    for edges in graph.values():
        for e in edges:
            if not (inside(e.source) and inside(e.target)):
                continue
            a, b = _part(e.source, depth), _part(e.target, depth)
            top = within or "biolens"
            if a not in allowed:
                out.append(f"{e.where}: {top}.{a} is not in the layer table")
            elif a != b and b not in allowed[a]:
                out.append(f"{e.where}: {e.source} imports {e.target} ({a or top} may import "
                           f"{sorted(allowed[a]) or f'nothing of {top}'})")
    return sorted(out)


def private_imports(graph: dict[str, list[Edge]]) -> list[str]:
    """Imports of a private ``_x`` module from outside the top-level part that holds it (callers
    outside a package use the names its ``__init__`` re-exports)."""
    out = []
    for edges in graph.values():
        for e in edges:
            parts = e.target.split(".")
            private = [i for i, p in enumerate(parts[1:], 1) if p.startswith("_") and not p.startswith("__")]
            if private and private[0] > 1 and _part(e.source) != _part(e.target):
                out.append(f"{e.where}: {e.source} imports the private {e.target}")
    return sorted(out)


def _show(cycle: list[Edge]) -> str:
    return " -> ".join(e.source for e in cycle) + f" -> {cycle[0].source}\n" + "\n".join(
        f"    {e.where}: {e.source} imports {e.target}" for e in cycle)


@pytest.fixture(scope="module")
def graph() -> dict[str, list[Edge]]:
    return import_graph(SRC)


def test_no_import_cycles(graph):
    cycles = find_cycles(graph)
    assert not cycles, "import cycles (cut them by moving the shared piece down a layer):\n" + "\n".join(
        _show(c) for c in cycles)


def test_data_flows_one_way(graph):
    problems = layer_violations(graph, ALLOWED)
    assert not problems, "imports against the layer table:\n" + "\n".join(problems)


def test_proteins_subpackages_flow_one_way(graph):
    problems = layer_violations(graph, PROTEIN_LAYERS, within="biolens.proteins")
    assert not problems, "imports against the proteins layer table:\n" + "\n".join(problems)
    parts = {_part(m, 2) for m in graph if m.startswith("biolens.proteins.")}
    assert parts == set(PROTEIN_LAYERS) - {""}, "a proteins subpackage is missing from PROTEIN_LAYERS"


def test_private_modules_stay_inside_their_part(graph):
    problems = private_imports(graph)
    assert not problems, "import the package's re-exported names instead:\n" + "\n".join(problems)


def test_graph_sees_every_part_and_function_level_imports(graph):
    assert {_part(m) for m in graph} == set(ALLOWED)
    # a real function-level import of an extra-free module: biolens.__getattr__ loads _api lazily
    assert any(e.target == "biolens._api" for e in graph["biolens"])


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)


def test_a_cycle_through_a_function_level_relative_import_is_found(tmp_path):
    _write(tmp_path, {
        "pkg/__init__.py": "",
        "pkg/core/__init__.py": "",
        "pkg/core/a.py": "from . import b\n",
        "pkg/core/b.py": "import json\n\ndef f():\n    from ..dom.c import g\n    import torch\n",
        "pkg/dom/__init__.py": "",
        "pkg/dom/c.py": "from ..core.a import x\n\ndef g():\n    pass\n",
    })
    g = import_graph(tmp_path, "pkg")
    (cycle,) = find_cycles(g)
    assert [e.source for e in cycle] == ["pkg.core.a", "pkg.core.b", "pkg.dom.c"]
    assert cycle[1].where == str(Path("pkg/core/b.py")) + ":4"
    g["pkg.dom.c"].append(Edge("pkg.dom.c", "pkg.core._hidden", "pkg/dom/c.py:9"))
    assert private_imports(g) == ["pkg/dom/c.py:9: pkg.dom.c imports the private pkg.core._hidden"]
    problems = layer_violations({k: v for k, v in g.items() if k != "pkg"}, {"core": set(), "dom": {"core"}})
    assert problems == [f"{Path('pkg/core/b.py')}:4: pkg.core.b imports pkg.dom.c (core may import nothing of biolens)"]
    inner = {"pkg.dom.a.m": [Edge("pkg.dom.a.m", "pkg.dom.b.n", "m.py:1"), Edge("pkg.dom.a.m", "pkg.core.a", "m.py:2")],
             "pkg.dom.b.n": [Edge("pkg.dom.b.n", "pkg.dom.a.m", "n.py:1")]}
    assert layer_violations(inner, {"a": set(), "b": {"a"}}, within="pkg.dom") == [
        "m.py:1: pkg.dom.a.m imports pkg.dom.b.n (a may import nothing of pkg.dom)"]


#: Packages whose modules keep plain names (docs/architecture.md, "Layout and naming"), and the one
#: module kept under its old public name as a deprecated alias.
PLAIN_NAMES = {"core", "cli"}
DEPRECATED_ALIASES = {"proteins/run.py"}


def test_one_module_naming_convention():
    """Outside core/ and cli/, every module is private (``_x.py``) behind its package's ``__init__``,
    which lists its public names in ``__all__``."""
    root = SRC / "biolens"
    plain, no_all = [], []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if len(rel.parts) < 2 or rel.parts[0] in PLAIN_NAMES:
            continue
        if path.name == "__init__.py":
            tree = ast.parse(path.read_text())
            reexports = any(isinstance(n, ast.ImportFrom) and n.level > 0 for n in tree.body)
            names = {t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)}
            if reexports and "__all__" not in names:
                no_all.append(str(rel))
        elif not path.name.startswith("_") and rel.as_posix() not in DEPRECATED_ALIASES:
            plain.append(str(rel))
    assert not plain, f"public module names outside {sorted(PLAIN_NAMES)}: {plain}"
    assert not no_all, f"packages re-exporting names without __all__: {no_all}"
