"""No import circles in the package: data flows one way (receiver → sync state → drainer → plan per kind →
transport), and a module that imports upward, even inside a function, breaks it."""
import ast
from pathlib import Path

import shoop_mailchimp

PACKAGE = Path(shoop_mailchimp.__file__).parent


def module_name(path, root=PACKAGE):
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def absolute(node, name, is_package):
    """The module an ``import from`` names, a relative one (``from .state import x``, ``from .. import y``) resolved
    against the importing module ``name``."""
    if not node.level:
        return node.module or ""
    package = name.split(".") if is_package else name.split(".")[:-1]
    base = package[:len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph(root=PACKAGE):
    """{module: modules of the package it imports}, migrations and the test emulator left out: absolute and relative
    imports, at the top or inside a function."""
    top = root.name
    paths = {module_name(path, root): path for path in root.rglob("*.py")
             if not {"migrations", "testing"} & set(path.relative_to(root).parts)}
    graph = {}
    for name, path in paths.items():
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                module = absolute(node, name, path.name == "__init__.py")
                if module == top or module.startswith(top + "."):
                    imported.update(module + "." + alias.name if module + "." + alias.name in paths
                                    else module for alias in node.names)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names if alias.name in paths)
        graph[name] = {other for other in imported if other in paths and other != name}
    return graph


def circles(graph):
    """Each import path that comes back to a module on it."""
    found, done = [], set()

    def visit(name, path):
        for other in sorted(graph[name]):
            if other in path:
                found.append(path[path.index(other):] + [other])
            elif other not in done:
                visit(other, path + [other])
        done.add(name)

    for name in sorted(graph):
        if name not in done:
            visit(name, [name])
    return found


def test_the_package_has_no_import_circles():
    graph = import_graph()
    assert "shoop_mailchimp.sync.state" in graph["shoop_mailchimp.sync.bulk"]  # the graph is read at all
    assert circles(graph) == []


def test_a_circle_is_found():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]


def test_a_circle_through_relative_imports_is_found(tmp_path):
    """A planted package: ``queue`` imports ``delivery`` relatively, ``delivery`` imports ``worker`` inside a
    function, ``worker`` imports ``queue`` from its parent package."""
    package = tmp_path / "planted"
    (package / "sync").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sync" / "__init__.py").write_text("from . import queue\n")
    (package / "sync" / "queue.py").write_text("from .delivery import schedule\n")
    (package / "sync" / "delivery.py").write_text("def schedule():\n    from planted.sync import worker\n")
    (package / "worker.py").write_text("")
    (package / "sync" / "worker.py").write_text("from ..sync.queue import record\nfrom .. import worker\n")
    graph = import_graph(package)
    assert graph["planted.sync"] == {"planted.sync.queue"}
    assert graph["planted.sync.worker"] == {"planted.sync.queue", "planted.worker"}
    assert circles(graph) == [["planted.sync.queue", "planted.sync.delivery", "planted.sync.worker",
                               "planted.sync.queue"]]
