"""No import circles in the package: data flows one way (receiver → sync state → drainer → plan per kind →
transport), and a module that imports upward, even inside a function, breaks it."""
import ast
from pathlib import Path

import shoop_mailchimp

PACKAGE = Path(shoop_mailchimp.__file__).parent


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph():
    """{module: modules of the package it imports}, migrations and the test emulator left out."""
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")
             if not {"migrations", "testing"} & set(path.relative_to(PACKAGE).parts)}
    graph = {}
    for name, path in paths.items():
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("shoop_mailchimp"):
                imported.update(node.module + "." + alias.name if node.module + "." + alias.name in paths
                                else node.module for alias in node.names)
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
