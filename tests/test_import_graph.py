"""No import circles in the package: data flows one way (receiver → sync state → drainer → plan per kind →
transport), and a module that imports upward, even inside a function, breaks it. Importing ``a.b.c`` runs
``a/b/__init__.py`` first, so an import also reaches the packages above the module it names."""
import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

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
    imports, at the top or inside a function, and the packages above each imported module that importing it runs
    (``from a.b.c import x`` runs ``a/b/__init__.py``), but for the importing module's own packages (they are
    running already) and the top package (its ``__init__`` imports the package's modules only in ``ready()``)."""
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
        imported.update(".".join(other.split(".")[:end]) for other in list(imported)
                        for end in range(2, len(other.split("."))))
        graph[name] = {other for other in imported
                       if other in paths and other != name and not name.startswith(other + ".")}
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


def test_a_circle_through_a_package_init_is_found(tmp_path):
    """``links`` imports ``sync.kinds.fields``, which runs ``sync/kinds/__init__.py``, which imports ``kinds.cart``,
    which imports ``links``: a fresh interpreter importing ``links`` first fails (review aud10)."""
    package = tmp_path / "planted"
    (package / "sync" / "kinds").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sync" / "__init__.py").write_text("")
    (package / "sync" / "kinds" / "__init__.py").write_text("from planted.sync.kinds import cart\n")
    (package / "sync" / "kinds" / "fields.py").write_text("")
    (package / "sync" / "kinds" / "cart.py").write_text("from planted.links import restore_url\n"
                                                        "from planted.sync.kinds import fields\n")
    (package / "links.py").write_text("from planted.sync.kinds.fields import url\n")
    graph = import_graph(package)
    assert graph["planted.links"] == {"planted.sync", "planted.sync.kinds", "planted.sync.kinds.fields"}
    assert graph["planted.sync.kinds.cart"] == {"planted.links", "planted.sync.kinds.fields"}
    assert circles(graph) == [["planted.links", "planted.sync.kinds", "planted.sync.kinds.cart", "planted.links"]]


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


#: Run in one subprocess after ``django.setup()`` (which imports the app's modules in ``ready()``'s order): for
#: each module named in argv, a forked child (a fresh copy of the set-up interpreter, cheap) forgets every module of
#: the package but the models and the package itself, then imports that module first; the child's exit status is
#: printed.
IMPORT_FIRST = """
import importlib, os, sys, traceback
import django
django.setup()
for module in sys.argv[1:]:
    pid = os.fork()
    if not pid:
        code = 0
        try:
            for name in [name for name in sys.modules if name.startswith("shoop_mailchimp.")
                         and not name.startswith("shoop_mailchimp.models")]:
                del sys.modules[name]
            importlib.import_module(module)
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    print("IMPORTED" if os.waitpid(pid, 0)[1] == 0 else "FAILED", module, flush=True)
"""


def run_import_first(modules):
    root = str(Path(__file__).resolve().parent.parent)
    env = dict(os.environ, PYTHONPATH=root, DJANGO_SETTINGS_MODULE="tests.settings")
    done = subprocess.run([sys.executable, "-c", IMPORT_FIRST] + list(modules), cwd=root, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
    output = done.stdout.decode()
    assert done.returncode == 0, output[-2000:]
    return output


@pytest.mark.skipif(not hasattr(os, "fork"), reason="each module is imported in a forked child")
def test_every_module_imports_first_in_a_fresh_interpreter():
    """Each module of the package imported before any other of it (but the models, which django.setup() needs):
    ``cart_links`` or ``merge_field_setup`` imported first failed with "cannot import name ... from partially
    initialized module" while a package ``__init__`` closed a circle (review aud10)."""
    modules = sorted(name for name in import_graph() if not name.startswith("shoop_mailchimp.models")) + [
        "shoop_mailchimp.models"]
    output = run_import_first(modules)
    imported = {line.split()[1] for line in output.splitlines() if line.startswith("IMPORTED ")}
    assert set(modules) - imported == set(), output[-4000:]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="each module is imported in a forked child")
def test_importing_first_sees_a_module_that_fails():
    """The check above can fail: a module that does not import is reported."""
    output = run_import_first(["shoop_mailchimp.cart_links", "shoop_mailchimp.no_such_module"])
    assert "IMPORTED shoop_mailchimp.cart_links" in output
    assert "FAILED shoop_mailchimp.no_such_module" in output
